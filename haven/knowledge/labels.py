"""Names shown for topics and languages, in the reader's language."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The order of the index page: the most asked first.
TOPIC_LABELS: dict[str, Promise] = {
    "acs": _("Alternative civilian service"),
    "summons": _("Summons and mobilization"),
    "military-service": _("Military service and leaving it"),
    "criminal-law": _("Criminal law"),
    "family": _("Families of service members"),
    "leaving-russia": _("Leaving Russia"),
    "refugees": _("Displaced Ukrainians"),
    "asylum": _("Asylum"),
    "digital-safety": _("Digital safety"),
    "money": _("Money and fundraising"),
}

def topic_label(topic: str) -> str:
    return str(TOPIC_LABELS.get(topic, topic))
