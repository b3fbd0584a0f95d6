"""Writing the audit trail. Callers pass ids and field names, never PHI values."""

import json

from django.db import connection
from django.utils import timezone

from core.models import AuditEvent
from core.request_context import current_request
from core.sql import copy_rows

# The name recorded for a change made from the command line (manage.py create_staff, the admin of
# a practice's policy by script): no signed-in user, but never an anonymous row.
COMMAND_LINE = "(command line)"


def audit_record(
    *,
    user,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    practice_id: int | None = None,
    field_group: str = "",
    detail: dict | None = None,
    username: str = "",
) -> AuditEvent:
    """Write one audit row. Call inside the same transaction as the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        if practice_id is None:
            practice_id = getattr(obj, "practice_id", None)
    context = current_request.get()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        user=user if authenticated else None,
        username=username or (user.get_username() if authenticated else ""),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        practice_id=practice_id,
        field_group=str(field_group),
        client_address=context.client_address,
        request_id=context.request_id,
        detail=detail or {},
    )


def audit_record_many(*, user, action: str, object_type: str, field_group: str, records: list[dict]) -> None:
    """Many changes of one kind at once (a batch of ledger postings): one bulk insert, a row each.
    `records`: {"object_id", "practice_id", "detail"} per row, as audit_record would write them."""
    if not records:
        return
    context = current_request.get()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    common = {
        "user": user if authenticated else None,
        "username": user.get_username() if authenticated else "",
        "action": action,
        "object_type": object_type,
        "field_group": str(field_group),
        "client_address": context.client_address,
        "request_id": context.request_id,
    }
    if connection.vendor == "postgresql":
        # A ledger batch writes a row per posting: COPY, at a few microseconds a row (bulk_create
        # spends ~40 us a row preparing values). The batch shares one time, as one operation.
        user_id = common["user"].pk if common["user"] is not None else None
        head = (timezone.now(), user_id, common["username"], action, object_type)
        tail = (common["field_group"], common["client_address"], common["request_id"])
        copy_rows(
            table=AuditEvent._meta.db_table,
            columns=_COPY_COLUMNS,
            rows=(
                (*head, str(record["object_id"]), record["practice_id"], *tail, json.dumps(record.get("detail") or {}))
                for record in records
            ),
        )
        return
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                object_id=str(record["object_id"]),
                practice_id=record["practice_id"],
                detail=record.get("detail") or {},
                **common,
            )
            for record in records
        ],
        batch_size=1000,
    )


_COPY_COLUMNS = [
    "occurred_at",
    "user_id",
    "username",
    "action",
    "object_type",
    "object_id",
    "practice_id",
    "field_group",
    "client_address",
    "request_id",
    "detail",
]


def audit_read(*, user, obj, field_groups, detail: dict | None = None) -> AuditEvent:
    """A PHI read: record every field group the response showed."""
    groups = ",".join(sorted(str(g) for g in field_groups))
    return audit_record(user=user, action=AuditEvent.Action.VIEW, obj=obj, field_group=groups, detail=detail)


def audit_reads(*, user, objects, field_groups, action=AuditEvent.Action.VIEW) -> None:
    """Many PHI reads at once (a list page or API list): one bulk insert, one row per object."""
    context = current_request.get()
    groups = ",".join(sorted(str(g) for g in field_groups))
    rows = [
        AuditEvent(
            user=user,
            username=user.get_username(),
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            practice_id=getattr(obj, "practice_id", None),
            field_group=groups,
            client_address=context.client_address,
            request_id=context.request_id,
        )
        for obj in objects
    ]
    if rows:
        AuditEvent.objects.bulk_create(rows)


def audit_job_changes(
    *,
    job: str,
    object_type: str,
    changes,
    occurred_at,
    field_group: str,
    action: str = AuditEvent.Action.UPDATE,
) -> int:
    """The audit rows of a nightly job's set-based change, in one bulk insert: no user (the system
    made the change), each row naming the job. `changes` yields (object_id, practice_id, detail)."""
    rows = [
        AuditEvent(
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            practice_id=practice_id,
            field_group=str(field_group),
            occurred_at=occurred_at,
            detail={**detail, "job": job},
        )
        for object_id, practice_id, detail in changes
    ]
    AuditEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
