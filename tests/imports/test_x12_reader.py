"""Our X12 reader: separators from the header, files without an envelope, the quirks of the shared
samples, and refusals that name the segment and its position."""

from decimal import Decimal

import pytest

from imports import x12
from imports import x12_generator as gen
from tests.imports.conftest import X12, need

CLAIMS = gen.generate_claims(3, seed=7)


def test_separators_come_from_the_isa_header():
    seps = gen.Separators(element="|", component="^", segment="\n", newline="")
    text = gen.write_835(CLAIMS, separators=seps)
    interchange = x12.read(text, known=x12.SEGMENTS_835)
    assert interchange.separators == x12.Separators("|", "^", "\n")
    remittance = x12.parse_835(interchange)[0]
    assert [c.control_number for c in remittance.claims] == [c.control_number for c in CLAIMS]
    assert remittance.claims[0].services[0].code == CLAIMS[0].lines[0].code


def test_line_breaks_after_terminators_are_ignored_and_the_digest_does_not_see_them():
    one_line = gen.write_835(CLAIMS, separators=gen.Separators(newline=""))
    broken = gen.write_835(CLAIMS, separators=gen.Separators(newline="\r\n"))
    assert x12.read(one_line).digest == x12.read(broken).digest


def test_a_file_starting_at_st_without_envelope_is_read():
    text = gen.write_835(CLAIMS, envelope=False, separators=gen.Separators(component=">"))
    assert text.startswith("ST*835")
    interchange = x12.read(text, known=x12.SEGMENTS_835)
    assert not interchange.has_envelope
    assert interchange.separators.component == ">"
    claims = x12.parse_835(interchange)[0].claims
    assert sum((c.total("PR") for c in claims), Decimal("0")) == sum((c.patient for c in CLAIMS), Decimal("0"))


def test_segments_carry_their_position_counted_from_isa():
    interchange = x12.read(gen.write_835(CLAIMS))
    assert [s.tag for s in interchange.segments[:3]] == ["ISA", "GS", "ST"]
    assert [s.position for s in interchange.segments[:3]] == [1, 2, 3]
    first_clp = next(s for s in interchange.segments if s.tag == "CLP")
    assert x12.parse_835(interchange)[0].claims[0].position == first_clp.position


def test_a_truncated_file_is_refused_naming_its_last_segment():
    text = gen.write_835(CLAIMS)
    cut = text[: text.index("CLP*", text.index("CLP*") + 1)]
    with pytest.raises(x12.X12Error) as error:
        x12.read(cut)
    assert "truncated" in str(error.value)
    assert error.value.position == len([s for s in cut.split("~") if s.strip()])


def test_a_file_cut_inside_the_transaction_set_with_its_iea_kept_is_refused():
    text = gen.write_835(CLAIMS)
    segments = [s for s in text.split("~") if s.strip()]
    del segments[-4]  # one CAS/DTM gone: SE01 no longer counts what is there
    with pytest.raises(x12.X12Error, match="SE01 says"):
        x12.read("~".join(segments) + "~")


def test_an_unknown_segment_is_refused_with_its_position():
    text = gen.write_835(CLAIMS).replace("DTM*405", "ZZZ*405", 1)
    with pytest.raises(x12.X12Error) as error:
        x12.read(text, known=x12.SEGMENTS_835)
    assert error.value.tag == "ZZZ"
    assert str(error.value).startswith(f"segment {error.value.position} (ZZZ): unknown segment")


def test_separators_other_than_the_header_declares_are_refused():
    # The header says "*", the body was written with "|".
    body = gen.write_835(CLAIMS, separators=gen.Separators(element="|"))
    text = body.replace("|", "*", 16 + 1)  # only the ISA (and the first separator of GS) fixed up
    with pytest.raises(x12.X12Error, match="not a segment identifier"):
        x12.read(text)


def test_text_that_is_not_x12_is_refused():
    with pytest.raises(x12.X12Error, match="neither ISA nor ST"):
        x12.read("patient,amount\nsmith,12.00\n")
    with pytest.raises(x12.X12Error, match="cut short"):
        x12.read("ISA*00*")
    with pytest.raises(x12.X12Error, match="fewer than 16 elements"):
        x12.read("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER")


def test_an_isa_whose_padding_was_trimmed_still_reads():
    text = gen.write_835(CLAIMS)
    isa, rest = text.split("~", 1)
    trimmed = "*".join(part.strip() or part[:1] for part in isa.split("*"))
    interchange = x12.read(trimmed + "~" + rest)
    assert len(trimmed) < 105 and interchange.separators == x12.Separators("*", ":", "~")
    assert interchange.sender == "PAYERSENDER" and interchange.control_number == "000000002"


def test_an_amount_that_is_not_money_rejects_its_claim_only():
    text = gen.write_835(CLAIMS).replace(
        f"CLP*{CLAIMS[1].control_number}*1*{CLAIMS[1].charge}", f"CLP*{CLAIMS[1].control_number}*1*12.3.4", 1
    )
    claims = x12.parse_835(x12.read(text))[0].claims
    assert claims[0].error is None and claims[2].error is None
    assert "is not an amount" in str(claims[1].error)


def test_cas_splits_into_its_reason_and_amount_triplets():
    text = "ST*835*1~BPR*I*0*C*NON~TRN*1*T*P~LX*1~CLP*X*1*300*0*220*12*P1~CAS*PR*1*150.00**2*70.00~CAS*CO*45*80~SE*8*1~"
    claim = x12.parse_835(x12.read(text))[0].claims[0]
    assert [(a.group, a.reason, a.amount) for a in claim.adjustments] == [
        ("PR", "1", Decimal("150.00")),
        ("PR", "2", Decimal("70.00")),
        ("CO", "45", Decimal("80.00")),
    ]


# --- The shared samples (../shared/data/x12) ------------------------------------------------------


def test_secondary_payment_component_separator_quirk_is_read_with_a_warning():
    text = (need(X12) / "835" / "secondary-payment.835").read_bytes()
    interchange = x12.read(text, known=x12.SEGMENTS_835)
    claims = x12.parse_835(interchange)[0].claims
    assert [(s.code, s.modifiers) for s in claims[1].services] == [("12345", ["26"]), ("66543", ["26"])]
    assert any("component separator '>' differs" in w and "segment 29 (SVC)" in w for w in interchange.warnings)


def test_tertiary_payment_malformed_svc_rejects_that_claim_naming_the_segment():
    text = (need(X12) / "835" / "tertiary-payment.835").read_bytes()
    claim = x12.parse_835(x12.read(text, known=x12.SEGMENTS_835))[0].claims[0]
    assert claim.error is not None
    assert claim.error.position == 20 and claim.error.tag == "SVC"
    assert "no procedure code" in str(claim.error)


@pytest.mark.parametrize("name", ["managed-care.835", "secondary-payment.835", "cob-contractural-adjustment.835"])
def test_every_sample_claim_has_clp05_equal_to_its_pr_adjustments(name):
    text = (need(X12) / "835" / name).read_bytes()
    for claim in x12.parse_835(x12.read(text))[0].claims:
        assert (claim.patient_responsibility or Decimal("0")) == claim.total("PR")


def test_837p_loops_give_patient_subscriber_payer_lines_and_diagnoses():
    text = (need(X12) / "837P" / "demo.cob.example3.A.837").read_bytes()
    (claim,) = x12.parse_837(x12.read(text, known=x12.SEGMENTS_837))
    assert claim.control_number == "26407789"
    assert claim.patient.first == "TED" and claim.subscriber.identifier == "111223333"
    assert claim.relationship == "19"  # PAT01: child
    assert claim.payer.last == "KEY INSURANCE COMPANY"
    assert claim.diagnosis_codes == ["4779", "2724", "2780", "53081"]
    assert [(line.code, line.amount) for line in claim.lines] == [
        ("99213", Decimal("43.00")),
        ("90782", Decimal("15.00")),
        ("J3301", Decimal("21.04")),
    ]
    assert claim.rendering.identifier == "1999996666"
    # The other subscriber of loop 2320/2330 (Jack) does not replace the claim's subscriber.
    assert claim.subscriber.first == "JANE"
