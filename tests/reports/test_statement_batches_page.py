"""The manager's statement batches: the list with counts, totals, suppression reasons and print
progress, a batch's page, and the print file download (audited); Management and up, own practices."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Tier
from reports.models import Statement, StatementBatch
from tests.factories import PatientAccountFactory, StaffUserFactory, minimal_pdf


def make_batch(practice, *, days_ago=0, statements=1, printed=False, suppressed=None):
    batch = StatementBatch.objects.create(
        practice=practice,
        run_on=timezone.localdate() - timedelta(days=days_ago),
        status=StatementBatch.Status.DONE if printed else StatementBatch.Status.PRINTING,
        statement_count=statements,
        total_amount=Decimal("125.50") * statements,
        suppressed=suppressed if suppressed is not None else {"On hold": 3, "Insurance still pending": 2},
        chunk_count=2,
        chunks_done=2 if printed else 1,
        page_count=statements if printed else 0,
    )
    for _ in range(statements):
        account = PatientAccountFactory(practice=practice)
        statement = Statement.objects.create(
            account=account,
            practice=practice,
            guarantor=account.guarantor,
            batch=batch,
            kind=Statement.Kind.STATEMENT,
            statement_date=batch.run_on,
            amount_due=Decimal("125.50"),
            mailed_on=batch.run_on,
        )
        statement.covers.add(account)
    if printed:
        batch.print_file.save(f"batch-{batch.pk}.pdf", ContentFile(minimal_pdf()), save=True)
    return batch


def test_a_manager_sees_each_batch_with_counts_reasons_and_progress(client, practice, manager):
    printing = make_batch(practice)
    printed = make_batch(practice, days_ago=1, printed=True, suppressed={})
    client.force_login(manager)
    response = client.get(reverse("statement-batches"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-batch="{printing.pk}"' in page and f'data-batch="{printed.pk}"' in page
    assert "On hold: 3" in page and "Insurance still pending: 2" in page
    assert "$125.50" in page
    assert "1 of 2 chunks" in page  # still printing
    assert reverse("statement-batch-print-file", args=[printed.pk]) in page
    assert reverse("statement-batch-print-file", args=[printing.pk]) not in page
    assert 'href="/statements/batches/"' in page  # the navigation link


def test_the_batch_page_lists_its_statements_and_audits_them(client, practice, manager):
    batch = make_batch(practice, statements=2)
    client.force_login(manager)
    response = client.get(reverse("statement-batch-detail", args=[batch.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    statements = list(batch.statements.all())
    for statement in statements:
        assert f'data-statement="{statement.pk}"' in page
        assert statement.account.account_number in page
    assert "On hold" in page
    viewed = AuditEvent.objects.filter(user=manager, object_type="reports.statement", action="view")
    assert set(viewed.values_list("object_id", flat=True)) == {str(s.pk) for s in statements}


def test_downloading_the_print_file_is_audited(client, practice, manager):
    batch = make_batch(practice, printed=True)
    client.force_login(manager)
    response = client.get(reverse("statement-batch-print-file", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        user=manager, object_type="reports.statementbatch", object_id=str(batch.pk), detail__download="print_file"
    ).exists()


def test_a_batch_not_printed_yet_has_no_print_file(client, practice, manager):
    batch = make_batch(practice)
    client.force_login(manager)
    assert client.get(reverse("statement-batch-print-file", args=[batch.pk])).status_code == 404


@pytest.mark.parametrize("tier", [Tier.LOW, Tier.MEDIUM])
def test_a_tier_below_management_is_refused(client, practice, tier):
    batch = make_batch(practice, printed=True)
    user = StaffUserFactory(username=f"tier-{tier}", tier=tier, practices=[practice])
    client.force_login(user)
    for url in (
        reverse("statement-batches"),
        reverse("statement-batch-detail", args=[batch.pk]),
        reverse("statement-batch-print-file", args=[batch.pk]),
    ):
        assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(user=user, object_type="reports.statementbatch").exists()


def test_another_practices_manager_sees_none_of_our_batches(client, practice, other_practice):
    ours = make_batch(practice, printed=True)
    theirs = make_batch(other_practice)
    elsewhere = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(elsewhere)
    page = client.get(reverse("statement-batches")).content.decode()
    assert f'data-batch="{theirs.pk}"' in page
    assert f'data-batch="{ours.pk}"' not in page
    assert client.get(reverse("statement-batch-detail", args=[ours.pk])).status_code == 404
    assert client.get(reverse("statement-batch-print-file", args=[ours.pk])).status_code == 404


def test_the_pages_are_a_fixed_number_of_queries(client, practice, manager, django_assert_max_num_queries):
    for days_ago in range(3):
        make_batch(practice, days_ago=days_ago, statements=3)
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("statement-batches")).status_code == 200
    for days_ago in range(3, 12):
        make_batch(practice, days_ago=days_ago, statements=1)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("statement-batches")).status_code == 200
    batch = StatementBatch.objects.order_by("run_on").last()
    with django_assert_max_num_queries(14):
        assert client.get(reverse("statement-batch-detail", args=[batch.pk])).status_code == 200
