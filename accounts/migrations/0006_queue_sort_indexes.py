"""The work queue's sorts by patient balance (highest first) and by follow-up date: PostgreSQL walks
these indexes and probes each account's queue entry, instead of sorting the rep's whole queue."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_search_identifier_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="patientaccount",
            index=models.Index(models.F("patient_balance").desc(), "id", name="account_balance_desc"),
        ),
        migrations.AddIndex(
            model_name="patientaccount",
            index=models.Index(fields=["follow_up_on", "id"], name="account_follow_up"),
        ),
    ]
