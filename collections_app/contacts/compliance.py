"""The compliance governor: may this account be contacted on this channel, to this party, now?

One function, `contact_decision`, asked before a call, text, letter or email is logged as an
attempt (and by the account page, to say whether a call is allowed right now). It reads the
practice's policy, the account's flags and holds, consents and the contact log, and answers with
every rule that refuses, in plain English, and when the attempt would next be allowed.

Decisions made here, with their sources:

- Inbound calls are never refused (the patient called us); they are logged like any contact.
- "Party" is who the attempt was placed to. "Nobody reached" counts as the patient/guarantor: the
  rep dialled the consumer. A call to the attorney is logged with party "attorney".
- The call cap and the quiet period count outbound calls to the consumer (patient, guarantor,
  executor, or nobody reached; Reg F 12 CFR 1006.6(a) "consumer" includes the executor). Texts do
  not count: 1006.14(b)(2) limits telephone calls, and its official interpretation (comment
  14(b)(1)-1) leaves electronic communications (texts, email) out of the call frequency limit.
- A telephone conversation is a call (either direction) where the patient, guarantor or executor
  was reached and talked: the outcomes in CONVERSATION_OUTCOMES. Left message, no answer, wrong
  number and letters are not. A conversation that ended with the consumer asking for a call back
  does not start the quiet period: a call placed with the person's prior consent given directly
  to us is excluded (1006.14(b)(3)(i)).
- The convenient-hours window applies to calls, texts and email (FDCPA 1692c(a)(1); Reg F
  1006.6(b)(1)(i) covers every communication, and an electronic one is made when it is sent, so an
  email at 22:38 the patient's time is as inconvenient as a call). Letters are not delivered "at a
  time" and have no window.
- Each channel needs somewhere to go: a call or text a phone number, an email an email address, a
  letter a mailing address that has not come back as undeliverable (returned mail stops mailings
  until the address is corrected). The number or address is the party's: the guarantor's for the
  guarantor, the patient's otherwise.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from collections_app.correspondence.addresses import GUARANTOR, PATIENT, letter_address
from collections_app.models import AccountHold, Contact, ContactConsent
from core.display import time_of_day

Channel = Contact.Channel
Party = Contact.Party
Outcome = Contact.Outcome

OUTBOUND_CHANNELS = frozenset({Channel.OUTBOUND_CALL, Channel.TEXT, Channel.LETTER, Channel.EMAIL})
TIMED_CHANNELS = frozenset({Channel.OUTBOUND_CALL, Channel.TEXT, Channel.EMAIL})
CONSUMER_PARTIES = frozenset({Party.PATIENT, Party.GUARANTOR, Party.EXECUTOR, Party.NOBODY})
REPRESENTED_PARTIES = frozenset({Party.PATIENT, Party.GUARANTOR, Party.NOBODY})
CONVERSATION_PARTIES = frozenset({Party.PATIENT, Party.GUARANTOR, Party.EXECUTOR})
CONVERSATION_OUTCOMES = frozenset(
    {
        Outcome.PROMISE_TO_PAY,
        Outcome.DISPUTES,
        Outcome.REFUSES,
        Outcome.PAID,
        Outcome.REQUESTS_PLAN,
        Outcome.ATTORNEY_REPRESENTED,
        Outcome.CEASE_REQUESTED,
        Outcome.CALLBACK_REQUESTED,
        Outcome.INFORMATION_GIVEN,
    }
)
CALLS = frozenset({Channel.OUTBOUND_CALL, Channel.INBOUND_CALL})

# Rule codes (stable: the API returns them, the audit trail records overridden ones).
CEASE_COMMUNICATION = "cease_communication"
ATTORNEY_REPRESENTED = "attorney_represented"
DECEASED = "deceased"
NO_CONSENT = "no_consent"
CONSENT_REVOKED = "consent_revoked"
CALL_CAP = "call_cap"
QUIET_AFTER_CONVERSATION = "quiet_after_conversation"
CALL_WINDOW = "call_window"
NO_CONTACT_DETAIL = "no_contact_detail"
ADDRESS_BAD = "address_bad"
BANKRUPTCY_STAY = "bankruptcy_stay"

# How often the earliest-allowed time is re-checked (a freed cap can land outside the window).
_MAX_SETTLE_STEPS = 6


@dataclass(frozen=True)
class Reason:
    code: str
    explanation: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[Reason] = field(default_factory=list)
    # When the attempt would next be allowed, if only the passing of time stands in the way.
    next_allowed_at: datetime | None = None

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]

    @property
    def explanation(self) -> str:
        return " ".join(reason.explanation for reason in self.reasons)


def patient_time_zone(account) -> ZoneInfo:
    return ZoneInfo(account.patient.time_zone or account.practice.time_zone)


def active_hold_kinds(account) -> set[str]:
    return set(AccountHold.objects.filter(account=account, released_at__isnull=True).values_list("kind", flat=True))


def contact_decision(
    *,
    account,
    channel: str,
    party: str,
    autodialed: bool = False,
    at: datetime | None = None,
    active_holds: set[str] | None = None,
) -> Decision:
    """May this attempt go ahead at `at` (default now)? Every refusing rule is listed.

    `active_holds` (active_hold_kinds) saves the query when several channels are decided at once."""
    at = at or timezone.now()
    if channel not in OUTBOUND_CHANNELS:
        return Decision(allowed=True)
    practice = account.practice
    tz = patient_time_zone(account)
    today = at.astimezone(tz).date()
    reasons: list[Reason] = []
    standing = False  # a refusal that time alone does not lift

    # FDCPA 15 USC 1692c(c): after the consumer asks us to stop, no further communication. The
    # law's exceptions (1692c(c)(1)-(3): written notice that efforts end or of a specific remedy)
    # are a manager's override, never routine contact.
    if account.cease_communication_on is not None and account.cease_communication_on <= today:
        standing = True
        reasons.append(
            Reason(
                CEASE_COMMUNICATION,
                f"cease communication since {account.cease_communication_on:%m/%d/%Y}: no outbound contact",
            )
        )

    if active_holds is None:
        active_holds = active_hold_kinds(account)
    # 11 USC 362(a)(6): the bankruptcy filing's automatic stay forbids any act to collect the debt
    # from the debtor, by phone, text, email or letter. The bankruptcy attorney or the trustee may
    # still be reached (a proof of claim goes through the court).
    if AccountHold.Kind.BANKRUPTCY in active_holds and party in REPRESENTED_PARTIES:
        standing = True
        reasons.append(
            Reason(
                BANKRUPTCY_STAY,
                "bankruptcy filed (automatic stay): no collection contact with the patient or guarantor; "
                "contact their bankruptcy attorney or the trustee",
            )
        )
    # FDCPA 15 USC 1692c(a)(2): a consumer represented by an attorney about the debt is contacted
    # through the attorney. A Letter of Protection means an attorney holds the patient's case.
    represented = account.attorney_represented or AccountHold.Kind.LOP in active_holds
    if represented and party in REPRESENTED_PARTIES:
        standing = True
        reasons.append(Reason(ATTORNEY_REPRESENTED, "represented by an attorney: contact the attorney"))

    # Reg F 12 CFR 1006.2(e), 1006.6(a)(4): a deceased patient's debt is discussed with the
    # executor or personal representative of the estate, not with the patient's phone or mail.
    patient = account.patient
    deceased = patient.deceased_on is not None or AccountHold.Kind.PROBATE in active_holds
    if deceased and (
        party in (Party.PATIENT, Party.NOBODY) or (party == Party.GUARANTOR and _guarantor_is_patient(account))
    ):
        standing = True
        reasons.append(Reason(DECEASED, "the patient is deceased: contact the executor or personal representative"))

    # TCPA 47 USC 227(b)(1)(A): texts and autodialed or prerecorded calls need the called party's
    # prior express consent; a revocation takes effect on its date.
    consent_channel = None
    if channel == Channel.TEXT:
        consent_channel = ContactConsent.Channel.TEXT
    elif channel == Channel.OUTBOUND_CALL and autodialed:
        consent_channel = ContactConsent.Channel.AUTODIALED_CALL
    if consent_channel is not None:
        consents = list(
            ContactConsent.objects.filter(account=account, channel=consent_channel, granted_on__lte=today).values_list(
                "revoked_on", flat=True
            )
        )
        if not any(revoked_on is None or revoked_on > today for revoked_on in consents):
            standing = True
            label = ContactConsent.Channel(consent_channel).label.lower()
            if consents:
                reasons.append(Reason(CONSENT_REVOKED, f"consent to {label} was revoked"))
            else:
                reasons.append(Reason(NO_CONSENT, f"no recorded consent to {label}"))

    missing = _missing_contact_detail(account, channel, party)
    if missing is not None:
        standing = True
        reasons.append(missing)

    calls: list[Contact] = []
    if channel == Channel.OUTBOUND_CALL and party in CONSUMER_PARTIES:
        lookback = max(practice.call_cap_days, practice.call_quiet_days_after_conversation)
        calls = list(
            Contact.objects.filter(
                account=account,
                channel__in=CALLS,
                occurred_at__gt=at - timedelta(days=lookback),
                occurred_at__lte=at,
            )
            .order_by("occurred_at", "id")
            .only("channel", "party", "outcome", "occurred_at")
        )

    timed, next_at = _timed_reasons(account, channel, party, calls, at, tz)
    reasons.extend(timed)
    if standing or not timed:
        return Decision(allowed=not reasons, reasons=reasons, next_allowed_at=None)
    # Only time stands in the way: step forward to when every timed rule lets the attempt through.
    for _ in range(_MAX_SETTLE_STEPS):
        still, later = _timed_reasons(account, channel, party, calls, next_at, tz)
        if not still:
            break
        next_at = later
    return Decision(allowed=False, reasons=reasons, next_allowed_at=next_at)


# The channels the panel decides beside the call, in the order a rep reaches for them.
OTHER_CHANNELS = (Channel.TEXT, Channel.EMAIL, Channel.LETTER)


def channel_decisions(
    *, account, party: str, at: datetime, active_holds: set[str] | None = None
) -> list[tuple[str, Decision]]:
    """Each outbound channel but the call, decided for `party` at `at`: (channel label, decision).
    One holds query for all of them (none when `active_holds` is given); the text adds its consent's."""
    holds = active_hold_kinds(account) if active_holds is None else active_holds
    return [
        (
            Channel(channel).label,
            contact_decision(account=account, channel=channel, party=party, at=at, active_holds=holds),
        )
        for channel in OTHER_CHANNELS
    ]


def _missing_contact_detail(account, channel: str, party: str) -> Reason | None:
    """The phone, email or mailing address the attempt needs, when the party has none on file.
    Attorneys and executors are reached at what the rep has in hand (the hold's details)."""
    if party not in (Party.PATIENT, Party.GUARANTOR, Party.NOBODY):
        return None
    patient, guarantor = account.patient, account.guarantor
    if party == Party.GUARANTOR and not _guarantor_is_patient(account):
        who, phone, email = "the guarantor", guarantor.phone, guarantor.email
    else:  # the patient, or a patient who is their own guarantor: the patient's record is kept current
        who, phone, email = "the patient", patient.phone, patient.email
    if channel in (Channel.OUTBOUND_CALL, Channel.TEXT) and not phone:
        return Reason(NO_CONTACT_DETAIL, f"no phone number on file for {who}")
    if channel == Channel.EMAIL and not email:
        return Reason(NO_CONTACT_DETAIL, f"no email address on file for {who}")
    if channel == Channel.LETTER:
        # The one mailing-address rule, the same as mailable_q's (correspondence.addresses).
        address = letter_address(account, party=GUARANTOR if party == Party.GUARANTOR else PATIENT)
        if not address.line1:
            return Reason(NO_CONTACT_DETAIL, f"no mailing address on file for {address.who}")
        if address.bad:
            return Reason(ADDRESS_BAD, "mail came back from this address: correct the address first")
    return None


def _guarantor_is_patient(account) -> bool:
    return account.guarantor.relationship == account.guarantor.Relationship.SELF


def _timed_reasons(account, channel, party, calls, at, tz) -> tuple[list[Reason], datetime | None]:
    """The rules that time alone lifts, at `at`, and the moment the last of them lifts."""
    practice = account.practice
    reasons: list[Reason] = []
    lifts: list[datetime] = []

    if channel == Channel.OUTBOUND_CALL and party in CONSUMER_PARTIES:
        # Reg F 12 CFR 1006.14(b)(2)(i)(A): more than 7 calls in 7 consecutive days is presumed
        # harassment; the practice may be stricter (Massachusetts 940 CMR 7.04(1)(f): 2 in 7).
        window_start = at - timedelta(days=practice.call_cap_days)
        attempts = [
            c
            for c in calls
            if c.channel == Channel.OUTBOUND_CALL and c.party in CONSUMER_PARTIES and window_start < c.occurred_at <= at
        ]
        cap = max(practice.call_cap_count, 1)
        if len(attempts) >= cap:
            # The attempt that must age out for the count to fall below the cap.
            frees_at = attempts[len(attempts) - cap].occurred_at + timedelta(days=practice.call_cap_days)
            lifts.append(frees_at)
            reasons.append(
                Reason(
                    CALL_CAP,
                    f"{len(attempts)} call attempts in the last {practice.call_cap_days} days (the limit is {cap})",
                )
            )

        # Reg F 12 CFR 1006.14(b)(2)(i)(B): no call within 7 days after a telephone conversation.
        quiet = timedelta(days=practice.call_quiet_days_after_conversation)
        conversations = [
            c
            for c in calls
            if c.party in CONVERSATION_PARTIES
            and c.outcome in CONVERSATION_OUTCOMES
            and at - quiet < c.occurred_at <= at
        ]
        if conversations and practice.call_quiet_days_after_conversation:
            latest = conversations[-1]
            # Reg F 1006.14(b)(3)(i): a call back the consumer asked for is not held back.
            if latest.outcome != Outcome.CALLBACK_REQUESTED:
                lifts.append(latest.occurred_at + quiet)
                local = latest.occurred_at.astimezone(tz)
                reasons.append(
                    Reason(
                        QUIET_AFTER_CONVERSATION,
                        f"spoke by phone on {local:%m/%d/%Y}: no call for "
                        f"{practice.call_quiet_days_after_conversation} days after a conversation",
                    )
                )

    if channel in TIMED_CHANNELS:
        # FDCPA 15 USC 1692c(a)(1): before 8:00 or after 21:00 at the consumer's location is
        # presumed inconvenient; the patient's time zone, else the practice's.
        local = at.astimezone(tz)
        start, end = practice.call_window_start_hour, practice.call_window_end_hour
        if not (start <= local.hour < end):
            opens_on = local.date() if local.hour < start else local.date() + timedelta(days=1)
            opens = datetime(opens_on.year, opens_on.month, opens_on.day, start, tzinfo=tz)
            lifts.append(opens)
            reasons.append(
                Reason(
                    CALL_WINDOW,
                    f"it is {time_of_day(local)} {local.tzname()} where the patient lives; "
                    f"contact only between {time_of_day(local.replace(hour=start, minute=0))} and "
                    f"{time_of_day(local.replace(hour=end % 24, minute=0))}",
                )
            )

    return reasons, (max(lifts) if lifts else None)
