"""Encrypt each deadline's rule id (review L-2).

The rule id sat in clear next to the due date; a rule is a fixed offset from an
answer's date (a summons posted in the register + 7 days), so the two gave the
answered date back. The migration seals each rule id, padded to one length, to
the organization's public key (no member's key is needed), like everything
intake writes. The due date stays in clear: the worker raises reminders from it
with no member present, and the queues sort by it.
"""

from django.db import migrations, models

RULE_PAD = 48  # haven.cases.actions.RULE_PAD when this was written


def seal_rules(apps, schema_editor):  # type: ignore[no-untyped-def]
    from haven.vault import seal_text

    deadline_model = apps.get_model("cases", "Deadline")
    for deadline in deadline_model.objects.select_related("case__organization").iterator():
        public = bytes(deadline.case.organization.public_key)
        deadline_model.objects.filter(pk=deadline.pk).update(
            sealed_rule=seal_text(public, deadline.rule.ljust(RULE_PAD)))


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0004_index_reindex_free_text"),
    ]

    # Going back restores an empty rule column: the sealed ids need a member's key to open.
    operations = [
        migrations.AddField(
            model_name="deadline",
            name="sealed_rule",
            field=models.BinaryField(null=True),
        ),
        migrations.RunPython(seal_rules, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(
            model_name="deadline",
            name="rule",
        ),
    ]
