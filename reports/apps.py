from django.apps import AppConfig

# The billing documents that count as a statement for the first-statement aging basis: the patient
# statement and the dunning letters and final notice sent in its place, once mailed. One row per
# account a statement covers (a guarantor's statement covers all their accounts in the practice).
FIRST_STATEMENT_ROWS = (
    "(SELECT c.patientaccount_id AS account_id, s.mailed_on AS mailed_on"
    " FROM reports_statement s JOIN reports_statement_covers c ON c.statement_id = s.id"
    " WHERE s.mailed_on IS NOT NULL"
    " AND s.kind IN ('statement', 'dunning_30', 'dunning_60', 'dunning_90', 'final_notice'))"
)


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from accounts.aging import first_statement_source_set

        first_statement_source_set(FIRST_STATEMENT_ROWS, "account_id", "mailed_on")

        # The account workspace's "Statements and letters" panel (collections_app may not import
        # reports, so the panel is handed to its registry here).
        from collections_app.workspace.panels import Panel, panel_register

        panel_register(Panel("statements", "Statements and letters", "statements-panel", None))

        # The statement batches' printing progress on the jobs page (collections_app's page).
        from core.nightly import jobs_page_section
        from reports.statements.printing_views import jobs_section

        jobs_page_section(jobs_section)
