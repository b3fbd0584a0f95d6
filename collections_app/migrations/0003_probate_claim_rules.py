"""The probate creditor-claim table: the Uniform Probate Code default and states that differ.

Data, not code: the office edits these rows in the admin when a statute changes. Each row names its
source; the engine takes the later of the notice-based deadlines, capped by the bar after death.
"""

from django.db import migrations

RULES = [
    # state, months after published notice, days after mailed notice, months after death (bar), source
    ("", 4, 60, 12, "Uniform Probate Code 3-801, 3-803"),
    ("AZ", 4, 60, 12, "A.R.S. 14-3801, 14-3803 (UPC)"),
    ("CA", 4, 60, 12, "Cal. Prob. Code 9100; Code Civ. Proc. 366.2"),
    ("CO", 4, 60, 12, "C.R.S. 15-12-801, 15-12-803 (UPC)"),
    ("FL", 3, 30, 24, "Fla. Stat. 733.702, 733.710"),
    ("IL", 6, 90, 24, "755 ILCS 5/18-3, 5/18-12"),
    ("MA", 12, 365, 12, "M.G.L. c. 190B 3-803: one year after death"),
    ("OH", 6, 183, 6, "Ohio Rev. Code 2117.06: six months after death"),
    ("WA", 4, 30, 24, "RCW 11.40.020, 11.40.051"),
]


def load_rules(apps, schema_editor):
    ProbateClaimRule = apps.get_model("collections_app", "ProbateClaimRule")
    for state, published, mailed, bar, source in RULES:
        ProbateClaimRule.objects.update_or_create(
            state=state,
            defaults={
                "months_after_published_notice": published,
                "days_after_mailed_notice": mailed,
                "months_after_death_bar": bar,
                "source": source,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0002_initial")]

    operations = [migrations.RunPython(load_rules, migrations.RunPython.noop)]
