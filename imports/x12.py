"""Our own small X12 reader: segments with their position, and the loops of the 835 and the 837P.

Separators come from the ISA header: the element separator is the byte after "ISA", the component
separator is ISA16 and the segment terminator is the byte after it. ISA is fixed width (106 bytes)
in the standard; we find ISA16 by counting element separators instead, so an ISA whose padding was
trimmed still reads. Newlines after terminators are ignored. A file that starts at ST (some payer
portals send the transaction set without the ISA/GS envelope) takes its element separator from the
byte after "ST" and its terminator from the first byte that cannot be part of the ST segment.

Quirks we cope with (../shared/data/x12/SOURCE.md):
- a component separator other than the one ISA16 declares (secondary-payment.835 declares ":" and
  writes "HC>12345>26"): a composite element without the declared separator whose qualifier is
  followed by a punctuation byte is split at that byte, and the file carries a warning naming the
  segment;
- a malformed composite (tertiary-payment.835: "SVC*HC*24599.00*...", the qualifier without its
  code): that claim is rejected with the segment and its position, the rest of the file reads.

Structural faults reject the whole file (X12Error names the segment and its position): no ISA or
ST at the start, a transaction set without its SE (a truncated file), an SE whose count differs from
the segments read, a segment tag that is not a segment of the transaction set.

Positions are 1-based segment numbers counted from the first segment of the file (ISA, or ST).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

ISA_ELEMENTS = 16
_TAG = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
# A qualifier of a composite (HC, AD, ABK, BK...) followed by a punctuation byte.
_COMPOSITE_GUESS = re.compile(r"^([A-Z0-9]{1,3})([^A-Za-z0-9 .\-])")

ENVELOPE = {"ISA", "IEA", "GS", "GE", "ST", "SE"}
# CAS groups: contractual, patient responsibility, other, payer initiated (CR was retired in 5010).
ADJUSTMENT_GROUPS = ("CO", "PR", "OA", "PI")
# Segments of 005010X221A1 (835) and 005010X222A2 (837P); anything else rejects the file.
SEGMENTS_835 = ENVELOPE | {
    "BPR", "TRN", "CUR", "REF", "DTM", "N1", "N3", "N4", "PER", "RDM", "LX", "TS3", "TS2", "CLP", "CAS",
    "NM1", "MIA", "MOA", "AMT", "QTY", "SVC", "LQ", "PLB",
}  # fmt: skip
SEGMENTS_837 = ENVELOPE | {
    "BHT", "NM1", "PER", "HL", "PRV", "CUR", "N3", "N4", "REF", "SBR", "PAT", "DMG", "CLM", "DTP", "PWK", "CN1",
    "AMT", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP", "OI", "MOA", "CAS", "LX", "SV1", "SV5", "CR3",
    "QTY", "MEA", "PS1", "LIN", "CTP", "SVD", "LQ", "FRM", "MIA",
}  # fmt: skip


class X12Error(Exception):
    """A file we cannot read; the message names the segment and its position."""

    def __init__(self, message: str, *, position: int | None = None, tag: str = ""):
        where = f"segment {position}" + (f" ({tag})" if tag else "") + ": " if position else ""
        super().__init__(where + message)
        self.position = position
        self.tag = tag
        self.reason = message


@dataclass(frozen=True)
class Separators:
    element: str
    component: str
    segment: str


@dataclass(frozen=True)
class Segment:
    position: int
    tag: str
    elements: tuple[str, ...]  # elements[0] is the tag, so get(1) is the first data element

    def get(self, index: int, default: str = "") -> str:
        return self.elements[index].strip() if index < len(self.elements) else default


@dataclass
class Interchange:
    separators: Separators
    segments: list[Segment]
    sender: str = ""
    receiver: str = ""
    control_number: str = ""
    has_envelope: bool = True
    warnings: list[str] = field(default_factory=list)
    _composite_warned: bool = False

    @property
    def digest(self) -> str:
        """sha256 of the segments with canonical separators: the same interchange written with other
        separators or line breaks has the same digest."""
        h = hashlib.sha256()
        for seg in self.segments:
            h.update("*".join(seg.elements).encode())
            h.update(b"~")
        return h.hexdigest()

    def composite(self, segment: Segment, index: int) -> list[str]:
        """Components of a composite element, coping with a component separator other than ISA16."""
        value = segment.get(index)
        if not value:
            return []
        declared = self.separators.component
        if declared in value:
            return [part.strip() for part in value.split(declared)]
        guess = _COMPOSITE_GUESS.match(value)
        if guess and guess.group(2) != self.separators.element:
            used = guess.group(2)
            if not self._composite_warned:
                self.warnings.append(
                    f"segment {segment.position} ({segment.tag}): component separator {used!r} "
                    f"differs from the declared {declared!r}; read with {used!r}"
                )
                self._composite_warned = True
            return [part.strip() for part in value.split(used)]
        return [value]


def _decode(content: bytes | str) -> str:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = content.decode("latin-1")
    return content.lstrip("\ufeff \t\r\n")


def _isa_separators(text: str) -> Separators:
    if len(text) < 20:
        raise X12Error("the ISA header is cut short (file truncated?)", position=1, tag="ISA")
    element = text[3]
    if element.isalnum() or element.isspace():
        raise X12Error(f"the element separator {element!r} after ISA is not a separator", position=1, tag="ISA")
    index, count = 3, 0
    while count < ISA_ELEMENTS:
        index = text.find(element, index + 1) if count else 3
        if index < 0:
            raise X12Error("the ISA header has fewer than 16 elements (file truncated?)", position=1, tag="ISA")
        count += 1
    component = text[index + 1] if index + 1 < len(text) else ""
    segment = text[index + 2] if index + 2 < len(text) else ""
    if not component or component.isalnum() or component in (element, " "):
        raise X12Error(f"ISA16 {component!r} is not a component separator", position=1, tag="ISA")
    if not segment or segment.isalnum() or segment in (element, component, " "):
        raise X12Error(f"the segment terminator {segment!r} after ISA16 is not a separator", position=1, tag="ISA")
    return Separators(element, component, segment)


def _st_separators(text: str) -> Separators:
    element = text[2]
    if element.isalnum() or element.isspace():
        raise X12Error(f"the element separator {element!r} after ST is not a separator", position=1, tag="ST")
    for char in text[3:200]:
        if char.isalnum() or char in (element, " ", "."):
            continue
        segment = char
        break
    else:
        raise X12Error("no segment terminator after ST", position=1, tag="ST")
    # No ISA16 to read: take the separator the first composite uses, else the usual ":".
    component = ":"
    match = re.search(re.escape(element) + r"(?:HC|BK|ABK|AD|ER|IV|N4|WK|ZZ)([^A-Za-z0-9 .\-])", text)
    if match and match.group(1) not in (element, segment):
        component = match.group(1)
    return Separators(element, component, segment)


def read(content: bytes | str, *, known: set[str] | None = None) -> Interchange:
    """Split a file into segments with their positions; structural faults raise X12Error."""
    text = _decode(content)
    if text.startswith("ISA"):
        seps, has_envelope = _isa_separators(text), True
    elif text.startswith("ST"):
        seps, has_envelope = _st_separators(text), False
    else:
        raise X12Error("the file starts with neither ISA nor ST; it is not an X12 interchange", position=1)
    segments: list[Segment] = []
    for position, raw in enumerate(_raw_segments(text, seps), start=1):
        elements = tuple(raw.split(seps.element))
        tag = elements[0].strip()
        if not _TAG.match(tag):
            raise X12Error(
                f"{tag[:10]!r} is not a segment identifier (wrong separators?)", position=position, tag=tag[:3]
            )
        if known is not None and tag not in known:
            raise X12Error(f"unknown segment {tag}", position=position, tag=tag)
        segments.append(Segment(position, tag, elements))
    if not segments:
        raise X12Error("the file has no segments")
    interchange = Interchange(seps, segments, has_envelope=has_envelope)
    if has_envelope:
        isa = segments[0]
        interchange.sender = isa.get(6)
        interchange.receiver = isa.get(8)
        interchange.control_number = isa.get(13)
        if segments[-1].tag != "IEA":
            last = segments[-1]
            raise X12Error("the file ends without IEA (truncated?)", position=last.position, tag=last.tag)
    _check_transaction_sets(segments)
    return interchange


def _raw_segments(text: str, seps: Separators) -> Iterator[str]:
    for raw in text.split(seps.segment):
        raw = raw.strip("\r\n")
        if raw.strip():
            yield raw


def _check_transaction_sets(segments: list[Segment]) -> None:
    start: Segment | None = None
    for seg in segments:
        if seg.tag == "ST":
            if start is not None:
                raise X12Error("ST inside another transaction set (missing SE)", position=seg.position, tag="ST")
            start = seg
        elif seg.tag == "SE":
            if start is None:
                raise X12Error("SE without its ST", position=seg.position, tag="SE")
            counted = seg.position - start.position + 1
            if seg.get(1) != str(counted):
                raise X12Error(
                    f"SE01 says {seg.get(1) or 'nothing'} segments, the transaction set has {counted}",
                    position=seg.position,
                    tag="SE",
                )
            start = None
        elif start is None and seg.tag not in ("ISA", "IEA", "GS", "GE"):
            raise X12Error(f"{seg.tag} outside a transaction set", position=seg.position, tag=seg.tag)
    if start is not None:
        last = segments[-1]
        raise X12Error(
            f"the file ends inside transaction set {start.get(2)} (no SE; truncated?)",
            position=last.position,
            tag=last.tag,
        )


def read_as(content: bytes | str, kind: str) -> Interchange:
    """`read` a file that must be an 835 or an 837 ("835" / "837"), every segment one of its own."""
    interchange = read(content)
    found = kind_of(interchange)
    if found != kind:
        names = {"835": "an 835 (remittance)", "837": "an 837P (claims)"}
        raise X12Error(f"this is {names.get(found, 'a ' + found[:3])} file, not {names[kind]}")
    known = SEGMENTS_835 if kind == "835" else SEGMENTS_837
    for seg in interchange.segments:
        if seg.tag not in known:
            raise X12Error(f"unknown segment {seg.tag}", position=seg.position, tag=seg.tag)
    return interchange


def transaction_sets(interchange: Interchange) -> Iterator[list[Segment]]:
    current: list[Segment] | None = None
    for seg in interchange.segments:
        if seg.tag == "ST":
            current = [seg]
        elif current is not None:
            current.append(seg)
            if seg.tag == "SE":
                yield current
                current = None


def kind_of(interchange: Interchange) -> str:
    """'835' or '837' from the first ST01."""
    for seg in interchange.segments:
        if seg.tag == "ST":
            return seg.get(1)
    raise X12Error("no ST segment")


def amount(segment: Segment, index: int, *, required: bool = True) -> Decimal | None:
    text = segment.get(index)
    if not text:
        if required:
            raise X12Error(f"{segment.tag}{index:02d} (an amount) is empty", position=segment.position, tag=segment.tag)
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise X12Error(
            f"{segment.tag}{index:02d} {text[:12]!r} is not an amount", position=segment.position, tag=segment.tag
        ) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise X12Error(
            f"{segment.tag}{index:02d} {text[:12]!r} is not an amount in cents",
            position=segment.position,
            tag=segment.tag,
        )
    return value.quantize(Decimal("0.01"))


def ccyymmdd(text: str, segment: Segment | None = None) -> date | None:
    text = (text or "").strip()
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    if segment is not None and text:
        raise X12Error(f"{text[:10]!r} is not a date (CCYYMMDD)", position=segment.position, tag=segment.tag)
    return None


# --- 835 ---------------------------------------------------------------------------------------


@dataclass
class Adjustment:
    group: str
    reason: str
    amount: Decimal
    position: int


@dataclass
class ServicePayment:
    position: int
    qualifier: str
    code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units: str
    service_date: date | None = None
    adjustments: list[Adjustment] = field(default_factory=list)


@dataclass
class ClaimPayment:
    position: int
    control_number: str  # CLP01: our patient control number (837 CLM01)
    status: str  # CLP02
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None  # CLP05
    filing_indicator: str
    payer_claim_number: str  # CLP07
    patient_last: str = ""
    patient_first: str = ""
    member_id: str = ""
    service_date: date | None = None
    adjustments: list[Adjustment] = field(default_factory=list)  # claim level
    services: list[ServicePayment] = field(default_factory=list)
    error: X12Error | None = None

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"

    def all_adjustments(self) -> list[Adjustment]:
        return [*self.adjustments, *(adj for svc in self.services for adj in svc.adjustments)]

    def total(self, group: str) -> Decimal:
        return sum((adj.amount for adj in self.all_adjustments() if adj.group == group), Decimal("0.00"))

    def totals(self) -> dict[str, Decimal]:
        """total() of every adjustment group (ADJUSTMENT_GROUPS), in one pass."""
        sums = dict.fromkeys(ADJUSTMENT_GROUPS, Decimal("0.00"))
        for adj in self.all_adjustments():
            sums[adj.group] = sums.get(adj.group, Decimal("0.00")) + adj.amount
        return sums


@dataclass
class ProviderLevelAdjustment:
    position: int
    provider_id: str
    period_end: date | None
    reason: str
    reference: str
    amount: Decimal


@dataclass
class Remittance:
    position: int
    control_number: str  # ST02
    payment_amount: Decimal
    credit_debit: str
    method: str
    payment_date: date | None
    trace_number: str  # TRN02: check or EFT trace number
    payer_identifier: str  # TRN03
    production_date: date | None = None
    payer_name: str = ""
    payer_id: str = ""
    payee_name: str = ""
    payee_id: str = ""
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderLevelAdjustment] = field(default_factory=list)


def _cas(segment: Segment) -> list[Adjustment]:
    group = segment.get(1)
    if group not in ADJUSTMENT_GROUPS:
        raise X12Error(f"CAS01 {group[:4]!r} is not an adjustment group", position=segment.position, tag="CAS")
    out = []
    # Up to six reason/amount/quantity triplets: CAS02-04, 05-07, ... 17-19.
    for start in range(2, 20, 3):
        reason = segment.get(start)
        if not reason:
            continue
        value = amount(segment, start + 1)
        out.append(Adjustment(group, reason, value, segment.position))
    if not out:
        raise X12Error("CAS without a reason and amount", position=segment.position, tag="CAS")
    return out


def parse_835(interchange: Interchange) -> list[Remittance]:
    out = []
    for segments in transaction_sets(interchange):
        if segments[0].get(1) != "835":
            raise X12Error(
                f"transaction set {segments[0].get(1)} is not an 835", position=segments[0].position, tag="ST"
            )
        out.append(_parse_835_set(interchange, segments))
    return out


def _parse_835_set(interchange: Interchange, segments: list[Segment]) -> Remittance:
    remittance: Remittance | None = None
    claim: ClaimPayment | None = None
    service: ServicePayment | None = None
    n1 = ""
    for seg in segments:
        tag = seg.tag
        if tag == "BPR":
            remittance = Remittance(
                position=segments[0].position,
                control_number=segments[0].get(2),
                payment_amount=amount(seg, 2),
                credit_debit=seg.get(3),
                method=seg.get(4),
                # Lenient: the samples carry an impossible BPR16 (20002316) or shift it; DTM*405 stands in.
                payment_date=ccyymmdd(seg.get(16)),
                trace_number="",
                payer_identifier="",
            )
            continue
        if remittance is None:
            if tag in ("ST",):
                continue
            raise X12Error("the 835 has no BPR before its other segments", position=seg.position, tag=tag)
        if tag == "TRN" and claim is None:
            remittance.trace_number = seg.get(2)
            remittance.payer_identifier = seg.get(3)
        elif tag == "DTM" and claim is None and seg.get(1) == "405":
            remittance.production_date = ccyymmdd(seg.get(2), seg)
        elif tag == "N1" and claim is None:
            n1 = seg.get(1)
            if n1 == "PR":
                remittance.payer_name, remittance.payer_id = seg.get(2), seg.get(4)
            elif n1 == "PE":
                remittance.payee_name, remittance.payee_id = seg.get(2), seg.get(4)
        elif tag == "REF" and claim is None and n1 == "PR" and seg.get(1) == "2U" and not remittance.payer_id:
            remittance.payer_id = seg.get(2)
        elif tag == "CLP":
            service = None
            claim = ClaimPayment(
                position=seg.position,
                control_number=seg.get(1),
                status=seg.get(2),
                charge=Decimal("0.00"),
                paid=Decimal("0.00"),
                patient_responsibility=None,
                filing_indicator=seg.get(6),
                payer_claim_number=seg.get(7),
            )
            remittance.claims.append(claim)
            try:
                if not claim.control_number:
                    raise X12Error("CLP01 (patient control number) is empty", position=seg.position, tag="CLP")
                claim.charge = amount(seg, 3)
                claim.paid = amount(seg, 4)
                claim.patient_responsibility = amount(seg, 5, required=False)
            except X12Error as error:
                claim.error = claim.error or error
        elif tag == "PLB":
            claim = service = None
            _plb(interchange, seg, remittance)
        elif tag in ("SE", "LX", "TS3", "TS2"):
            if tag == "LX":
                claim = service = None
        elif claim is not None:
            try:
                service = _claim_segment(interchange, seg, claim, service)
            except X12Error as error:
                claim.error = claim.error or error
    if remittance is None:
        raise X12Error("the 835 has no BPR", position=segments[0].position, tag="ST")
    return remittance


def _claim_segment(
    interchange: Interchange, seg: Segment, claim: ClaimPayment, service: ServicePayment | None
) -> ServicePayment | None:
    tag = seg.tag
    if tag == "CAS":
        (service.adjustments if service is not None else claim.adjustments).extend(_cas(seg))
    elif tag == "NM1" and seg.get(1) == "QC" and service is None:
        claim.patient_last, claim.patient_first, claim.member_id = seg.get(3), seg.get(4), seg.get(9)
    elif tag == "DTM" and service is None and seg.get(1) in ("232", "050") and claim.service_date is None:
        claim.service_date = ccyymmdd(seg.get(2), seg)
    elif tag == "DTM" and service is not None and seg.get(1) in ("472", "150"):
        service.service_date = ccyymmdd(seg.get(2), seg)
    elif tag == "SVC":
        parts = interchange.composite(seg, 1)
        if len(parts) < 2 or not parts[1]:
            raise X12Error(
                f"SVC01 {seg.get(1)[:20]!r} has a qualifier but no procedure code (malformed composite)",
                position=seg.position,
                tag="SVC",
            )
        service = ServicePayment(
            position=seg.position,
            qualifier=parts[0],
            code=parts[1],
            modifiers=[p for p in parts[2:6] if p],
            charge=amount(seg, 2),
            paid=amount(seg, 3),
            units=seg.get(5) or "1",
        )
        claim.services.append(service)
    return service


def _plb(interchange: Interchange, seg: Segment, remittance: Remittance) -> None:
    # PLB03/04, 05/06 ... 13/14: an adjustment identifier (reason:reference) and its amount.
    for start in range(3, 15, 2):
        if not seg.get(start):
            continue
        parts = interchange.composite(seg, start)
        remittance.provider_adjustments.append(
            ProviderLevelAdjustment(
                position=seg.position,
                provider_id=seg.get(1),
                period_end=ccyymmdd(seg.get(2), seg),
                reason=parts[0] if parts else "",
                reference=parts[1] if len(parts) > 1 else "",
                amount=amount(seg, start + 1),
            )
        )


# --- 837P --------------------------------------------------------------------------------------


@dataclass
class Person:
    last: str = ""
    first: str = ""
    middle: str = ""
    is_person: bool = True
    id_qualifier: str = ""
    identifier: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    date_of_birth: date | None = None
    sex: str = ""

    @property
    def display_name(self) -> str:
        if not self.is_person or not self.first:
            return self.last
        return f"{self.first} {self.last}"


@dataclass
class ServiceLine:
    number: int
    position: int
    qualifier: str
    code: str
    modifiers: list[str]
    amount: Decimal
    units: Decimal
    place_of_service: str
    service_date: date | None = None
    rendering: Person | None = None


@dataclass
class ProfessionalClaim:
    position: int
    control_number: str  # CLM01
    total: Decimal
    place_of_service: str
    frequency: str
    submitted_on: date | None
    billing: Person
    subscriber: Person
    relationship: str  # SBR02 (18 = self) or PAT01
    filing_indicator: str  # SBR09
    payer: Person
    patient: Person | None  # None: the subscriber is the patient
    diagnosis_codes: list[str] = field(default_factory=list)
    service_date: date | None = None
    rendering: Person | None = None
    lines: list[ServiceLine] = field(default_factory=list)
    error: X12Error | None = None

    @property
    def the_patient(self) -> Person:
        return self.patient or self.subscriber


def _nm1(seg: Segment) -> Person:
    return Person(
        last=seg.get(3),
        first=seg.get(4),
        middle=seg.get(5),
        is_person=seg.get(2) == "1",
        id_qualifier=seg.get(8),
        identifier=seg.get(9),
    )


def parse_837(interchange: Interchange) -> list[ProfessionalClaim]:
    claims = []
    for segments in transaction_sets(interchange):
        if segments[0].get(1) != "837":
            raise X12Error(
                f"transaction set {segments[0].get(1)} is not an 837", position=segments[0].position, tag="ST"
            )
        claims.extend(_parse_837_set(interchange, segments))
    return claims


def _parse_837_set(interchange: Interchange, segments: list[Segment]) -> list[ProfessionalClaim]:
    claims: list[ProfessionalClaim] = []
    submitted_on = None
    billing = subscriber = payer = Person()
    patient: Person | None = None
    relationship = filing = ""
    claim: ProfessionalClaim | None = None
    line: ServiceLine | None = None
    current: Person | None = None  # the person N3/N4/DMG apply to
    other_payer = False  # inside 2320/2330 (other subscriber information): skipped
    for seg in segments:
        tag = seg.tag
        try:
            if tag == "BHT":
                submitted_on = ccyymmdd(seg.get(4), seg)
            elif tag == "HL":
                claim = line = current = None
                other_payer = False
                level = seg.get(3)
                if level == "20":
                    billing, subscriber, patient = Person(), Person(), None
                elif level == "22":
                    subscriber, payer, patient = Person(), Person(), None
                elif level == "23":
                    patient = Person()
                elif level:
                    raise X12Error(f"HL03 {level[:4]!r} is not a level of an 837P", position=seg.position, tag="HL")
            elif tag == "SBR" and claim is None:
                relationship, filing = seg.get(2), seg.get(9)
            elif tag == "SBR":
                other_payer = True
            elif tag == "PAT" and claim is None:
                relationship = seg.get(1)
            elif tag == "CLM":
                parts = interchange.composite(seg, 5)
                claim = ProfessionalClaim(
                    position=seg.position,
                    control_number=seg.get(1),
                    total=Decimal("0.00"),
                    place_of_service=parts[0] if parts else "",
                    frequency=parts[2] if len(parts) > 2 else "",
                    submitted_on=submitted_on,
                    billing=billing,
                    subscriber=subscriber,
                    relationship=relationship,
                    filing_indicator=filing,
                    payer=payer,
                    patient=patient,
                )
                claims.append(claim)
                line = current = None
                if not claim.control_number:
                    raise X12Error("CLM01 (patient control number) is empty", position=seg.position, tag="CLM")
                claim.total = amount(seg, 2)
            elif other_payer and tag not in ("LX",):
                continue
            elif tag == "NM1":
                person = _nm1(seg)
                code = seg.get(1)
                current = person
                if claim is None:
                    if code == "85":
                        billing = person
                    elif code == "IL":
                        subscriber = person
                    elif code == "PR":
                        payer = person
                    elif code == "QC":
                        patient = person
                        current = patient
                elif code == "82":
                    if line is not None:
                        line.rendering = person
                    else:
                        claim.rendering = person
            elif tag == "N3" and current is not None:
                current.address1, current.address2 = seg.get(1), seg.get(2)
            elif tag == "N4" and current is not None:
                current.city, current.state, current.postal_code = seg.get(1), seg.get(2), seg.get(3)
            elif tag == "DMG" and current is not None:
                current.date_of_birth = ccyymmdd(seg.get(2), seg)
                current.sex = seg.get(3)
            elif claim is None:
                continue
            elif tag == "HI":
                for index in range(1, 13):
                    parts = interchange.composite(seg, index)
                    if len(parts) >= 2 and parts[1]:
                        claim.diagnosis_codes.append(parts[1])
            elif tag == "DTP" and line is None and seg.get(1) in ("472", "434") and claim.service_date is None:
                claim.service_date = ccyymmdd(seg.get(3)[:8], seg)
            elif tag == "DTP" and line is not None and seg.get(1) == "472":
                line.service_date = ccyymmdd(seg.get(3)[:8], seg)
            elif tag == "LX":
                other_payer = False
                line = None
                current = None
            elif tag == "SV1":
                parts = interchange.composite(seg, 1)
                if len(parts) < 2 or not parts[1]:
                    raise X12Error(
                        f"SV101 {seg.get(1)[:20]!r} has a qualifier but no procedure code",
                        position=seg.position,
                        tag="SV1",
                    )
                units_text = seg.get(4) or "1"
                try:
                    units = Decimal(units_text)
                except InvalidOperation:
                    raise X12Error(
                        f"SV104 {units_text[:10]!r} is not a number of units", position=seg.position, tag="SV1"
                    ) from None
                line = ServiceLine(
                    number=len(claim.lines) + 1,
                    position=seg.position,
                    qualifier=parts[0],
                    code=parts[1],
                    modifiers=[p for p in parts[2:6] if p],
                    amount=amount(seg, 2),
                    units=units,
                    place_of_service=seg.get(5),
                )
                claim.lines.append(line)
        except X12Error as error:
            if claim is None:
                raise
            claim.error = claim.error or error
    return claims
