"""The account's write-off requests in the workspace's activity timeline (collections_app's
workspace merges them): each move of a request, with who and why."""

from core.panels import TimelineEvent
from writeoffs.models import WriteOffHistory, WriteOffRequest

Status = WriteOffRequest.Status

TITLES = {
    Status.PROPOSED: "Write-off proposed",
    Status.POSTED: "Write-off approved and posted",
    Status.DENIED: "Write-off denied",
    Status.REVERSED: "Write-off reversed",
}


def timeline_events(account) -> list[TimelineEvent]:
    """The account's write-off requests in the activity timeline: each move with who and why (one query)."""
    # Approval posts at once: the posted move says both, with who approved.
    rows = (
        WriteOffHistory.objects.filter(request__account=account)
        .exclude(to_status=Status.APPROVED)
        .select_related("request", "changed_by")
        .order_by("changed_at", "id")
    )
    events = []
    for change in rows:
        writeoff = change.request
        title = TITLES.get(change.to_status, "Write-off request changed")
        detail = f"{writeoff.get_reason_display()}, ${writeoff.amount:,.2f}"
        if change.note:
            detail = f"{detail}: {change.note}"
        events.append(
            TimelineEvent(
                when=change.changed_at,
                kind="approval",
                title=title,
                detail=detail,
                actor=change.changed_by.get_username() if change.changed_by else "",
                extra={"writeoff_id": writeoff.pk, "status": change.to_status},
            )
        )
    return events
