"""The compliance governor: every rule allowed and refused, with time passed explicitly (`at=`)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.contacts import compliance
from collections_app.contacts.compliance import contact_decision
from collections_app.models import AccountHold, Contact, ContactConsent

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
# Wednesday 10 June 2026, 16:00 UTC: noon in New York (EDT), 9:00 in Los Angeles (PDT).
NOON_NY = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)

Channel = Contact.Channel
Party = Contact.Party
Outcome = Contact.Outcome


def log(account, *, at, channel=Channel.OUTBOUND_CALL, party=Party.PATIENT, outcome=Outcome.NO_ANSWER):
    return Contact.objects.create(
        account=account, practice=account.practice, channel=channel, party=party, outcome=outcome, occurred_at=at
    )


def call(account, at=NOON_NY, **kwargs):
    kwargs.setdefault("channel", Channel.OUTBOUND_CALL)
    kwargs.setdefault("party", Party.PATIENT)
    return contact_decision(account=account, at=at, **kwargs)


def test_a_call_in_calling_hours_with_nothing_against_it_is_allowed(account):
    decision = call(account)
    assert decision.allowed
    assert decision.reasons == []
    assert decision.next_allowed_at is None


# --- Call window in the patient's time zone (FDCPA 1692c(a)(1)) --------------------------------


def test_call_window_uses_the_patients_time_zone_los_angeles_vs_new_york(account):
    early = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 9:00 in New York, 6:00 in Los Angeles
    assert call(account, at=early).allowed  # no patient zone: the practice's (New York)

    account.patient.time_zone = "America/Los_Angeles"
    account.patient.save(update_fields=["time_zone"])
    decision = call(account, at=early)
    assert not decision.allowed
    assert decision.codes == [compliance.CALL_WINDOW]
    assert "it is 6:00 AM PDT where the patient lives" in decision.explanation
    assert decision.next_allowed_at == datetime(2026, 6, 10, 8, 0, tzinfo=LOS_ANGELES)


def test_after_nine_pm_the_next_call_is_tomorrow_at_eight_local(account):
    late = datetime(2026, 6, 11, 1, 30, tzinfo=UTC)  # 21:30 on 10 June in New York
    decision = call(account, at=late)
    assert decision.codes == [compliance.CALL_WINDOW]
    assert decision.next_allowed_at == datetime(2026, 6, 11, 8, 0, tzinfo=NEW_YORK)


def test_the_window_follows_the_practice_policy_hours(account):
    practice = account.practice
    practice.call_window_start_hour, practice.call_window_end_hour = 9, 17
    practice.save()
    at = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 17:30 New York
    assert call(account, at=at).codes == [compliance.CALL_WINDOW]
    assert call(account, at=at - timedelta(hours=1)).allowed


def test_texts_keep_the_window_but_letters_do_not(account):
    ContactConsent.objects.create(
        account=account, practice=account.practice, channel=ContactConsent.Channel.TEXT, granted_on=date(2026, 1, 1)
    )
    late = datetime(2026, 6, 11, 2, 0, tzinfo=UTC)
    assert call(account, at=late, channel=Channel.TEXT).codes == [compliance.CALL_WINDOW]
    assert call(account, at=late, channel=Channel.LETTER).allowed


# --- Call cap (Reg F 12 CFR 1006.14(b)(2)(i)(A)) -------------------------------------------------


def test_seven_calls_in_seven_days_stop_the_eighth(account):
    ages = [timedelta(days=6, hours=12), *(timedelta(days=d) for d in (5, 4, 3, 2, 1)), timedelta(hours=2)]
    for age in ages[:6]:
        log(account, at=NOON_NY - age)
    assert call(account).allowed  # six attempts

    log(account, at=NOON_NY - ages[6])
    decision = call(account)
    assert not decision.allowed
    assert decision.codes == [compliance.CALL_CAP]
    assert "7 call attempts in the last 7 days" in decision.explanation
    # The oldest attempt ages out at midnight in New York; calls resume when the window opens.
    assert decision.next_allowed_at == datetime(2026, 6, 11, 8, 0, tzinfo=NEW_YORK)


def test_a_two_in_seven_practice_massachusetts_style(account):
    practice = account.practice
    practice.call_cap_count = 2
    practice.save()
    log(account, at=NOON_NY - timedelta(days=3))
    assert call(account).allowed
    log(account, at=NOON_NY - timedelta(days=1))
    decision = call(account)
    assert decision.codes == [compliance.CALL_CAP]
    assert decision.next_allowed_at == NOON_NY + timedelta(days=4)
    assert call(account, at=NOON_NY + timedelta(days=4)).allowed


def test_calls_older_than_the_cap_window_texts_and_inbound_calls_do_not_count(account):
    practice = account.practice
    practice.call_cap_count = 2
    practice.save()
    log(account, at=NOON_NY - timedelta(days=8))
    log(account, at=NOON_NY - timedelta(days=1), channel=Channel.TEXT)
    log(account, at=NOON_NY - timedelta(days=1), channel=Channel.INBOUND_CALL, outcome=Outcome.WRONG_NUMBER)
    log(account, at=NOON_NY - timedelta(days=2))
    assert call(account).allowed


def test_calls_to_the_attorney_do_not_count_against_the_patient_cap(account):
    practice = account.practice
    practice.call_cap_count = 2
    practice.save()
    log(account, at=NOON_NY - timedelta(days=1), party=Party.ATTORNEY)
    log(account, at=NOON_NY - timedelta(days=2), party=Party.ATTORNEY)
    assert call(account).allowed


# --- Quiet period after a conversation (Reg F 1006.14(b)(2)(i)(B)) -------------------------------


def test_no_call_for_seven_days_after_a_telephone_conversation(account):
    spoke = NOON_NY - timedelta(days=2)
    log(account, at=spoke, outcome=Outcome.INFORMATION_GIVEN)
    decision = call(account)
    assert decision.codes == [compliance.QUIET_AFTER_CONVERSATION]
    assert decision.next_allowed_at == spoke + timedelta(days=7)
    assert call(account, at=spoke + timedelta(days=7)).allowed


def test_an_inbound_conversation_starts_the_quiet_period_too(account):
    log(account, at=NOON_NY - timedelta(days=1), channel=Channel.INBOUND_CALL, outcome=Outcome.DISPUTES)
    assert call(account).codes == [compliance.QUIET_AFTER_CONVERSATION]


@pytest.mark.parametrize("outcome", [Outcome.LEFT_MESSAGE, Outcome.NO_ANSWER, Outcome.WRONG_NUMBER])
def test_messages_and_unanswered_calls_are_not_conversations(account, outcome):
    log(account, at=NOON_NY - timedelta(days=1), outcome=outcome)
    assert call(account).allowed


def test_a_requested_call_back_is_not_held_back(account):
    log(account, at=NOON_NY - timedelta(days=1), outcome=Outcome.CALLBACK_REQUESTED)
    assert call(account).allowed


def test_the_quiet_period_follows_the_practice_policy(account):
    practice = account.practice
    practice.call_quiet_days_after_conversation = 3
    practice.save()
    log(account, at=NOON_NY - timedelta(days=4), outcome=Outcome.REFUSES)
    assert call(account).allowed


# --- Cease communication (FDCPA 1692c(c)) --------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.OUTBOUND_CALL, Channel.LETTER, Channel.EMAIL, Channel.TEXT])
@pytest.mark.parametrize("party", [Party.PATIENT, Party.GUARANTOR, Party.ATTORNEY])
def test_cease_communication_refuses_everything_outbound(account, channel, party):
    account.cease_communication_on = date(2026, 6, 1)
    account.save()
    decision = call(account, channel=channel, party=party)
    assert not decision.allowed
    assert compliance.CEASE_COMMUNICATION in decision.codes
    assert decision.next_allowed_at is None


def test_inbound_calls_are_never_refused(account):
    account.cease_communication_on = date(2026, 6, 1)
    account.attorney_represented = True
    account.save()
    late = datetime(2026, 6, 11, 3, 0, tzinfo=UTC)
    assert call(account, at=late, channel=Channel.INBOUND_CALL).allowed


def test_a_cease_dated_after_the_attempt_does_not_apply_yet(account):
    account.cease_communication_on = date(2026, 6, 20)
    account.save()
    assert call(account).allowed


# --- Attorney representation and Letters of Protection (FDCPA 1692c(a)(2)) ----------------------


@pytest.mark.parametrize("party", [Party.PATIENT, Party.GUARANTOR, Party.NOBODY])
def test_an_attorney_represented_account_is_contacted_through_the_attorney(account, party):
    account.attorney_represented = True
    account.save()
    decision = call(account, party=party)
    assert decision.codes == [compliance.ATTORNEY_REPRESENTED]
    assert decision.reasons[0].explanation == "represented by an attorney: contact the attorney"
    assert decision.next_allowed_at is None
    assert call(account, party=Party.ATTORNEY).allowed
    assert call(account, party=Party.ATTORNEY, channel=Channel.LETTER).allowed


def test_an_active_letter_of_protection_sends_contact_to_the_attorney(account, medium):
    hold = AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.LOP, placed_on=date(2026, 5, 1)
    )
    assert call(account, channel=Channel.LETTER).codes == [compliance.ATTORNEY_REPRESENTED]
    assert call(account, party=Party.ATTORNEY).allowed

    hold.released_at = timezone.now()
    hold.release_reason = "Case settled"
    hold.save()
    assert call(account, channel=Channel.LETTER).allowed


# --- Bankruptcy (11 USC 362, the automatic stay) ------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.OUTBOUND_CALL, Channel.TEXT, Channel.EMAIL, Channel.LETTER])
@pytest.mark.parametrize("party", [Party.PATIENT, Party.GUARANTOR])
def test_a_bankruptcy_hold_stops_every_collection_contact_with_the_debtor(account, channel, party):
    hold = AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.BANKRUPTCY, placed_on=date(2026, 5, 1)
    )
    decision = call(account, channel=channel, party=party)
    assert not decision.allowed
    assert compliance.BANKRUPTCY_STAY in decision.codes
    assert "automatic stay" in decision.explanation
    assert decision.next_allowed_at is None  # time does not lift it; releasing the hold does

    hold.released_at = timezone.now()
    hold.release_reason = "Case dismissed"
    hold.save()
    assert compliance.BANKRUPTCY_STAY not in call(account, channel=channel, party=party).codes


def test_during_a_bankruptcy_the_attorney_may_still_be_called(account):
    AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.BANKRUPTCY, placed_on=date(2026, 5, 1)
    )
    assert call(account, party=Party.ATTORNEY).allowed


def test_a_dispute_hold_does_not_stop_the_call_that_resolves_it(account):
    AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.DISPUTE, placed_on=date(2026, 5, 1)
    )
    assert call(account).allowed


def test_each_channel_is_decided_on_its_own(account):
    account.patient.email = ""
    account.patient.save(update_fields=["email"])
    decisions = dict(compliance.channel_decisions(account=account, party=Party.PATIENT, at=NOON_NY))
    assert list(decisions) == ["Text message", "Email", "Letter"]
    assert decisions["Text message"].codes == [compliance.NO_CONSENT]
    assert decisions["Email"].codes == [compliance.NO_CONTACT_DETAIL]
    assert decisions["Letter"].allowed
    assert call(account).allowed  # the call is allowed while email and text are not


# --- Deceased patients ---------------------------------------------------------------------------


def test_a_deceased_patient_is_not_called_the_executor_is(account):
    account.patient.deceased_on = date(2026, 4, 2)
    account.patient.save()
    decision = call(account)
    assert decision.codes == [compliance.DECEASED]
    assert "executor" in decision.explanation
    assert call(account, party=Party.EXECUTOR).allowed


# --- Consent for texts and autodialed calls (TCPA 47 USC 227) ------------------------------------


def test_a_text_needs_recorded_consent(account):
    decision = call(account, channel=Channel.TEXT)
    assert decision.codes == [compliance.NO_CONSENT]
    assert decision.next_allowed_at is None
    ContactConsent.objects.create(
        account=account, practice=account.practice, channel=ContactConsent.Channel.TEXT, granted_on=date(2026, 6, 1)
    )
    assert call(account, channel=Channel.TEXT).allowed


def test_a_revoked_consent_stops_texts_from_its_revocation_date(account):
    ContactConsent.objects.create(
        account=account,
        practice=account.practice,
        channel=ContactConsent.Channel.TEXT,
        granted_on=date(2026, 1, 5),
        revoked_on=date(2026, 6, 10),
    )
    assert call(account, channel=Channel.TEXT, at=NOON_NY - timedelta(days=1)).allowed
    decision = call(account, channel=Channel.TEXT)
    assert decision.codes == [compliance.CONSENT_REVOKED]


def test_consent_to_texts_does_not_cover_autodialed_calls(account):
    ContactConsent.objects.create(
        account=account, practice=account.practice, channel=ContactConsent.Channel.TEXT, granted_on=date(2026, 6, 1)
    )
    assert call(account, autodialed=True).codes == [compliance.NO_CONSENT]
    assert call(account, autodialed=False).allowed
    ContactConsent.objects.create(
        account=account,
        practice=account.practice,
        channel=ContactConsent.Channel.AUTODIALED_CALL,
        granted_on=date(2026, 6, 1),
    )
    assert call(account, autodialed=True).allowed


def test_every_refusing_rule_is_listed_and_standing_rules_leave_no_next_time(account):
    account.attorney_represented = True
    account.save()
    late = datetime(2026, 6, 11, 3, 0, tzinfo=UTC)
    decision = call(account, at=late, channel=Channel.TEXT)
    assert set(decision.codes) == {compliance.ATTORNEY_REPRESENTED, compliance.NO_CONSENT, compliance.CALL_WINDOW}
    assert decision.next_allowed_at is None


def test_the_decision_costs_a_fixed_number_of_queries(account, django_assert_max_num_queries):
    for days in range(1, 6):
        log(account, at=NOON_NY - timedelta(days=days))
    account = PatientAccount.objects.select_related("practice", "patient", "guarantor").get(pk=account.pk)
    with django_assert_max_num_queries(3):  # holds, consents, calls
        call(account, channel=Channel.OUTBOUND_CALL, autodialed=True)


def test_a_deceased_patients_separate_guarantor_may_still_be_called(account):
    account.patient.deceased_on = date(2026, 4, 2)
    account.patient.save()
    assert call(account, party=Party.GUARANTOR).codes == [compliance.DECEASED]  # the guarantor is the patient
    account.guarantor.relationship = account.guarantor.Relationship.PARENT
    account.guarantor.save()
    assert call(account, party=Party.GUARANTOR).allowed


# --- Each channel needs somewhere to go, and email keeps the hours too -----------------------------


def attempt(account, channel, *, party=Party.PATIENT, at=NOON_NY):
    return contact_decision(account=account, channel=channel, party=party, at=at)


def test_no_email_on_file_refuses_an_email_and_says_so(account):
    account.patient.email = ""
    account.patient.save()
    decision = attempt(account, Channel.EMAIL)
    assert decision.codes == [compliance.NO_CONTACT_DETAIL]
    assert "no email address on file for the patient" in decision.explanation
    account.patient.email = "maria@example.org"
    account.patient.save()
    assert attempt(account, Channel.EMAIL).allowed


def test_email_keeps_the_same_hours_as_a_call(account):
    account.patient.email = "maria@example.org"
    account.patient.save()
    late = datetime(2026, 6, 10, 22, 38, tzinfo=ZoneInfo("America/New_York"))
    decision = attempt(account, Channel.EMAIL, at=late)
    assert decision.codes == [compliance.CALL_WINDOW]
    assert decision.next_allowed_at == datetime(2026, 6, 11, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    assert call(account, at=late).codes == [compliance.CALL_WINDOW]


def test_no_phone_refuses_calls_and_texts(account):
    account.patient.phone = ""
    account.patient.save()
    assert compliance.NO_CONTACT_DETAIL in attempt(account, Channel.OUTBOUND_CALL).codes
    assert "no phone number" in attempt(account, Channel.TEXT).explanation


def test_a_letter_waits_for_a_corrected_address_after_returned_mail(account):
    assert attempt(account, Channel.LETTER).allowed
    account.patient.address_is_bad = True
    account.patient.save()
    decision = attempt(account, Channel.LETTER)
    assert decision.codes == [compliance.ADDRESS_BAD] and decision.next_allowed_at is None


def test_a_separate_guarantor_is_reached_at_the_guarantors_own_details(account):
    guarantor = account.guarantor
    guarantor.relationship = guarantor.Relationship.PARENT
    guarantor.phone = ""
    guarantor.email = "parent@example.org"
    guarantor.save()
    assert (
        "no phone number on file for the guarantor"
        in attempt(account, Channel.OUTBOUND_CALL, party=Party.GUARANTOR).explanation
    )
    assert attempt(account, Channel.EMAIL, party=Party.GUARANTOR).allowed
