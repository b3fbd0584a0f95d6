"""Search by medical record number and by email (the patient's or the guarantor's): exact and
case-insensitive, so each is an index on UPPER(...), the expression accounts.selectors matches."""

from django.db import migrations, models
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_idempotency_and_overpayment_limit")]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(Upper("medical_record_number"), name="patient_mrn_upper"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(Upper("email"), name="patient_email_upper"),
        ),
        migrations.AddIndex(
            model_name="guarantor",
            index=models.Index(Upper("email"), name="guarantor_email_upper"),
        ),
    ]
