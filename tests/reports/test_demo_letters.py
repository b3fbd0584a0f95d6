"""`seed_demo_letters`: a few demo accounts get printed letters, once."""

import pytest
from django.core.management import call_command

from reports.models import Statement
from tests.reports.statements_support import temporary_statement_storage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(tmp_path, monkeypatch):
    return temporary_statement_storage(tmp_path, monkeypatch)


def test_demo_letters_are_printed_once_by_the_demo_rep(account, medium, capsys):
    call_command("seed_demo_letters")
    assert "Demo letters: 1 printed" in capsys.readouterr().out
    letter = Statement.objects.get()
    assert (letter.account, letter.kind, letter.created_by) == (account, Statement.Kind.DUNNING_30, medium)
    assert letter.document and letter.mailed_on is not None
    call_command("seed_demo_letters")
    assert "0 printed, 1 already there" in capsys.readouterr().out
    assert Statement.objects.count() == 1
