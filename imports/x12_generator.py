"""Valid 837P claims and the 835 that pays them, for N claims: tests and the bench use it.

Deterministic: the same seed gives the same claims. Every 835 claim balances (CLP03 - CLP04 is the
sum of its CAS amounts, each SVC balances on its own, CLP05 is the sum of its PR adjustments); one
claim in five carries its patient responsibility at claim level instead of on the lines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
CODES = [("99213", ""), ("99214", "25"), ("87070", ""), ("93000", ""), ("J3301", ""), ("36415", ""), ("99203", "")]
LAST = ["GARCIA", "SMITH", "NGUYEN", "OBRIEN", "KOWALSKI", "MULLER", "JOHNSON", "PATEL"]
FIRST = ["MARIA", "JAMES", "AISHA", "WEI", "OLIVIA", "DIEGO", "RUTH", "SAM"]


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    newline: str = "\n"


DEFAULT = Separators()


@dataclass
class Line:
    code: str
    modifier: str
    charge: Decimal
    allowed: Decimal
    patient: Decimal  # patient responsibility (PR)

    @property
    def paid(self) -> Decimal:
        return self.allowed - self.patient

    @property
    def contractual(self) -> Decimal:
        return self.charge - self.allowed


@dataclass
class GeneratedClaim:
    control_number: str
    payer_claim_number: str
    member_id: str
    last: str
    first: str
    date_of_birth: date
    service_date: date
    lines: list[Line] = field(default_factory=list)
    pr_at_claim_level: bool = False

    @property
    def charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), Decimal("0.00"))

    @property
    def patient(self) -> Decimal:
        return sum((line.patient for line in self.lines), Decimal("0.00"))

    @property
    def contractual(self) -> Decimal:
        return sum((line.contractual for line in self.lines), Decimal("0.00"))


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def generate_claims(count: int, *, seed: int = 1, prefix: str = "G", first_day: date = date(2026, 9, 1)):
    rng = random.Random(seed)
    claims = []
    for n in range(count):
        lines = []
        for _ in range(rng.randint(1, 3)):
            code, modifier = CODES[rng.randrange(len(CODES))]
            charge = _money(Decimal(rng.randint(4000, 60000)) / 100)
            allowed = _money(charge * Decimal(rng.randint(55, 95)) / 100)
            patient = _money(allowed * Decimal(rng.choice([0, 0, 10, 20, 30])) / 100)
            lines.append(Line(code, modifier, charge, allowed, patient))
        claims.append(
            GeneratedClaim(
                control_number=f"{prefix}{seed:02d}{n:07d}",
                payer_claim_number=f"P{seed:02d}{n:09d}",
                member_id=f"M{seed:02d}{n:08d}",
                last=LAST[rng.randrange(len(LAST))],
                first=FIRST[rng.randrange(len(FIRST))],
                date_of_birth=date(1950, 1, 1) + timedelta(days=rng.randrange(20000)),
                service_date=first_day + timedelta(days=rng.randrange(60)),
                lines=lines,
                pr_at_claim_level=n % 5 == 4,
            )
        )
    return claims


def _d(day: date) -> str:
    return day.strftime("%Y%m%d")


def _isa(s: Separators, control: str, functional: str) -> list[list[str]]:
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "PAYERSENDER".ljust(15), "ZZ", "PRACTICE".ljust(15),
        "260901", "1200", "^", "00501", control.rjust(9, "0"), "0", "T", s.component,
    ]  # fmt: skip
    return [isa, ["GS", functional, "PAYERSENDER", "PRACTICE", "20260901", "1200", "1", "X", "005010"]]


def _write(segments: list[list[str]], s: Separators) -> str:
    return s.newline.join(s.element.join(seg) + s.segment for seg in segments) + s.newline


def _wrap(body: list[list[str]], s: Separators, *, kind: str, envelope: bool, control: str) -> str:
    st = [["ST", kind, "0001", *(["005010X222A2"] if kind == "837" else [])]]
    sets = [*st, *body]
    sets.append(["SE", str(len(sets) + 1), "0001"])
    if not envelope:
        return _write(sets, s)
    head = _isa(s, control, "HC" if kind == "837" else "HP")
    return _write([*head, *sets, ["GE", "1", "1"], ["IEA", "1", control.rjust(9, "0")]], s)


def write_837(claims: list[GeneratedClaim], *, separators: Separators = DEFAULT, envelope=True, control="1") -> str:
    c = separators.component
    body = [
        ["BHT", "0019", "00", f"B{control}", "20260901", "1200", "CH"],
        ["NM1", "41", "2", "NORTH BILLING", "", "", "", "", "46", "S1"],
        ["NM1", "40", "2", "PAYER", "", "", "", "", "46", "P1"],
        ["HL", "1", "", "20", "1"],
        ["NM1", "85", "2", "NORTHSIDE PEDIATRICS", "", "", "", "", "XX", "1234567893"],
        ["N3", "1 MAIN ST"],
        ["N4", "ALBANY", "NY", "12207"],
    ]
    hl = 1
    for claim in claims:
        hl += 1
        body += [
            ["HL", str(hl), "1", "22", "0"],
            ["SBR", "P", "18", "", "", "", "", "", "", "CI"],
            ["NM1", "IL", "1", claim.last, claim.first, "", "", "", "MI", claim.member_id],
            ["N3", "12 ELM ST"],
            ["N4", "ALBANY", "NY", "12207"],
            ["DMG", "D8", _d(claim.date_of_birth), "F"],
            ["NM1", "PR", "2", "KEY INSURANCE", "", "", "", "", "PI", "999996666"],
            ["CLM", claim.control_number, str(claim.charge), "", "", c.join(["11", "B", "1"]), "Y", "A", "Y", "Y"],
            ["HI", c.join(["ABK", "J069"])],
            ["NM1", "82", "1", "ALVAREZ", "RUTH", "", "", "", "XX", "1999996666"],
        ]
        for n, line in enumerate(claim.lines, 1):
            procedure = c.join(["HC", line.code, *([line.modifier] if line.modifier else [])])
            body += [
                ["LX", str(n)],
                ["SV1", procedure, str(line.charge), "UN", "1", "", "", "1"],
                ["DTP", "472", "D8", _d(claim.service_date)],
            ]
    return _wrap(body, separators, kind="837", envelope=envelope, control=control)


def write_835(
    claims: list[GeneratedClaim],
    *,
    trace: str = "EFT0001",
    reversal: bool = False,
    provider_adjustment: Decimal | None = None,
    separators: Separators = DEFAULT,
    envelope: bool = True,
    control: str = "2",
    paid_on: date = date(2026, 10, 15),
) -> str:
    """The payer's remittance for `claims`; `reversal`: CLP02 22 taking every payment back."""
    c = separators.component
    sign = Decimal(-1) if reversal else Decimal(1)
    total = sum((claim.paid for claim in claims), Decimal("0.00")) * sign
    if provider_adjustment:
        total -= provider_adjustment
    body = [
        ["BPR", "I", str(total), "C", "ACH", "CCP", "", "", "", "", "", "", "", "", "", _d(paid_on)],
        ["TRN", "1", trace, "1999999999"],
        ["DTM", "405", _d(paid_on)],
        ["N1", "PR", "KEY INSURANCE"],
        ["N1", "PE", "NORTHSIDE PEDIATRICS", "XX", "1234567893"],
        ["LX", "1"],
    ]
    for claim in claims:
        body.append(
            [
                "CLP", claim.control_number, "22" if reversal else "1", str(claim.charge * sign),
                str(claim.paid * sign), str(claim.patient * sign), "12", claim.payer_claim_number, "11", "1",
            ]
        )  # fmt: skip
        if claim.pr_at_claim_level and claim.patient:
            body.append(["CAS", "PR", "1", str(claim.patient * sign)])
        body.append(["NM1", "QC", "1", claim.last, claim.first, "", "", "", "MI", claim.member_id])
        body.append(["DTM", "232", _d(claim.service_date)])
        for line in claim.lines:
            procedure = c.join(["HC", line.code, *([line.modifier] if line.modifier else [])])
            svc_paid = line.allowed if claim.pr_at_claim_level else line.paid
            body.append(["SVC", procedure, str(line.charge * sign), str(svc_paid * sign), "", "1"])
            body.append(["DTM", "472", _d(claim.service_date)])
            if line.contractual:
                body.append(["CAS", "CO", "45", str(line.contractual * sign)])
            if line.patient and not claim.pr_at_claim_level:
                body.append(["CAS", "PR", "2", str(line.patient * sign)])
    if provider_adjustment:
        body.append(["PLB", "1234567893", "20261231", c.join(["WO", "OVERPAY1"]), str(provider_adjustment)])
    return _wrap(body, separators, kind="835", envelope=envelope, control=control)
