"""The outbox's claims carry a batch token, so a worker can tell a claim it still holds."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="outbox",
            name="claim_token",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddIndex(
            model_name="outbox",
            index=models.Index(fields=["claim_token"], name="cases_outbo_claim_t_idx"),
        ),
    ]
