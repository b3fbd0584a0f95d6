"""Page numbers for the server-rendered pages (the API has StrictPageNumberPagination)."""

# Offsets past this many pages are not a page anyone reads; keep the OFFSET bounded.
MAX_PAGE = 10_000


def page_number(raw) -> int:
    """A page number from the query string; anything odd (text, zero, negative) is page 1."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)
