from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_claim_patient_control_number"),
    ]

    operations = [
        migrations.AddField(
            model_name="practice",
            name="agency_min_balance",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("100.00"),
                help_text="Accounts owing less are never placed with an agency.",
                max_digits=12,
            ),
        ),
        migrations.AddField(
            model_name="practice",
            name="agency_bad_debt_at_placement",
            field=models.BooleanField(
                default=True,
                help_text="Write the balance off to bad debt when it is placed; agency collections then post as "
                "bad-debt recovery.",
            ),
        ),
    ]
