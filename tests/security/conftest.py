"""The world every security walk starts from (tests/security/world.py)."""

import pytest

from collections_app import models as collections_models
from collections_app.models import AccountHold
from reports.models import Statement
from tests.security.world import build_world


@pytest.fixture
def world(account, personas, practice, other_practice, tmp_path, settings, monkeypatch):
    # The Letter of Protection is stored as in production (private storage), in a temporary folder.
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setattr(AccountHold._meta.get_field("lop_letter"), "storage", collections_models.private_storage())
    monkeypatch.setattr(Statement._meta.get_field("document"), "storage", collections_models.private_storage())
    return build_world(account=account, personas=personas, practice=practice, other_practice=other_practice)
