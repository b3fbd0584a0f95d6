"""Agencies in the Director's administration: add, change, mark no longer used (never delete)."""

from django.contrib import admin
from django.db import transaction

from collections_app.models import Agency
from core.access import FieldGroup
from core.admin_site import DirectorOnlyPermissions
from core.audit import audit_record
from core.models import AuditEvent


@admin.register(Agency)
class AgencyAdmin(DirectorOnlyPermissions, admin.ModelAdmin):
    list_display = ("name", "practice", "commission", "file_layout", "is_default", "is_active")
    list_filter = ("is_active", "file_layout", "practice")
    search_fields = ("name", "contact_name")
    ordering = ("practice__name", "name")
    list_select_related = ("practice",)
    fields = (
        "practice",
        "name",
        "contact_name",
        "phone",
        "email",
        "mailing_address",
        "commission_rate",
        "file_layout",
        "is_default",
        "is_active",
    )

    @admin.display(description="commission", ordering="commission_rate")
    def commission(self, agency):
        return f"{agency.commission_rate}%"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                user=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                obj=obj,
                field_group=FieldGroup.DIRECTOR,
                detail={"fields": sorted(form.changed_data)},
            )
