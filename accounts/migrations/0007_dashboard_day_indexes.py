from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_queue_sort_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["posted_at"], name="transaction_posted_at"),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["posted_by", "posted_at"], name="transaction_poster_posted_at"),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("kind", "reversal")), fields=["posted_at"], name="transaction_reversal_posted_at"
            ),
        ),
    ]
