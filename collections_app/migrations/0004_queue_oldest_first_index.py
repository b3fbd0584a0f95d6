"""The work queue's "oldest first" sort (oldest open work item, then score): an index walk."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0003_probate_claim_rules")]

    operations = [
        migrations.AddIndex(
            model_name="queueentry",
            index=models.Index("oldest_item_on", models.F("score").desc(), "account", name="queue_oldest_first"),
        ),
    ]
