"""Fixtures for the knowledge base: shipped articles in the database, an organization's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from haven.accounts.models import Organization, Role
from haven.knowledge import service
from haven.knowledge.loader import load_shipped
from haven.knowledge.models import Article
from tests.conftest import Persona, add_member


@pytest.fixture(autouse=True)
def _fresh_indexes() -> Iterator[None]:
    # Database rows vanish with each test's transaction; so must the indexes built from them.
    service.forget_indexes()
    yield
    service.forget_indexes()


@pytest.fixture
def shipped(db: None) -> None:
    report = load_shipped()
    assert report.errors == [] and report.created > 50


@pytest.fixture
def dana(alice: Persona) -> Persona:
    """A coordinator in alice's organization."""
    return add_member(alice, "dana", Role.COORDINATOR)


def own_article(org: Organization, lang: str = "en", slug: str = "our-office", **kw: Any) -> Article:
    values: dict[str, Any] = {
        "title": "Our office hours", "topic": "money", "tags": ["office"],
        "sources": [{"title": "Our rules", "url": "https://example.org/rules"}],
        "body_markdown": "We answer on weekdays.\n\n*This is general information, not legal advice.*\n",
        **kw,
    }
    return Article.objects.create(organization=org, lang=lang, slug=slug, **values)
