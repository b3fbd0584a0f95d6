"""The contact form's token (a double submit logs one contact and one promise), unique per account."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0004_queue_oldest_first_index")]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                fields=("account", "idempotency_key"),
                name="contact_idempotency_key_unique",
            ),
        ),
    ]
