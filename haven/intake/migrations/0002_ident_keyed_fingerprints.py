"""Fingerprints move from the server pepper to each organization's fingerprint key.

The old rows were HMACs under ``HAVEN_PEPPER`` (a seized server could test every
phone number against them). No migration can compute the new hashes: they need
a member's key. So every old row is deleted, and each case that had one and is
still open (not closed, burned or erased) gets one placeholder row (kind "") that
asks for its identifiers to be read again from its sealed answers the next time
a member of its organization opens the desk (:mod:`haven.intake.fingerprints`).
Closed cases keep none: they are never compared, and closing now deletes them.
"""

from django.db import migrations, models


def rekey(apps, schema_editor):  # noqa: ANN001, ANN201 - migration signature
    fingerprint = apps.get_model("intake", "CaseFingerprint")
    old = fingerprint.objects.exclude(case__status="closed").exclude(case__erased=True)
    keep = set(old.exclude(case__summary=b"").values_list("organization_id", "case_id"))
    fingerprint.objects.all().delete()
    fingerprint.objects.bulk_create(
        fingerprint(organization_id=org, case_id=case, kind="", hash="")
        for org, case in sorted(keep))


class Migration(migrations.Migration):

    dependencies = [
        ("intake", "0001_initial"),
        ("cases", "0003_search_token_field"),
    ]

    operations = [
        migrations.AddField(
            model_name="casefingerprint",
            name="sealed",
            field=models.BinaryField(null=True),
        ),
        migrations.AlterField(
            model_name="casefingerprint",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
