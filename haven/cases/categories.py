"""Case categories, kept as data in categories.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.utils.translation import get_language

PATH = Path(__file__).with_name("categories.yaml")


@dataclass(frozen=True)
class Category:
    slug: str
    names: dict[str, str]

    @property
    def name(self) -> str:
        lang = (get_language() or "en")[:2]
        return self.names.get(lang) or self.names["en"]

    def __str__(self) -> str:
        return self.name


@cache
def all_categories() -> dict[str, Category]:
    raw = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    return {item["slug"]: Category(item["slug"], dict(item["name"])) for item in raw}


def get(slug: str) -> Category:
    return all_categories().get(slug) or Category(slug, {"en": slug})


def choices() -> list[tuple[str, str]]:
    return [(c.slug, c.name) for c in all_categories().values()]
