"""Idempotency keys on ledger rows (a replayed form or API call answers with the first row) and the
practice's overpayment limit."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations, models

from core.append_only import install_triggers


def reinstall_ledger_triggers(apps, schema_editor):
    # If SQLite rebuilt accounts_transaction for the new column, its append-only triggers went with
    # the old table: put them back (a no-op where they are still there).
    install_triggers(schema_editor.connection, ("accounts_transaction",))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_ledger_append_only_and_search_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='practice',
            name='overpayment_limit',
            field=models.DecimalField(decimal_places=2, default=Decimal('500.00'), help_text='The most a payment may exceed the patient balance, and only when the rep confirms why (a prepayment for a scheduled visit, say). The credit is refunded or applied later.', max_digits=12),
        ),
        migrations.AddField(
            model_name='transaction',
            name='idempotency_key',
            field=models.CharField(blank=True, help_text='The key a form or an API call (Idempotency-Key header) sent: a replay answers with this row.', max_length=80),
        ),
        migrations.AddConstraint(
            model_name='transaction',
            constraint=models.UniqueConstraint(condition=models.Q(('idempotency_key', ''), _negated=True), fields=('account', 'idempotency_key'), name='transaction_idempotency_key_unique'),
        ),
        migrations.RunPython(reinstall_ledger_triggers, reinstall_ledger_triggers, elidable=False),
    ]
