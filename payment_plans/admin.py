"""Payment plans in the Directors' administration: read-only. Every change goes through
payment_plans.services (the status machine, the history rows and the audit trail)."""

from django.contrib import admin

from core.admin_site import DirectorOnlyPermissions
from payment_plans.models import Installment, PaymentPlan, PlanRevision, PlanStatusChange


class ReadOnlyDirectorAdmin(DirectorOnlyPermissions, admin.ModelAdmin):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = ("revision", "number", "due_on", "amount", "paid_amount", "paid_on", "superseded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = PlanStatusChange
    fields = ("changed_at", "from_status", "to_status", "reason", "changed_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RevisionInline(admin.TabularInline):
    model = PlanRevision
    fields = ("number", "financed_amount", "installment_count", "installment_amount", "frequency", "start_on")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ReadOnlyDirectorAdmin):
    list_display = ("id", "account", "practice", "status", "total_amount", "installment_count", "created_on")
    list_filter = ("status", "frequency", "practice")
    list_select_related = ("account", "practice")
    raw_id_fields = ("account",)
    exclude = ("autopay_token",)
    inlines = (InstallmentInline, RevisionInline, StatusChangeInline)
