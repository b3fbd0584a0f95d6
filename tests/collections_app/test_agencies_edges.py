"""Edges of the agency rules the first suites left open: the final notice's 30-day boundary, a zero
balance under a zero minimum, a released hold, and the credit-reporting flag of a placement once
the agency has collected it in full."""

from decimal import Decimal

from accounts.selectors import practice_today
from collections_app.agencies import rules, selectors, services
from collections_app.holds import services as holds
from collections_app.models import Contact
from tests.collections_app.agencies_support import letter, ready_account
from tests.factories import PatientAccountFactory

Outcome = Contact.Outcome


def candidate_ids(user):
    return set(selectors.candidate_list(user=user).values_list("pk", flat=True))


def test_a_final_notice_sent_exactly_30_days_ago_is_enough_and_29_is_not(practice, manager):
    ready = ready_account(practice, final_notice_days_ago=30)
    early = ready_account(practice, final_notice_days_ago=29)
    today = practice_today(practice)
    assert candidate_ids(manager) == {ready.pk}
    # The list and the preview's reasons say the same thing about the same account.
    assert rules.placement_refusals(ready, today) == []
    assert rules.placement_refusals(early, today) != []


def test_an_account_owing_nothing_is_never_a_candidate_even_with_no_minimum(practice, manager):
    practice.agency_min_balance = Decimal("0.00")
    practice.save()
    account = PatientAccountFactory(practice=practice)
    letter(account, Outcome.FINAL_NOTICE_SENT, 60)
    assert account.patient_balance == 0
    assert candidate_ids(manager) == set()
    assert any(
        "under the practice's agency minimum" in why
        for why in rules.placement_refusals(account, practice_today(practice))
    )


def test_a_released_hold_no_longer_keeps_the_account_back(practice, manager, medium):
    account = ready_account(practice)
    hold = holds.hold_place(acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="balance")
    assert candidate_ids(manager) == set()
    holds.hold_release(acting_user=medium, hold_id=hold.pk, reason="Explained the balance")
    assert candidate_ids(manager) == {account.pk}


def test_a_preview_refusal_names_every_rule_the_account_fails(practice, manager, medium):
    from collections_app.models import Agency

    Agency.objects.create(practice=practice, name="Keystone Recovery", is_default=True, commission_rate=25)
    account = ready_account(practice, final_notice_days_ago=None, balance="20.00")
    practice.agency_min_balance = Decimal("50.00")
    practice.save()
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk])
    [(refused_id, why)] = preview.refused
    assert refused_id == account.pk
    assert rules.REASON_NO_FINAL_NOTICE in why and "under the practice's agency minimum of $50.00" in why
