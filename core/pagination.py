"""Page numbers and paginators for the server-rendered pages (the API has StrictPageNumberPagination)."""

from django.core.paginator import Paginator
from django.http import Http404
from django.utils.functional import cached_property

# Offsets past this many pages are not a page anyone reads; keep the OFFSET bounded.
MAX_PAGE = 10_000


def page_number(raw) -> int:
    """A page number from the query string; anything odd (text, zero, negative) is page 1."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def page_or_404(paginator: Paginator, raw):
    """The page the query string asks for; past the last page is a 404, not an empty page."""
    number = page_number(raw)
    if number > paginator.num_pages:
        raise Http404("No such page.")
    return paginator.page(number)


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows: a common surname at 1M patients is "1,000+", and a long queue
    or run history needs no exact total to page."""

    def __init__(self, *args, cap: int = 1000, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = cap
        self.cap_display = f"{self.cap:,}"

    @cached_property
    def count(self) -> int:
        # No ordering and no joined columns: counting needs neither.
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap
