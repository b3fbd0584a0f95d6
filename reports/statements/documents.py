"""The statement and letter documents: what each one says (`statement_content`, frozen on the
Statement when it is produced) and how it prints (HTML with print CSS, rendered by WeasyPrint).

Minimum necessary (45 CFR 164.502(b)): a document carries only the fields its purpose needs. A
statement names the guarantor, each patient whose visits it lists, the account numbers, dates of
service, procedure codes with plain descriptions, and money; never a date of birth, a diagnosis,
an SSN, a medical record number or an insurance member id. A letter carries less: the account,
the patient's name and the balance, plus what its own purpose needs (a plan's schedule, the date
of death on a claim against the estate).

Printing: one WeasyPrint render of any number of documents (`render_statements_pdf`), each
starting on a new page, numbered from 1 within itself (a CSS page group per document), with the
page count of each read from where its anchor first appears. The stylesheet is parsed once per
process and nothing is fetched: no URLs, system fonts only (DejaVu Sans), so a batch of a thousand
statements costs WeasyPrint's own layout time and little more.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template
from django.utils.html import escape

from accounts.aging import BUCKET_LABELS, aging_from_nets
from accounts.models import ChargeLine, Encounter, Guarantor, PatientAccount, Transaction
from accounts.money import CENT, ZERO
from collections_app.agencies.rules import FINAL_NOTICE_WAIT_DAYS, RULE_501R_NOTICE_DAYS
from collections_app.models import AccountHold, BillingInquiry
from payment_plans.models import Installment, PaymentPlan
from reports.models import Statement

Kind = Statement.Kind
Recipient = Statement.Recipient
TxKind = Transaction.Kind

CONTENT_VERSION = 1
# A statement or letter produced without a pay-by date asks for payment within this many days.
PAY_BY_DAYS = 21
# 26 CFR 1.501(r)-1(b)(3): the application period for financial assistance runs at least 240
# days from the first post-discharge (here: post-service) billing statement.
FAP_APPLICATION_DAYS = 240

TEMPLATE_DIR = "reports/documents"
PRINT_CSS = Path(settings.BASE_DIR) / "templates" / TEMPLATE_DIR / "print.css"

LETTER_KINDS = frozenset(Kind.values) - {Kind.STATEMENT}
DUNNING_LEVELS = {Kind.DUNNING_30: 1, Kind.DUNNING_60: 2, Kind.DUNNING_90: 3, Kind.FINAL_NOTICE: 4}
# The dunning level's message on a statement (Statement.dunning_level: 0 first statement .. 4 final).
DUNNING_MESSAGES = {
    0: "Thank you for choosing {practice}. This statement shows what you owe after insurance. "
    "Please pay the amount due by {pay_by}.",
    1: "Your balance is past due. Please pay the amount due by {pay_by}, or call the billing office "
    "to set up a payment plan.",
    2: "Your balance is more than 60 days past due. Please pay the amount due by {pay_by}. If you cannot "
    "pay in full, call the billing office: we can set up a payment plan, and financial help may be available.",
    3: "Your balance is more than 90 days past due. Please pay the amount due by {pay_by} or call the "
    "billing office now to arrange payment.",
    4: "FINAL NOTICE: unless the amount due is paid or a payment arrangement is made by {pay_by}, your "
    "account may be referred to a collection agency.",
}

# The aging buckets (accounts.aging.BUCKETS, days from the date of service) as a statement names them.
BUCKET_NAMES = {
    "0-30": "Current",
    "31-60": "31-60 days",
    "61-90": "61-90 days",
    "91-120": "91-120 days",
    "121+": "Over 120 days",
}

# Plain-language names of the procedures the practices bill most (the statement says what the
# visit was, not what it was for); an unknown code prints as "Medical service".
PROCEDURES = {
    "99202": "Office visit, new patient",
    "99203": "Office visit, new patient",
    "99204": "Office visit, new patient",
    "99205": "Office visit, new patient",
    "99211": "Office visit",
    "99212": "Office visit",
    "99213": "Office visit",
    "99214": "Office visit",
    "99215": "Office visit",
    "99391": "Preventive visit",
    "99392": "Preventive visit",
    "99393": "Preventive visit",
    "99394": "Preventive visit",
    "99395": "Preventive visit",
    "99396": "Preventive visit",
    "99397": "Preventive visit",
    "99173": "Vision screening",
    "20610": "Joint injection",
    "36415": "Blood draw",
    "71046": "Chest X-ray",
    "73030": "Shoulder X-ray",
    "73110": "Wrist X-ray",
    "73562": "Knee X-ray",
    "80053": "Laboratory test",
    "80061": "Laboratory test",
    "80840": "Laboratory test",
    "81003": "Laboratory test",
    "83036": "Laboratory test",
    "85025": "Laboratory test",
    "87070": "Laboratory test",
    "87726": "Laboratory test",
    "87880": "Laboratory test",
    "90471": "Immunization administration",
    "93000": "Electrocardiogram (ECG)",
    "93306": "Heart ultrasound",
    "97110": "Therapeutic exercise",
    "J1030": "Injection, medication",
    "J3301": "Injection, medication",
}

# What a patient-side ledger row is called on a statement (charges and transfers to the patient
# are the encounters' own figures, not lines of their own).
CREDIT_WORDS = {
    TxKind.PATIENT_PAYMENT: "Payment received, thank you",
    TxKind.AGENCY_PAYMENT: "Payment received",
    TxKind.REFUND: "Refund",
    TxKind.WRITE_OFF: "Balance adjustment",
    TxKind.BAD_DEBT_RECOVERY: "Prior balance restored",
}
ENCOUNTER_KINDS = frozenset(
    {TxKind.CHARGE, TxKind.TRANSFER_TO_PATIENT, TxKind.INSURANCE_PAYMENT, TxKind.CONTRACTUAL_ADJUSTMENT}
)


def _money(value: Decimal) -> str:
    return str((value or ZERO).quantize(CENT))


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def procedure_description(code: str) -> str:
    return PROCEDURES.get(code.upper(), "Medical service")


def pay_by_default(statement_date: date) -> date:
    return statement_date + timedelta(days=PAY_BY_DAYS)


# --- who it goes to ----------------------------------------------------------------------------


def _address_lines(holder) -> list[str]:
    city = ", ".join(p for p in (holder.city, f"{holder.state} {holder.postal_code}".strip()) if p)
    return [line for line in (holder.address_line1, holder.address_line2, city) if line]


def _practice_block(practice) -> dict:
    # The practice's remit-to address and billing phone (Practice.remit_*, billing_phone): the header
    # and the remit stub print them; a practice that has not recorded them shows its name alone.
    return {
        "name": practice.name,
        "address_lines": practice.remit_address_lines,
        "phone": practice.billing_phone.strip(),
    }


def _lop_hold(account) -> AccountHold | None:
    return (
        AccountHold.objects.filter(account=account, kind=AccountHold.Kind.LOP)
        .order_by("released_at", "-placed_at")
        .first()
    )


def _probate_hold(account) -> AccountHold | None:
    return (
        AccountHold.objects.filter(account=account, kind=AccountHold.Kind.PROBATE)
        .order_by("released_at", "-placed_at")
        .first()
    )


def recipient_block(account: PatientAccount, recipient: str) -> dict:
    """Name and mailing address of whom the document goes to. A guarantor who is the patient is
    written to at the patient's address (the record the office keeps current), as the compliance
    governor checks it."""
    patient, guarantor = account.patient, account.guarantor
    if recipient == Recipient.ATTORNEY:
        hold = _lop_hold(account)
        name = (hold.attorney_name if hold else "") or account.attorney_name or "Attorney of record"
        lines = [hold.attorney_firm] if hold and hold.attorney_firm else []
        return {"name": name, "address_lines": lines}
    if recipient == Recipient.ESTATE:
        hold = _probate_hold(account)
        name = (hold.estate_name if hold else "") or f"Estate of {patient.first_name} {patient.last_name}"
        lines = []
        if hold and hold.executor_name:
            lines.append(f"c/o {hold.executor_name}")
        if hold and hold.executor_address:
            lines.append(hold.executor_address)
        return {"name": name, "address_lines": lines}
    if recipient == Recipient.PATIENT or guarantor.relationship == Guarantor.Relationship.SELF:
        holder = patient
        name = f"{patient.first_name} {patient.last_name}" if recipient == Recipient.PATIENT else guarantor.full_name
    else:
        holder, name = guarantor, guarantor.full_name
    return {"name": name, "address_lines": _address_lines(holder)}


# --- figures from the ledger -------------------------------------------------------------------

# Statements whose sources are read together: each chunk costs a fixed handful of queries (covers,
# accounts, ledger, visits, service lines, plans, installments), whatever its size.
CONTENT_CHUNK = 1000


def _effective_kind(row: dict) -> str:
    return row["reverses__kind"] if row["kind"] == TxKind.REVERSAL else row["kind"]


class _Sources:
    """What the documents of some statements are computed from, read for all of them at once:
    their covered accounts (with patient, guarantor and practice), those accounts' ledger rows up
    to the latest statement date, the visits and service lines those rows name, and the running
    payment plans with their open installments."""

    def __init__(self, statements, covered=None):
        Covers = Statement.covers.through
        if covered is not None:
            self.covered_ids = {
                id(statement): {statement.account_id, *ids} for statement, ids in zip(statements, covered, strict=True)
            }
        else:
            self.covered_ids = {id(statement): {statement.account_id} for statement in statements}
            by_pk = {statement.pk: statement for statement in statements if statement.pk}
            for statement_id, account_id in Covers.objects.filter(statement_id__in=by_pk).values_list(
                "statement_id", "patientaccount_id"
            ):
                self.covered_ids[id(by_pk[statement_id])].add(account_id)
        account_ids = set().union(*self.covered_ids.values()) if statements else set()
        self.accounts = {
            account.pk: account
            for account in PatientAccount.objects.filter(pk__in=account_ids).select_related(
                "patient", "guarantor", "practice"
            )
        }
        latest = max((statement.statement_date for statement in statements), default=None)
        self.rows: dict[int, list[dict]] = defaultdict(list)
        for row in (
            Transaction.objects.filter(account_id__in=account_ids, effective_on__lte=latest)
            .values(
                "id",
                "account_id",
                "encounter_id",
                "kind",
                "reverses__kind",
                "patient_amount",
                "insurance_amount",
                "effective_on",
            )
            .order_by("account_id", "effective_on", "id")
        ):
            self.rows[row["account_id"]].append(row)
        encounter_ids = {
            row["encounter_id"] for rows in self.rows.values() for row in rows if row["encounter_id"] is not None
        }
        self.encounters = {
            encounter_id: (encounter_id, date_of_service, provider)
            for encounter_id, date_of_service, provider in Encounter.objects.filter(pk__in=encounter_ids).values_list(
                "id", "date_of_service", "rendering_provider"
            )
        }
        self.services: dict[int, list[dict]] = defaultdict(list)
        for encounter_id, code, units in (
            ChargeLine.objects.filter(encounter_id__in=encounter_ids)
            .order_by("id")
            .values_list("encounter_id", "procedure_code", "units")
        ):
            self.services[encounter_id].append(
                {"code": code, "description": procedure_description(code), "units": units}
            )
        self.plans: dict[int, PaymentPlan] = {}
        for plan in PaymentPlan.objects.filter(
            account_id__in=account_ids, status__in=PaymentPlan.RUNNING_STATUSES
        ).order_by("account_id", "-created_at", "-id"):
            self.plans.setdefault(plan.account_id, plan)
        self.open_installments: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for plan_id, due_on, amount, paid in (
            Installment.objects.filter(
                plan_id__in=[plan.pk for plan in self.plans.values()],
                superseded_at__isnull=True,
                paid_on__isnull=True,
            )
            .order_by("due_on", "number")
            .values_list("plan_id", "due_on", "amount", "paid_amount")
        ):
            self.open_installments[plan_id].append((due_on, amount - paid))

    def covered_accounts(self, statement: Statement) -> list[PatientAccount]:
        """The statement's own account first, then the others it covers, by account number."""
        accounts = [self.accounts[pk] for pk in self.covered_ids[id(statement)] if pk in self.accounts]
        accounts.sort(key=lambda a: (a.pk != statement.account_id, a.account_number))
        return accounts

    def figures(self, account: PatientAccount, *, as_of: date) -> dict:
        return _account_figures(
            account, [row for row in self.rows[account.pk] if row["effective_on"] <= as_of], self, as_of=as_of
        )

    def plan_due(self, account: PatientAccount, *, as_of: date) -> dict | None:
        plan = self.plans.get(account.pk)
        if plan is None:
            return None
        return _plan_due(plan, self.open_installments[plan.pk], as_of=as_of)


def _account_figures(account: PatientAccount, rows: list[dict], sources: _Sources, *, as_of: date) -> dict:
    """One account's encounters, patient credits and aging from its ledger rows up to `as_of`
    (ordered by effective date, then id).

    Per encounter: charges = insurance paid + insurance adjusted + insurance pending + patient
    responsibility (charge rows' patient share and transfers to the patient), every figure net of
    reversals. The account's patient balance = the encounters' responsibility + its credit lines."""
    per_encounter: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {
            "charges": ZERO,
            "insurance_paid": ZERO,
            "insurance_adjusted": ZERO,
            "insurance_pending": ZERO,
            "patient_responsibility": ZERO,
        }
    )
    net_by_encounter: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    credits = []
    balance = ZERO
    for row in rows:
        kind = _effective_kind(row)
        patient, insurance = row["patient_amount"], row["insurance_amount"]
        balance += patient
        encounter_id = row["encounter_id"]
        net_by_encounter[encounter_id] += patient
        if encounter_id is not None and kind in ENCOUNTER_KINDS:
            figures = per_encounter[encounter_id]
            figures["insurance_pending"] += insurance
            if kind == TxKind.CHARGE:
                figures["charges"] += patient + insurance
                figures["patient_responsibility"] += patient
            elif kind == TxKind.TRANSFER_TO_PATIENT:
                figures["patient_responsibility"] += patient
            elif kind == TxKind.INSURANCE_PAYMENT:
                figures["insurance_paid"] -= insurance
            else:
                figures["insurance_adjusted"] -= insurance
            continue
        if encounter_id is not None and insurance:
            # An insurance-side write-off on a visit reduces what insurance still owes on it.
            per_encounter[encounter_id]["insurance_pending"] += insurance
            per_encounter[encounter_id]["insurance_adjusted"] -= insurance
        if patient:
            words = CREDIT_WORDS.get(kind, "Account adjustment")
            if row["kind"] == TxKind.REVERSAL:
                words = f"{words} (reversed)"
            credits.append({"date": _iso(row["effective_on"]), "description": words, "amount": _money(patient)})
    by_visit_date = sorted(
        (sources.encounters[encounter_id] for encounter_id in net_by_encounter if encounter_id is not None),
        key=lambda encounter: (encounter[1], encounter[0]),
    )
    aging = aging_from_nets(
        {key: value.quantize(CENT) for key, value in net_by_encounter.items()}, by_visit_date, as_of=as_of
    )
    return {
        "account_number": account.account_number,
        "patient_name": f"{account.patient.first_name} {account.patient.last_name}",
        "encounters": [
            {
                "date_of_service": _iso(date_of_service),
                "services": sources.services.get(encounter_id, []),
                **{key: _money(value) for key, value in per_encounter[encounter_id].items()},
            }
            for encounter_id, date_of_service, _ in by_visit_date
            if encounter_id in per_encounter
        ],
        "credits": credits,
        "balance": balance.quantize(CENT),
        "aging": aging,
    }


def _plan_due(plan: PaymentPlan, open_rows: list[tuple[date, Decimal]], *, as_of: date) -> dict:
    """The installment due on a running plan (active or lapsed) from its open installments as
    (due date, amount still owed) in due order: what is past due plus the next installment, by
    the next installment's due date."""
    past_due = sum((amount for due_on, amount in open_rows if due_on <= as_of), ZERO)
    upcoming = [(due_on, amount) for due_on, amount in open_rows if due_on > as_of]
    next_on, next_amount = upcoming[0] if upcoming else (as_of, ZERO)
    return {
        "status": plan.status,
        "status_label": plan.get_status_display(),
        "installment_amount": _money(plan.installment_amount),
        "past_due": _money(past_due),
        "next_due_on": _iso(next_on),
        "next_amount": _money(next_amount),
        "amount_due": _money(past_due + next_amount),
        "remaining": _money(sum((amount for _, amount in open_rows), ZERO)),
        "open_installments": len(open_rows),
    }


# --- content -----------------------------------------------------------------------------------


def statement_content(statement: Statement) -> dict:
    """What the document says, computed from the ledger now: JSON-safe (money "12.34", dates
    ISO), minimum necessary for `statement.kind`. Call it when producing; the result is frozen in
    `statement.content` and every later print renders from it.

    `amount_due` is what the document asks for: for each account its patient balance, or on a
    running payment plan the installment due (past-due installments plus the next one), never
    below zero; `balance` is the covered accounts' patient balance."""
    return statement_contents([statement])[0]


def statement_contents(statements, covered=None) -> list[dict]:
    """`statement_content` of each statement, in order, reading the sources of up to
    CONTENT_CHUNK statements at a time in a fixed number of queries (the nightly cycle's way).

    `covered`: for statements not saved yet, the ids of the accounts each one covers (in the same
    order), so their content can be inserted with them; otherwise each statement's covers."""
    statements = list(statements)
    covered = list(covered) if covered is not None else None
    contents = []
    for start in range(0, len(statements), CONTENT_CHUNK):
        chunk = statements[start : start + CONTENT_CHUNK]
        sources = _Sources(chunk, covered[start : start + CONTENT_CHUNK] if covered is not None else None)
        contents.extend(_content(statement, sources) for statement in chunk)
    return contents


def _content(statement: Statement, sources: _Sources) -> dict:
    as_of = statement.statement_date
    pay_by = statement.pay_by or pay_by_default(as_of)
    accounts = sources.covered_accounts(statement)
    main = accounts[0]
    practice = statement.practice if statement.practice_id else main.practice
    content = {
        "version": CONTENT_VERSION,
        "kind": statement.kind,
        "title": Kind(statement.kind).label,
        "statement_date": _iso(as_of),
        "pay_by": _iso(pay_by),
        "practice": _practice_block(practice),
        "recipient": recipient_block(main, statement.recipient),
        "recipient_kind": statement.recipient,
        "account_number": main.account_number,
        "patient_name": f"{main.patient.first_name} {main.patient.last_name}",
        "note": "",
    }
    if statement.kind == Kind.STATEMENT:
        content.update(_statement_part(statement, accounts, sources, as_of=as_of, pay_by=pay_by, practice=practice))
        return content
    figures = sources.figures(main, as_of=as_of)
    balance = figures["balance"]
    if statement.kind in DUNNING_LEVELS and len(accounts) > 1:
        # A past-due letter or final notice of the cycle covers every account of the guarantor it
        # is logged on, so it asks for all of them and names each one (as the statement does).
        listed = [{"account_number": main.account_number, "balance": balance}]
        for other in accounts[1:]:
            other_balance = sources.figures(other, as_of=as_of)["balance"]
            listed.append({"account_number": other.account_number, "balance": other_balance})
        balance = sum((row["balance"] for row in listed), ZERO)
        content["covered_accounts"] = [
            {"account_number": row["account_number"], "balance": _money(row["balance"])} for row in listed
        ]
    content["balance"] = _money(balance)
    content["amount_due"] = _money(max(balance, ZERO))
    builder = _LETTER_PARTS.get(statement.kind)
    if builder is not None:
        content.update(builder(main, figures=figures, as_of=as_of, pay_by=pay_by, practice=practice, sources=sources))
    return content


def _statement_part(statement, accounts, sources: _Sources, *, as_of, pay_by, practice) -> dict:
    buckets = {label: ZERO for label in BUCKET_LABELS}
    unapplied = ZERO
    total_balance = ZERO
    amount_due = ZERO
    listed = []
    plan_due = None
    for account in accounts:
        figures = sources.figures(account, as_of=as_of)
        aging = figures.pop("aging")
        for label, amount in aging.buckets.items():
            buckets[label] += amount
        unapplied += aging.unapplied_credit
        balance = figures["balance"]
        total_balance += balance
        plan = sources.plan_due(account, as_of=as_of)
        due = max(min(Decimal(plan["amount_due"]), balance), ZERO) if plan else max(balance, ZERO)
        amount_due += due
        if plan and plan_due is None:
            plan_due = {**plan, "account_number": account.account_number}
        listed.append({**figures, "balance": _money(balance), "amount_due": _money(due), "plan": plan})
    level = min(max(statement.dunning_level, 0), 4)
    return {
        "accounts": listed,
        "aging": [
            {"bucket": label, "label": BUCKET_NAMES.get(label, label), "amount": _money(amount)}
            for label, amount in buckets.items()
        ],
        "unapplied_credit": _money(unapplied),
        "balance": _money(total_balance),
        "amount_due": _money(amount_due),
        "plan_due": plan_due,
        "dunning_level": level,
        "message": DUNNING_MESSAGES[level].format(practice=practice.name, pay_by=f"{pay_by:%m/%d/%Y}"),
    }


def _dates_of_service(figures: dict) -> list[dict]:
    return [
        {
            "date_of_service": row["date_of_service"],
            "charges": row["charges"],
            "patient_responsibility": row["patient_responsibility"],
            "insurance_pending": row["insurance_pending"],
        }
        for row in figures["encounters"]
    ]


def _dunning_part(days: int):
    def part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
        aging = figures["aging"]
        return {"days_past_due": days, "oldest_age_days": aging.oldest_open_age_days or 0}

    return part


def _final_notice_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    # Placement waits at least FINAL_NOTICE_WAIT_DAYS after the final notice (agencies.rules).
    referral_after = max(as_of + timedelta(days=FINAL_NOTICE_WAIT_DAYS), pay_by)
    return {"referral_after": _iso(referral_after)}


def _notice_501r_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    # 26 CFR 1.501(r)-6(c)(2)(i): the notice names the extraordinary collection actions, the date
    # after which they may begin (no earlier than 30 days after the notice), that financial
    # assistance is available under the Financial Assistance Policy, with its plain-language summary.
    action_after = max(as_of + timedelta(days=RULE_501R_NOTICE_DAYS), pay_by)
    first = account.first_statement_on
    return {
        "action_after": _iso(action_after),
        "actions": [
            "referring the account to a collection agency",
            "reporting the unpaid balance to consumer credit reporting agencies",
        ],
        "policy_name": "Financial Assistance Policy",
        "application_ends_on": _iso(first + timedelta(days=FAP_APPLICATION_DAYS)) if first else "",
    }


def _open_plan(account) -> PaymentPlan | None:
    return (
        PaymentPlan.objects.filter(account=account, status__in=PaymentPlan.OPEN_STATUSES)
        .order_by("-created_at", "-id")
        .first()
    )


def _plan_agreement_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    plan = _open_plan(account)
    if plan is None:
        return {"plan": None}
    schedule = plan.installments.filter(superseded_at__isnull=True).order_by("due_on", "number")
    return {
        "plan": {
            "total_amount": _money(plan.total_amount),
            "down_payment": _money(plan.down_payment),
            "installment_count": plan.installment_count,
            "installment_amount": _money(plan.installment_amount),
            "frequency": plan.get_frequency_display().lower(),
            "autopay": plan.autopay,
            "grace_days": practice.plan_grace_days,
            "default_missed_count": practice.plan_default_missed_count,
            "schedule": [
                {"number": row.number, "due_on": _iso(row.due_on), "amount": _money(row.amount)} for row in schedule
            ],
        }
    }


def _plan_reminder_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    return {"plan": sources.plan_due(account, as_of=as_of)}


def _plan_lapse_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    plan = sources.plan_due(account, as_of=as_of)
    return {
        "plan": plan,
        "grace_days": practice.plan_grace_days,
        "default_missed_count": practice.plan_default_missed_count,
    }


def _lop_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    hold = _lop_hold(account)
    return {
        "accident_on": _iso(hold.accident_on) if hold else "",
        "case_number": hold.case_number if hold else "",
        "visits": _dates_of_service(figures),
    }


def _probate_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    hold = _probate_hold(account)
    patient = account.patient
    died_on = (hold.died_on if hold else None) or patient.deceased_on
    return {
        # The date of death identifies the decedent to the probate court: the claim's purpose needs it.
        "died_on": _iso(died_on),
        "court": hold.court if hold else "",
        "case_number": hold.case_number if hold else "",
        "claim_deadline_on": _iso(hold.claim_deadline_on) if hold else "",
        "visits": _dates_of_service(figures),
    }


def _inquiry_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    # The latest answered inquiry (the letter is its written answer), else the latest one.
    inquiries = BillingInquiry.objects.filter(account=account)
    inquiry = (
        inquiries.filter(responded_on__isnull=False).order_by("-responded_on", "-pk").first()
        or inquiries.order_by("-received_on", "-pk").first()
    )
    return {
        "inquiry_received_on": _iso(inquiry.received_on) if inquiry else "",
        "response": inquiry.response if inquiry else "",
    }


def _address_request_part(account, *, figures, as_of, pay_by, practice, sources) -> dict:
    return {"reply_by": _iso(pay_by)}


_LETTER_PARTS = {
    Kind.DUNNING_30: _dunning_part(30),
    Kind.DUNNING_60: _dunning_part(60),
    Kind.DUNNING_90: _dunning_part(90),
    Kind.FINAL_NOTICE: _final_notice_part,
    Kind.NOTICE_501R: _notice_501r_part,
    Kind.PLAN_AGREEMENT: _plan_agreement_part,
    Kind.PLAN_REMINDER: _plan_reminder_part,
    Kind.PLAN_LAPSE: _plan_lapse_part,
    Kind.LOP_ACKNOWLEDGEMENT: _lop_part,
    Kind.PROBATE_CLAIM: _probate_part,
    Kind.INQUIRY_RESPONSE: _inquiry_part,
    Kind.ADDRESS_REQUEST: _address_request_part,
}


# --- rendering ---------------------------------------------------------------------------------


def _no_fetching(url, *args, **kwargs):
    # Documents embed everything they show; a renderer fetching URLs could be steered to internal
    # addresses (and would cost a round trip per statement), so it is given none.
    raise ValueError("Statements and letters do not load external resources.")


@lru_cache(maxsize=1)
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=1)
def print_stylesheet():
    """The print CSS (Letter pages, margins, per-document page numbers), parsed once per process.
    Kept in a .css file and applied by the renderer rather than inlined: the templates hold no
    <style> (tests/security/test_headers.py scans every template for inline code)."""
    from weasyprint import CSS

    return CSS(string=PRINT_CSS.read_text(), font_config=_fonts())


def _document_fragment(statement: Statement, index: int) -> str:
    content = statement.content or statement_content(statement)
    template = get_template(f"{TEMPLATE_DIR}/{content.get('kind', statement.kind)}.html")
    return template.render({"c": content, "anchor": f"doc-{index}"})


def _wrap(fragments: list[str], title: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>" + "".join(fragments) + "</body></html>"
    )


def merged_html(statements) -> str:
    """One HTML document of these statements and letters, each a `section.document` starting on
    a new page (the print CSS, `print_stylesheet()`, is applied by the renderer)."""
    return _wrap([_document_fragment(s, i) for i, s in enumerate(statements)], "Statements and letters")


def render_statement_html(statement: Statement) -> str:
    """The full HTML document of one statement or letter, from `statement.content` (computed now
    when the statement has none yet). Its print CSS is `print_stylesheet()` (PRINT_CSS)."""
    return _wrap([_document_fragment(statement, 0)], Kind(statement.kind).label)


def _render(html: str, count: int):
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=_no_fetching).render(
        stylesheets=[print_stylesheet()], font_config=_fonts()
    )
    starts = {}
    for page_number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("doc-") and anchor not in starts:
                starts[anchor] = page_number
    first_pages = [starts[f"doc-{i}"] for i in range(count)]
    ends = [*first_pages[1:], len(document.pages)]
    return document, [end - start for start, end in zip(first_pages, ends, strict=True)]


def render_statements_pdf(statements) -> tuple[bytes, list[int]]:
    """ONE WeasyPrint render of all of them, merged (each on a new page), and each one's page
    count, in order; the counts sum to the merged file's pages."""
    statements = list(statements)
    if not statements:
        return b"", []
    document, counts = _render(merged_html(statements), len(statements))
    return document.write_pdf(), counts


def render_statement_pdf(statement: Statement) -> bytes:
    document, _ = _render(render_statement_html(statement), 1)
    return document.write_pdf()


def render_statement_pdf_with_pages(statement: Statement) -> tuple[bytes, int]:
    document, counts = _render(render_statement_html(statement), 1)
    return document.write_pdf(), counts[0]
