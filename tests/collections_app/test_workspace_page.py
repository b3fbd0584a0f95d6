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
panel_calls = []


def fake_panel_context(request, account):
    panel_calls.append(("billing", account.pk))
    return {"greeting": "Ready to post a payment"}


def fake_manager_panel_context(request, account):
    panel_calls.append(("management", account.pk))
    return {"greeting": "Approve write-offs"}


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
def fake_panels(monkeypatch, fake_templates):
    panel_calls.clear()
    registry = (
        Panel("fake", "Fake actions", "fake/_panel.html", fake_panel_context, None),
        Panel(
            "approvals",
            "Approvals",
            "fake/_panel.html",
            fake_manager_panel_context,
            None,
            field_group=FieldGroup.MANAGEMENT,
        ),
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


def test_rep_sees_each_panel_in_its_own_root_element_with_only_its_context(client, account, medium, fake_panels):
    response = open_page(client, medium, account)
    html = response.content.decode()
    assert '<section id="panel-fake" class="panel"><h2>Fake actions</h2>' in html
    assert f'<p class="greeting">Ready to post a payment on {account.account_number}</p>' in html
    assert "<p>billing tier</p>" in html and "<p>medium</p>" in html
    assert '<p class="leak"></p>' in html  # the page's balances are not the panel's context
    assert panel_calls == [("billing", account.pk)]


def test_panel_of_a_higher_field_group_runs_only_for_tiers_that_see_it(client, account, medium, manager, fake_panels):
    assert "panel-approvals" not in open_page(client, medium, account).content.decode()
    assert ("management", account.pk) not in panel_calls
    panel_calls.clear()
    html = open_page(client, manager, account).content.decode()
    assert '<section id="panel-approvals" class="panel"><h2>Approvals</h2>' in html
    assert panel_calls == [("billing", account.pk), ("management", account.pk)]


def test_front_desk_gets_no_panels_no_timeline_and_no_amounts(client, account, low, fake_panels):
    html = open_page(client, low, account).content.decode()
    assert panel_calls == []
    assert "panel-fake" not in html
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


def test_another_practices_user_gets_not_found_and_no_panel_runs(client, account, outsider, fake_panels):
    assert open_page(client, outsider, account).status_code == 404
    assert panel_calls == []


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
