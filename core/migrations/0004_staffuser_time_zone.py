# A staff user's own time zone for the times pages show (core/display.py). Blank, the default: each
# practice's zone. A plain nullable-free CharField with "" for existing rows: the same on SQLite and PostgreSQL.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffuser",
            name="time_zone",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Use each practice's time zone"),
                    ("America/New_York", "Eastern (New York)"),
                    ("America/Chicago", "Central (Chicago)"),
                    ("America/Denver", "Mountain (Denver)"),
                    ("America/Phoenix", "Arizona (Phoenix, no daylight saving)"),
                    ("America/Los_Angeles", "Pacific (Los Angeles)"),
                    ("America/Anchorage", "Alaska (Anchorage)"),
                    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
                ],
                help_text="Times show in this zone, labelled. Left blank, each practice's own zone.",
                max_length=64,
            ),
        ),
    ]
