"""Payment plans in the Directors' administration: read-only. Every change goes through
payment_plans.services (the status machine, the history rows and the audit trail)."""

from django.contrib import admin

from core.admin_site import DirectorOnlyPermissions, admin_time
from core.templatetags.pages import money
from payment_plans.models import Installment, PaymentPlan, PlanRevision, PlanStatusChange


class ReadOnlyDirectorAdmin(DirectorOnlyPermissions, admin.ModelAdmin):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = ("revision", "number", "due_on", "amount", "paid_amount", "paid_on", "superseded")
    readonly_fields = fields
    superseded = admin_time("superseded", "superseded_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = PlanStatusChange
    fields = ("changed", "from_status", "to_status", "reason", "changed_by")
    readonly_fields = fields
    changed = admin_time("changed", "changed_at")
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
    list_display = ("plan", "account_holder", "practice", "status", "total", "installment_count", "created_on")
    list_select_related = ("account__patient", "practice")

    @admin.display(description="plan", ordering="id")
    def plan(self, plan):
        return f"Plan {plan.pk}"

    @admin.display(description="account", ordering="account__account_number")
    def account_holder(self, plan):
        # Directors only (core.admin_site): names are theirs to see.
        patient = plan.account.patient
        return f"{plan.account.account_number} ({patient.last_name}, {patient.first_name})"

    @admin.display(description="total", ordering="total_amount")
    def total(self, plan):
        return money(plan.total_amount)

    list_filter = ("status", "frequency", "practice")
    raw_id_fields = ("account",)
    exclude = ("autopay_token",)
    inlines = (InstallmentInline, RevisionInline, StatusChangeInline)
