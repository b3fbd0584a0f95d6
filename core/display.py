"""How times and empty values are written for people: one format, one rule for the zone, one dash.

Every time a user sees reads "12/02/2026 3:04 PM EST": the app's m/d/Y dates, a 12-hour clock and
the zone's abbreviation, so nobody reads a time in the wrong zone. Forward-looking times a rep acts
on (an appointment, the governor's next allowed call) put the weekday first, "Wed 12/02/2026 8:00 AM
PST"; it is the same format otherwise. Which zone:

- A time on a practice's or a patient's own clock (an appointment, the governor's next allowed call,
  the patient's "now"): that zone, always (`clock_time`). The patient walks in, or may be called,
  by that clock, whatever zone the rep works in.
- A time something happened at a practice (a payment posted, a contact logged, a hold placed or
  released, a claim's expiry): the user's own zone when they chose one (My settings), else the
  practice's (`display_time(value, practice_zone)`). Labelled either way, so both read correctly.
- A time tied to no practice (a nightly job's start and finish, an audit row, a sign-in): the user's
  zone, else the office's (`settings.OFFICE_TIME_ZONE`).

The user's choice reaches this module through `UserTimeZoneMiddleware` (core.middleware), which
keeps the signed-in user for the request; nothing is looked up until a time is written.
"""

from contextvars import ContextVar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

# The one way an empty value is written, on every page.
EMPTY = "—"

# The US zones the practices are in, as the office says them. Blank: each practice's own zone.
USE_PRACTICE_ZONE_LABEL = "Use each practice's time zone"
US_TIME_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix, no daylight saving)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
]

# Set per request by core.middleware.UserTimeZoneMiddleware: the (lazy) request user, or None
# outside a request (Celery tasks, commands), where times follow the practice or the office.
current_user: ContextVar[object | None] = ContextVar("display_current_user", default=None)


def _zone(value) -> ZoneInfo | None:
    if not value:
        return None
    if isinstance(value, ZoneInfo):
        return value
    return ZoneInfo(str(value))


def user_zone(user=None) -> ZoneInfo | None:
    """The zone this user chose, or None ("use each practice's"). Defaults to the request's user."""
    user = user if user is not None else current_user.get()
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return _zone(getattr(user, "time_zone", ""))


def office_zone() -> ZoneInfo:
    return ZoneInfo(settings.OFFICE_TIME_ZONE)


def display_zone(practice_zone=None, *, user=None) -> ZoneInfo:
    """The zone a time that happened is shown in: the user's choice, else the practice's, else the office's."""
    return user_zone(user) or _zone(practice_zone) or office_zone()


def time_of_day(local: datetime) -> str:
    """ "3:04 PM": the 12-hour clock the office reads, without the date or the zone."""
    return f"{local.hour % 12 or 12}:{local:%M %p}"


def _format(local: datetime, *, weekday: bool) -> str:
    text = f"{local:%m/%d/%Y} {time_of_day(local)} {local.tzname()}"
    return f"{local:%a} {text}" if weekday else text


def _aware(value: datetime) -> datetime:
    # A naive value is a stored UTC instant whose zone was dropped (USE_TZ stores UTC).
    return timezone.make_aware(value, ZoneInfo("UTC")) if timezone.is_naive(value) else value


def display_time(value, practice_zone=None, *, user=None, weekday: bool = False) -> str:
    """A moment something happened, in the zone `display_zone` picks, labelled; EMPTY when missing.
    A date (no time of day) is written as the date alone."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime):
        return f"{value:%m/%d/%Y}" if isinstance(value, date) else str(value)
    return _format(_aware(value).astimezone(display_zone(practice_zone, user=user)), weekday=weekday)


def clock_time(value, zone, *, weekday: bool = True) -> str:
    """A time on a practice's or patient's clock, always in `zone`, labelled: the user's own choice
    does not move it (an appointment, the governor's next allowed call)."""
    if value is None or value == "":
        return EMPTY
    return _format(_aware(value).astimezone(_zone(zone) or office_zone()), weekday=weekday)


def zone_name(zone) -> str:
    """'America/Los_Angeles' as the office says it, 'Pacific (Los Angeles)'; other zones as stored."""
    return dict(US_TIME_ZONES).get(str(zone), str(zone))


def staff_name(user) -> str:
    """A staff member as the office names them: "Jane Rep", or the username when no name is set."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def words(code) -> str:
    """A stored code spelled out for a page: 'accounts_restored' -> 'Accounts restored'."""
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
