"""Reads of uploaded imports, scoped by the access policy."""

from core.access import get_scoped_or_404, scope_to_user
from imports.models import ImportUpload


def import_upload_list(*, user, practice_id: int | None = None, status: str = ""):
    """The user's practices' uploads, newest first."""
    queryset = scope_to_user(ImportUpload.objects.select_related("practice", "uploaded_by"), user)
    if practice_id:
        queryset = queryset.filter(practice_id=practice_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-uploaded_at", "-pk")


def import_upload_get(*, user, upload_id: int) -> ImportUpload:
    """One upload of the user's practices, or 404."""
    return get_scoped_or_404(ImportUpload.objects.select_related("practice", "uploaded_by"), user, pk=upload_id)
