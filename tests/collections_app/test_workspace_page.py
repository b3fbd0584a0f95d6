"""The account workspace: the account page as the billing rep's working screen, by tier."""

import copy
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import PatientAccount
from collections_app.models import AccountHold
from collections_app.workspace import panels, views
from collections_app.workspace.panels import Panel
from core.access import FieldGroup
from core.models import AuditEvent
from tests.factories import PatientAccountFactory

BALANCE_DIGITS = ("200.00", "120.00", "80.00")


def fake_claim_bar_context(request, account):
    return {"queue_claim": {"mine": True}}


@pytest.fixture
def fake_templates(settings, tmp_path):
    """Panel and claim-bar templates of a fake area (the real ones are being built by other areas)."""
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "_panel.html").write_text(
        '<section id="panel-{{ key }}" class="panel"><h2>{{ panel_title }}</h2>'
        '<p class="greeting">{{ greeting }} on {{ account.account_number }}</p>'
        "{% if can.billing %}<p>billing tier</p>{% endif %}<p>{{ user.get_username }}</p>"
        '<p class="leak">{{ balances.patient }}</p></section>'
    )
    (tmp_path / "fake" / "_claim_bar.html").write_text(
        '<div id="claim-bar">{% if queue_claim.mine %}Yours{% endif %} {{ account.account_number }}'
        '<button data-hotkey="n">Next account</button></div>'
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    return tmp_path


@pytest.fixture
def fake_panels(monkeypatch):
    """Two panels of fake areas, served by real panel pages; the second for managers only."""
    registry = (
        Panel("fake", "Fake actions", "contacts-panel", None),
        Panel("approvals", "Approvals", "holds-panel", None, field_group=FieldGroup.MANAGEMENT),
    )
    monkeypatch.setattr(panels, "PANELS", registry)
    return registry


@pytest.fixture
def no_panels(monkeypatch):
    monkeypatch.setattr(panels, "PANELS", ())
    monkeypatch.setattr(views, "claim_bar_context", lambda request, account: None)


def detail_url(account):
    return reverse("account-detail", args=[account.pk])


def open_page(client, user, account):
    client.force_login(user)
    return client.get(detail_url(account))


# --- panels ------------------------------------------------------------------------------------------


def slot(html: str, key: str) -> str:
    """The opening tag of a panel's slot on the page."""
    start = html.index(f'data-panel="{key}"')
    return html[html.rindex("<div", 0, start) : html.index(">", start)]


def test_the_first_response_holds_a_slot_per_panel_each_loading_from_its_own_page(
    client, account, manager, fake_panels
):
    html = open_page(client, manager, account).content.decode()
    first, second = slot(html, "fake"), slot(html, "approvals")
    assert f'hx-get="{reverse("contacts-panel", args=[account.pk])}"' in first
    assert 'hx-trigger="load, panel-open once' in first  # the first panel opens by itself
    assert f'hx-get="{reverse("holds-panel", args=[account.pk])}"' in second
    assert 'hx-trigger="panel-open once' in second  # the others when the rep opens them
    assert "Fake actions" in html and "Approvals" in html and "data-panel-open" in html
    assert "Log a contact" not in html and "Place a hold" not in html  # no panel's forms yet


def test_a_loaded_panel_refreshes_when_another_panel_changed_the_account(client, account, medium, fake_panels):
    tag = slot(open_page(client, medium, account).content.decode(), "fake")
    assert "panel-refresh" in tag  # app.js sends it to the loaded panels but the one that acted


def test_panel_of_a_higher_field_group_is_only_offered_to_tiers_that_see_it(
    client, account, medium, manager, fake_panels
):
    assert 'data-panel="approvals"' not in open_page(client, medium, account).content.decode()
    assert 'data-panel="approvals"' in open_page(client, manager, account).content.decode()


def test_front_desk_gets_no_panels_no_timeline_and_no_amounts(client, account, low, fake_panels):
    html = open_page(client, low, account).content.decode()
    assert "panel-fake" not in html and "data-panel=" not in html
    assert "account-timeline" not in html and reverse("account-timeline", args=[account.pk]) not in html
    assert "workspace-actions" not in html
    assert "See billing office" in html
    assert "$" not in html
    for digits in BALANCE_DIGITS:
        assert digits not in html


def test_panels_are_laid_out_beside_the_money_with_the_timeline_loading_by_htmx(client, account, medium, fake_panels):
    html = open_page(client, medium, account).content.decode()
    assert "workspace-billing" in html
    actions = html.index('id="workspace-actions"')
    assert html.index('id="panel-fake"') > actions
    timeline_url = reverse("account-timeline", args=[account.pk])
    assert f'hx-get="{timeline_url}" hx-trigger="load, account-changed from:body"' in html
    assert html.index('id="ledger-panel"') < actions
    assert 'href="#workspace-actions"' in html and 'href="#timeline-panel"' in html


# --- header ------------------------------------------------------------------------------------------


def test_rep_sees_guarantor_practice_and_every_flag_in_the_header(client, account, medium, no_panels):
    AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.LOP, placed_on=timezone.localdate()
    )
    PatientAccount.objects.filter(pk=account.pk).update(
        status=PatientAccount.Status.HOLD,
        hold_reason="lop",
        cease_communication_on=timezone.localdate(),
        attorney_represented=True,
    )
    patient = account.patient
    patient.address_is_bad = True
    patient.deceased_on = timezone.localdate() - timedelta(days=3)
    patient.save()
    html = open_page(client, medium, account).content.decode()
    for code in ("hold-lop", "cease", "attorney", "bad-address", "deceased"):
        assert f'data-flag="{code}"' in html, code
    assert "Letter of Protection hold" in html
    assert "On hold: Letter of Protection" in html
    assert escape(account.guarantor.last_name) in html  # "O'Brien" arrives as O&#x27;Brien
    assert escape(account.practice.name) in html


def test_released_holds_are_not_flagged(client, account, medium, no_panels):
    AccountHold.objects.create(
        account=account,
        practice=account.practice,
        kind=AccountHold.Kind.DISPUTE,
        placed_on=timezone.localdate(),
        released_at=timezone.now(),
        release_reason="answered",
    )
    assert 'data-flag="hold-dispute"' not in open_page(client, medium, account).content.decode()


def test_header_links_the_guarantors_other_accounts_in_the_users_practices(client, account, medium, no_panels):
    sibling = PatientAccountFactory(practice=account.practice, guarantor=account.guarantor, patient__first_name="Sofia")
    html = open_page(client, medium, account).content.decode()
    assert f'href="{detail_url(sibling)}"' in html
    assert sibling.account_number in html


def test_claim_bar_is_shown_when_the_queue_provides_one(client, account, medium, fake_templates, monkeypatch):
    monkeypatch.setattr(panels, "PANELS", ())
    monkeypatch.setattr(views, "claim_bar_context", fake_claim_bar_context)
    monkeypatch.setattr(views, "CLAIM_BAR_TEMPLATE", "fake/_claim_bar.html")
    html = open_page(client, medium, account).content.decode()
    assert f'<div id="claim-bar">Yours {account.account_number}' in html


def test_page_opens_without_a_claim_bar_when_the_queue_has_none(client, account, medium, no_panels):
    response = open_page(client, medium, account)
    assert response.status_code == 200
    assert 'id="claim-bar"' not in response.content.decode()


# --- access ------------------------------------------------------------------------------------------


def test_another_practices_user_gets_not_found(client, account, outsider, fake_panels):
    assert open_page(client, outsider, account).status_code == 404


def test_opening_the_workspace_is_one_audited_read(client, account, medium, fake_panels):
    client.force_login(medium)
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client.get(detail_url(account))
    reads = AuditEvent.objects.filter(id__gt=last_id, action=AuditEvent.Action.VIEW)
    assert [(event.object_type, event.field_group) for event in reads] == [
        ("accounts.patientaccount", "billing,demographics,past_due_flag")
    ]


# --- query counts ------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_workspace_shell_queries_are_bounded(client, account, medium, fake_panels, django_assert_max_num_queries):
    client.force_login(medium)
    client.get(detail_url(account))
    # session, user, scope, account, aging (2), appointments, ledger count + page, holds, guarantor's
    # accounts, claim bar (when the queue provides one), audit
    with django_assert_max_num_queries(13):
        client.get(detail_url(account))


def test_workspace_shell_queries_do_not_grow_with_holds_or_family_accounts(client, account, medium, fake_panels):
    client.force_login(medium)
    client.get(detail_url(account))
    plain = _queries(client, detail_url(account))
    for kind in (AccountHold.Kind.LOP, AccountHold.Kind.DISPUTE, AccountHold.Kind.PROBATE):
        AccountHold.objects.create(
            account=account, practice=account.practice, kind=kind, placed_on=timezone.localdate()
        )
    PatientAccountFactory.create_batch(4, practice=account.practice, guarantor=account.guarantor)
    assert _queries(client, detail_url(account)) == plain


# --- the refresh after an action -------------------------------------------------------------------


def refresh_url(account):
    return reverse("account-refresh", args=[account.pk])


def test_after_a_payment_the_refresh_brings_the_new_balance_aging_ledger_and_card(client, account, medium):
    from collections_app.contacts.services import payment_record

    client.force_login(medium)
    payment_record(acting_user=medium, account_id=account.pk, amount="75.00", method="cash", reference="", notes="")
    response = client.get(refresh_url(account), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    for part in ("account-head", "past-due-slot", "account-side", "account-figures"):
        assert f'id="{part}" hx-swap-oob="true"' in html, part
    assert "$125.00" in html  # $200 owed, $75 paid
    assert "Patient payment" in html and "75.00" in html  # the ledger's new row
    assert timezone.localdate().strftime("%m/%d/%Y") in html  # the account card's last payment
    audit = AuditEvent.objects.filter(user=medium, detail__refresh="figures").get()
    assert audit.field_group == "billing,demographics,past_due_flag"


def test_refresh_is_for_the_billing_tiers_of_the_account_practice(client, account, low, outsider):
    client.force_login(low)
    assert client.get(refresh_url(account)).status_code == 403
    client.force_login(outsider)
    assert client.get(refresh_url(account)).status_code == 404


def test_refresh_queries_are_bounded(client, account, medium, django_assert_max_num_queries):
    client.force_login(medium)
    client.get(refresh_url(account))
    # session, user, scope, account, aging (2), ledger count + page, holds, guarantor's accounts, audit
    with django_assert_max_num_queries(11):
        client.get(refresh_url(account))


def test_the_first_response_runs_no_panel_queries(client, account, medium, django_assert_max_num_queries):
    """With the real panels: the account, balances, aging and ledger only (the panels load after)."""
    client.force_login(medium)
    client.get(detail_url(account))
    with django_assert_max_num_queries(13):
        client.get(detail_url(account))
