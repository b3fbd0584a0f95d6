"""What a page's htmx response told the browser."""

import json

from core.panels import ACCOUNT_CHANGED


def account_changed_by(response) -> str | None:
    """The panel that announced `account-changed` in the response, or None if nothing changed."""
    if "HX-Trigger" not in response:
        return None
    return json.loads(response["HX-Trigger"])[ACCOUNT_CHANGED]["panel"]
