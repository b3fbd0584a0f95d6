"""A report's period in each practice's own time zone, for columns that hold a moment (posted_at,
created_at) rather than a date."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q


def in_local_period(practices, start: date, end: date, moment: str, *, practice_field: str = "practice_id") -> Q:
    """OR over the practices of (the practice, `moment` from the start of `start` to the end of
    `end` in the practice's time zone); nothing matches without practices."""
    condition = Q(pk__in=[])
    for practice in practices:
        zone = ZoneInfo(practice.time_zone)
        condition |= Q(
            **{
                practice_field: practice.pk,
                f"{moment}__gte": datetime.combine(start, time.min, tzinfo=zone),
                f"{moment}__lt": datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
            }
        )
    return condition
