"""Views of this area (filled in by its builder)."""


def panel_context(request, account) -> dict:
    return {}
