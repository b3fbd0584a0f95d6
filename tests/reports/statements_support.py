"""What the statements and letters tests share: a private storage of their own (a temporary
folder) and a statement with a stored document, made as the statement cycle would record it."""

from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from accounts.selectors import practice_today
from reports.models import Statement
from tests.factories import minimal_pdf


def temporary_statement_storage(tmp_path, monkeypatch) -> FileSystemStorage:
    """Statements' PDFs kept in the test's own folder (the tests' autouse fixture calls this)."""
    storage = FileSystemStorage(location=tmp_path / "private", base_url=None)
    monkeypatch.setattr(Statement._meta.get_field("document"), "storage", storage)
    return storage


def make_statement(
    account,
    *,
    kind=Statement.Kind.STATEMENT,
    days_ago=0,
    amount="200.00",
    level=0,
    document=True,
    covers=(),
    filed_under=None,
):
    """A mailed statement of `account` (filed under `filed_under` when it is a guarantor's
    statement covering several accounts), with a one-page PDF unless `document` is False."""
    filed = filed_under or account
    day = practice_today(account.practice) - timedelta(days=days_ago)
    statement = Statement.objects.create(
        account=filed,
        practice=filed.practice,
        guarantor=filed.guarantor,
        kind=kind,
        dunning_level=level,
        statement_date=day,
        amount_due=Decimal(amount),
        pay_by=day + timedelta(days=21),
        mailed_on=day,
        content={"account_number": filed.account_number, "amount_due": amount},
    )
    statement.covers.add(filed, account, *covers)
    if document:
        statement.document.save(f"statement-{statement.pk}.pdf", ContentFile(minimal_pdf()), save=False)
        statement.page_count = 1
        statement.save(update_fields=["document", "page_count"])
    return statement
