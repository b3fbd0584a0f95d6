"""Practices and their collection policy, administered by Directors; every save is audited."""

from django.contrib import admin

from accounts import services
from accounts.models import Practice
from core.admin_site import DirectorOnlyPermissions
from core.display import zone_name


@admin.register(Practice)
class PracticeAdmin(DirectorOnlyPermissions, admin.ModelAdmin):
    list_display = ("name", "code", "state", "zone", "collection_target", "non_profit_rules", "active")
    list_filter = ("is_active", "follows_501r", "state")
    search_fields = ("name", "code")
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("code", "name", "state", "time_zone", "is_active")}),
        ("Targets", {"fields": ("target_collection_rate",)}),
        (
            "Billing office (printed on statements and letters)",
            {
                "fields": (
                    "remit_address_line1",
                    "remit_address_line2",
                    ("remit_city", "remit_state", "remit_postal_code"),
                    "billing_phone",
                )
            },
        ),
        ("Statements", {"fields": ("statement_cycle_days", "statement_grace_days", "final_notice_after_days")}),
        ("Small balances", {"fields": ("small_balance_threshold", "small_balance_min_age_days")}),
        (
            "Payment plans",
            {
                "fields": (
                    "plan_min_installment",
                    "plan_max_months",
                    "plan_min_down_payment_percent",
                    "plan_grace_days",
                    "plan_default_missed_count",
                )
            },
        ),
        ("Write-offs", {"fields": ("writeoff_limit_management",)}),
        ("Agencies", {"fields": ("agency_min_balance", "agency_bad_debt_at_placement")}),
        ("Calls and compliance", {"fields": ("call_cap_count", "call_cap_days", "follows_501r")}),
        ("Claims", {"fields": ("claim_followup_days",)}),
    )

    @admin.display(description="time zone", ordering="time_zone")
    def zone(self, practice):
        return zone_name(practice.time_zone)

    @admin.display(description="collection target", ordering="target_collection_rate")
    def collection_target(self, practice):
        return f"{practice.target_collection_rate}%"

    @admin.display(description="IRS 501(r) rules", boolean=True, ordering="follows_501r")
    def non_profit_rules(self, practice):
        return practice.follows_501r

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active(self, practice):
        return practice.is_active

    def get_readonly_fields(self, request, obj=None):
        # The code names the practice in imports, audit rows and access grants: fixed once created.
        return ("code",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        services.practice_save(
            acting_user=request.user, practice=obj, changed_fields=form.changed_data, created=not change
        )
