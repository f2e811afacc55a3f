"""Drop the old blind index and tag hashes; every case is indexed again (reviews H-2, I-2).

The old index held the questionnaire answers (H-2) under the record key (I-2),
and tag hashes were made under the record key too. Neither can be recomputed
here (a migration has no member's key), so the rows are deleted and every case
is marked as not indexed: the next search by a member (or a filter by tag)
indexes them again from their encrypted content, as it does for cases that
arrived from intake, with free text only and the new keys, and re-hashes tags
from the encrypted list. Nothing a person wrote is touched.
"""

from django.db import migrations


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("cases", "SearchToken").objects.all().delete()
    apps.get_model("cases", "CaseTag").objects.all().delete()
    apps.get_model("cases", "Case").objects.filter(indexed=True).update(indexed=False)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0003_search_token_field"),
    ]

    # Going back leaves an empty index that the older code rebuilds the same way.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
