"""Reviews in the product: the reviewer right, review records, changes, law changed, review age."""

from __future__ import annotations

import datetime as dt
import importlib
import re

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from haven.accounts import services
from haven.accounts.models import Role
from haven.audit import chain
from haven.audit.models import AuditEntry
from haven.cases.models import OrgSettings
from haven.knowledge import reviews, service
from haven.knowledge.desk import case_panel
from haven.knowledge.models import Article, ArticleReview, KnowledgeSettings, ReviewStatus
from haven.knowledge.service import search_articles
from tests.conftest import Persona, add_member, log_in, make_case

from .conftest import own_article

pytestmark = pytest.mark.usefixtures("shipped")

TODAY = timezone.localdate().isoformat()
REVIEW_URL = "/kb/manage/en/acs-deadlines/review/"


@pytest.fixture
def erin(alice: Persona) -> Persona:
    """A caseworker in alice's organization given the reviewer right."""
    persona = add_member(alice, "erin", Role.CASEWORKER)
    services.set_knowledge_reviewer(alice.member, persona.member, True)
    persona.member.refresh_from_db()
    return persona


@pytest.fixture
def erin_client(erin: Persona) -> Client:
    return log_in(Client(), erin)


def _shipped(lang: str = "en", slug: str = "acs-deadlines") -> Article:
    return Article.objects.get(organization__isnull=True, lang=lang, slug=slug)


def _review(client: Client, url: str = REVIEW_URL, status: str = "reviewed", note: str = "",
            seen: str | None = None) -> int:
    """Post the review form as the page shows it (with the digest of the text it showed)."""
    page = client.get(url)
    if seen is None:
        found = re.search(r'name="seen" value="([0-9a-f]{64})"', page.content.decode())
        assert found, "the review form is not on the page"
        seen = found.group(1)
    return client.post(url, {"status": status, "note": note, "seen": seen}).status_code


def _kb_actions(persona: Persona) -> list[tuple[str, dict[str, object]]]:
    return [(e.action, e.detail) for e in AuditEntry.objects.filter(organization=persona.org)
            .order_by("seq") if e.action.startswith(("kb.", "member.kb"))]


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# -- the reviewer right ----------------------------------------------------------------------


def test_a_coordinator_without_the_right_sees_no_review_button_and_cannot_review(
        alice: Persona, alice_client: Client) -> None:
    page = _html(alice_client, REVIEW_URL)
    assert 'name="status"' not in page
    assert "Only members given the reviewer right" in page
    assert 'value="reviewed"' not in _html(alice_client, "/kb/manage/")
    digest = reviews.text_digest(_shipped())
    response = alice_client.post(REVIEW_URL, {"status": "reviewed", "note": "", "seen": digest})
    assert response.status_code == 404
    assert not ArticleReview.objects.exists()
    assert not [a for a, _ in _kb_actions(alice) if a.startswith("kb.")]


def test_a_caseworker_without_the_right_gets_404(alice: Persona, bob_client: Client) -> None:
    assert bob_client.get(REVIEW_URL).status_code == 404
    assert bob_client.post(REVIEW_URL, {"status": "reviewed", "seen": "x" * 64}).status_code == 404
    assert not ArticleReview.objects.exists()


def test_an_administrator_gives_and_withdraws_the_right_on_the_members_page(
        alice: Persona, alice_client: Client, bob: Persona, bob_client: Client) -> None:
    url = f"/org/members/{bob.member.pk}/reviewer/"
    assert "Allow reviewing articles" in _html(alice_client, "/org/")
    assert alice_client.post(url, {"allowed": "yes"}).status_code == 302
    bob.member.refresh_from_db()
    assert bob.member.can_review_knowledge
    assert "reviews knowledge articles" in _html(alice_client, "/org/")
    assert 'href="/kb/manage/"' in _html(bob_client, "/desk/")  # the reviewer finds the articles
    assert _review(bob_client) == 302
    assert alice_client.post(url, {"allowed": "no"}).status_code == 302
    bob.member.refresh_from_db()
    assert not bob.member.can_review_knowledge
    assert bob_client.get(REVIEW_URL).status_code == 404
    assert 'href="/kb/manage/"' not in _html(bob_client, "/desk/")
    entries = [d for a, d in _kb_actions(alice) if a == "member.kb_reviewer"]
    assert entries == [{"member": bob.member.pk, "allowed": True},
                       {"member": bob.member.pk, "allowed": False}]
    assert chain.verify(alice.org.pk) is None


def test_only_an_administrator_gives_the_right(alice: Persona, bob: Persona,
                                               bob_client: Client, charlie_client: Client) -> None:
    dana = add_member(alice, "dana", Role.COORDINATOR)
    assert log_in(Client(), dana).post(f"/org/members/{bob.member.pk}/reviewer/",
                                       {"allowed": "yes"}).status_code == 404
    # Another organization's administrator: 404, as for any member of another organization.
    assert charlie_client.post(f"/org/members/{bob.member.pk}/reviewer/",
                               {"allowed": "yes"}).status_code == 404
    bob.member.refresh_from_db()
    assert not bob.member.can_review_knowledge


# -- a review: date, name, organization, where it shows -----------------------------------------


def test_a_review_records_date_name_and_organization_and_shows_everywhere(
        alice: Persona, erin: Persona, erin_client: Client, client: Client) -> None:
    assert _review(erin_client) == 302
    review = ArticleReview.objects.get()
    shipped = _shipped()
    assert (review.organization_id, review.article_id, review.status) == (
        alice.org.pk, shipped.pk, ReviewStatus.REVIEWED)
    assert review.reviewer_name == "Erin" and review.body_markdown == shipped.body_markdown
    assert not Article.objects.filter(organization=alice.org).exists()  # no copy needed
    # Colleagues see who reviewed it; readers see the organization and the date only.
    assert f"Reviewed on {TODAY} by Erin (First)." in _html(erin_client, "/kb/manage/")
    public = _html(client, "/kb/o/first/en/acs-deadlines/")
    assert f"Reviewed on {TODAY} by First." in public and "Erin" not in public
    hit = next(h for h in search_articles("ACS deadlines", "en", alice.org)
               if h.slug == "acs-deadlines")
    bot = service.article_text_for_telegram(hit, alice.org)
    assert f"</b>\nReviewed on {TODAY} by First.\n" in bot and "Erin" not in bot
    assert _kb_actions(alice)[-1] == ("kb.article.reviewed",
                                      {"lang": "en", "slug": "acs-deadlines", "own": False})


def test_the_desk_shows_the_review_state(alice: Persona, erin_client: Client,
                                         alice_client: Client) -> None:
    case = make_case(alice)
    url = f"/desk/cases/{case.number}/"
    panel = _html(alice_client, url + "?kb=ACS+deadlines&kb_lang=en").split('class="kb-panel"')[1]
    assert "Not yet reviewed by First." in panel
    _review(erin_client, status="law_changed", note="Law 123-FZ of 1 March")
    panel = _html(alice_client, url + "?kb=ACS+deadlines&kb_lang=en").split('class="kb-panel"')[1]
    assert f"Law changed — under review at First since {TODAY}. Law 123-FZ of 1 March" in panel


def test_the_shipped_page_says_no_organization_reviewed_it(
        alice: Persona, erin_client: Client, client: Client) -> None:
    _review(erin_client)
    page = _html(client, "/kb/en/acs-deadlines/")
    assert "Not reviewed by an organization." in page
    assert "Erin" not in page and "First" not in page


def test_an_organizations_review_is_not_shown_for_another(
        alice: Persona, charlie: Persona, erin_client: Client, client: Client,
        charlie_client: Client) -> None:
    _review(erin_client)
    page = _html(client, "/kb/o/second/en/acs-deadlines/")
    assert "Not yet reviewed by Second." in page and "Erin" not in page
    hit = next(h for h in search_articles("ACS deadlines", "en", charlie.org)
               if h.slug == "acs-deadlines")
    assert "Erin" not in service.article_text_for_telegram(hit, charlie.org)
    services.set_knowledge_reviewer(charlie.member, charlie.member, True)
    page = _html(charlie_client, REVIEW_URL)
    assert "Erin" not in page and "No review yet." in page


def test_another_organizations_own_article_cannot_be_reviewed(
        alice: Persona, charlie: Persona, charlie_client: Client) -> None:
    own_article(alice.org)
    services.set_knowledge_reviewer(charlie.member, charlie.member, True)
    url = "/kb/manage/en/our-office/review/"
    assert charlie_client.get(url).status_code == 404
    assert charlie_client.post(url, {"status": "reviewed", "seen": "0" * 64}).status_code == 404
    assert not ArticleReview.objects.exists()


# -- what changed since the last review ---------------------------------------------------------


def test_no_review_yet_then_the_changes_after_an_edit(
        alice: Persona, erin: Persona, erin_client: Client, alice_client: Client) -> None:
    own_article(alice.org, body_markdown="We answer on weekdays.\n\nCall us at noon.\n")
    url = "/kb/manage/en/our-office/review/"
    assert "No review yet." in _html(erin_client, url)
    _review(erin_client, url)
    assert "Nothing changed since the last review." in _html(erin_client, url)
    edit = alice_client.get("/kb/manage/en/our-office/edit/").context["form"]
    data = {name: edit.initial.get(name, "") for name in edit.fields}
    data.update(body_markdown="We answer on weekdays.\n\nCall us <b>at</b> nine.\n")
    assert alice_client.post("/kb/manage/en/our-office/edit/", data).status_code == 302
    for page in (_html(erin_client, url), _html(alice_client, "/kb/manage/en/our-office/edit/")):
        changes = page.split('id="changes-h"')[1].split("</section>")[0]
        assert re.search(r"<del>.*Removed:.*Call us at noon\.</del>", changes)
        assert re.search(r"<ins>.*Added:.*Call us &lt;b&gt;at&lt;/b&gt; nine\.</ins>", changes)
        assert "We answer on weekdays." in changes  # unchanged context, unmarked
        assert "<b>at</b>" not in changes


def test_a_review_is_refused_if_the_text_changed_since_the_page_was_shown(
        alice: Persona, erin_client: Client) -> None:
    article = own_article(alice.org)
    url = "/kb/manage/en/our-office/review/"
    seen = reviews.text_digest(article)
    Article.objects.filter(pk=article.pk).update(body_markdown="Changed meanwhile.")
    response = erin_client.post(url, {"status": "reviewed", "seen": seen})
    assert response.status_code == 400
    assert "changed while you were reading it" in response.content.decode()
    assert not ArticleReview.objects.exists()


def test_an_article_edited_after_its_review_says_so_until_reviewed_again(
        alice: Persona, erin_client: Client, client: Client) -> None:
    article = own_article(alice.org)
    url, public = "/kb/manage/en/our-office/review/", "/kb/o/first/en/our-office/"
    _review(erin_client, url)
    assert f"Reviewed on {TODAY} by First." in _html(client, public)
    Article.objects.filter(pk=article.pk).update(body_markdown="We answer on Sundays only.")
    page = _html(client, public)
    assert f"Changed since it was reviewed on {TODAY} by First." in page
    assert "Reviewed on" not in page
    hit = next(h for h in search_articles("office hours", "en", alice.org) if h.slug == "our-office")
    assert "⚠ Changed since it was reviewed" in service.article_text_for_telegram(hit, alice.org)
    _review(erin_client, url)
    assert f"Reviewed on {TODAY} by First." in _html(client, public)


# -- law changed ---------------------------------------------------------------------------------


def test_law_changed_warns_until_the_next_review(
        alice: Persona, erin_client: Client, client: Client) -> None:
    public = "/kb/o/first/en/acs-deadlines/"
    assert _review(erin_client, status="law_changed", note="New law from 1 March") == 302
    page = _html(client, public)
    assert 'class="kb-banner kb-law-changed"' in page
    assert f"Law changed — under review at First since {TODAY}." in page
    assert "New law from 1 March" in page
    hit = next(h for h in search_articles("ACS deadlines", "en", alice.org)
               if h.slug == "acs-deadlines")
    assert "⚠ Law changed — under review" in service.article_text_for_telegram(hit, alice.org)
    _review(erin_client)
    page = _html(client, public)
    assert "kb-law-changed" not in page and "New law from 1 March" not in page
    assert f"Reviewed on {TODAY} by First." in page
    assert [a for a, _ in _kb_actions(alice) if a.startswith("kb.")] == [
        "kb.article.law_changed", "kb.article.reviewed"]
    history = _html(erin_client, REVIEW_URL).split('id="history-h"')[1].split("</section>")[0]
    assert history.index("Reviewed") < history.index("Law changed — under review · New law")


def test_a_bad_status_or_a_missing_digest_changes_nothing(erin_client: Client) -> None:
    seen = reviews.text_digest(_shipped())
    response = erin_client.post(REVIEW_URL, {"status": "approved", "seen": seen})
    assert response.status_code == 400
    assert "Choose whether the article is reviewed or the law changed." in response.content.decode()
    response = erin_client.post(REVIEW_URL, {"status": "reviewed"})
    assert response.status_code == 400
    assert "Open the article again, read it, then review it." in response.content.decode()
    assert not ArticleReview.objects.exists()


# -- review age ------------------------------------------------------------------------------------


def _reviewed_on(alice: Persona, day: dt.date) -> None:
    article = _shipped()
    ArticleReview.objects.create(
        organization=alice.org, article=article, status=ReviewStatus.REVIEWED,
        title=article.title, body_markdown=article.body_markdown, sources=article.sources,
        reviewer_name="Erin",
        reviewed_at=dt.datetime.combine(day, dt.time(12), dt.UTC))


def test_a_review_older_than_the_review_age_is_overdue(alice: Persona) -> None:
    _reviewed_on(alice, dt.date(2026, 1, 15))
    article = _shipped()
    assert reviews.state_for(alice.org, article, dt.date(2026, 7, 15)).state == reviews.REVIEWED
    late = reviews.state_for(alice.org, article, dt.date(2026, 7, 16))
    assert late.state == reviews.OVERDUE
    assert late.sentence() == "Review overdue: last reviewed on 2026-01-15 by Erin (First)."
    KnowledgeSettings.objects.create(organization=alice.org, review_age_months=12)
    assert reviews.state_for(alice.org, article, dt.date(2026, 7, 16)).state == reviews.REVIEWED
    assert reviews.state_for(alice.org, article, dt.date(2027, 1, 16)).state == reviews.OVERDUE


def test_the_public_page_says_overdue(alice: Persona, client: Client) -> None:
    _reviewed_on(alice, dt.date(2020, 3, 1))
    page = _html(client, "/kb/o/first/en/acs-deadlines/")
    assert "Review overdue: last reviewed on 2020-03-01 by First." in page


def test_the_month_arithmetic_clamps_to_the_months_end() -> None:
    assert reviews._add_months(dt.date(2026, 8, 31), -6) == dt.date(2026, 2, 28)
    assert reviews._add_months(dt.date(2026, 3, 15), -6) == dt.date(2025, 9, 15)


def test_the_review_age_is_set_on_the_settings_page(alice: Persona, alice_client: Client) -> None:
    page = _html(alice_client, "/desk/settings/")
    assert 'name="review_age_months"' in page and 'value="6"' in page
    response = alice_client.post("/desk/settings/", {"review_age_months": "9"})
    assert response.status_code == 302
    assert reviews.review_age(alice.org) == 9
    assert _kb_actions(alice)[-1] == ("kb.review_age", {"months": 9})
    assert "overdue after 9 months" in _html(alice_client, "/desk/settings/")
    # The retention form on the same page still saves on its own.
    assert alice_client.post("/desk/settings/", {"retention_days": "30"}).status_code == 302
    assert OrgSettings.objects.get(organization=alice.org).retention_days == 30
    assert reviews.review_age(alice.org) == 9


@pytest.mark.parametrize("value", ["0", "37", "-3", "six", ""])
def test_the_review_age_refuses_bad_input(alice: Persona, alice_client: Client, value: str) -> None:
    response = alice_client.post("/desk/settings/", {"review_age_months": value})
    assert response.status_code == 400
    assert "Enter a number of months from 1 to 36." in response.content.decode()
    assert reviews.review_age(alice.org) == reviews.REVIEW_AGE_DEFAULT
    assert not KnowledgeSettings.objects.exists()
    assert not _kb_actions(alice)


def test_a_caseworker_cannot_set_the_review_age(alice: Persona, bob_client: Client) -> None:
    assert bob_client.post("/desk/settings/", {"review_age_months": "12"}).status_code == 404
    assert not KnowledgeSettings.objects.exists()


# -- an override is reviewed on its own ------------------------------------------------------------


def test_an_override_carries_its_own_review(alice: Persona, erin_client: Client,
                                             alice_client: Client, client: Client) -> None:
    public = "/kb/o/first/en/acs-deadlines/"
    _review(erin_client)
    assert "Reviewed on" in _html(client, public)
    alice_client.post("/kb/manage/en/acs-deadlines/override/")
    copy = Article.objects.get(organization=alice.org, lang="en", slug="acs-deadlines")
    assert (copy.reviewed_on, copy.reviewed_by) == (None, "")
    assert "Not yet reviewed by First." in _html(client, public)
    assert "No review yet." in _html(erin_client, REVIEW_URL)
    _review(erin_client)
    assert ArticleReview.objects.filter(article=copy).count() == 1
    assert ArticleReview.objects.filter(article=_shipped()).count() == 1
    assert _kb_actions(alice)[-1] == ("kb.article.reviewed",
                                      {"lang": "en", "slug": "acs-deadlines", "own": True})
    # Removing the copy removes its reviews; the shipped article's review shows again.
    alice_client.post("/kb/manage/en/acs-deadlines/delete/")
    assert not ArticleReview.objects.filter(article_id=copy.pk).exists()
    assert f"Reviewed on {TODAY} by First." in _html(client, public)


def test_the_case_panel_review_state_is_the_members_organizations(
        alice: Persona, charlie: Persona, erin_client: Client) -> None:
    _review(erin_client)
    for persona, expected in ((alice, f"Reviewed on {TODAY} by Erin (First)."),
                              (charlie, "Not yet reviewed by Second.")):
        request = RequestFactory().get("/", {"kb": "ACS deadlines", "kb_lang": "en"})
        request.user = persona.member
        panel = case_panel(request, make_case(persona))
        states = {item["hit"].slug: item["review"].sentence() for item in panel["hits"]}
        assert states["acs-deadlines"] == expected


# -- the migration -----------------------------------------------------------------------------------


def test_the_migration_turns_an_organizations_review_date_into_a_review(alice: Persona) -> None:
    from django.apps import apps
    migration = importlib.import_module("haven.knowledge.migrations.0002_article_reviews")
    reviewed = own_article(alice.org, reviewed_on=dt.date(2026, 5, 4), reviewed_by="First")
    copied = own_article(alice.org, slug="copy", reviewed_on=dt.date(2025, 1, 1),
                         reviewed_by="A lawyer")
    migration.move_org_reviews(apps, None)
    review = ArticleReview.objects.get()
    assert (review.article_id, review.organization_id, review.status, review.reviewer_name) == (
        reviewed.pk, alice.org.pk, ReviewStatus.REVIEWED, "First")
    assert timezone.localdate(review.reviewed_at) == dt.date(2026, 5, 4)
    assert review.body_markdown == reviewed.body_markdown
    for row in (reviewed, copied):
        row.refresh_from_db()
        assert (row.reviewed_on, row.reviewed_by) == (None, "")
    assert _shipped().reviewed_by != ""  # the shipped sign-off stays


def test_the_edit_and_review_pages_show_the_saved_text_as_html(
        alice: Persona, alice_client: Client, erin_client: Client) -> None:
    own_article(alice.org, body_markdown="We answer on **weekdays**.\n\n<script>x</script>\n")
    for client, url in ((alice_client, "/kb/manage/en/our-office/edit/"),
                        (erin_client, "/kb/manage/en/our-office/review/")):
        preview = _html(client, url).split('id="preview-h"')[1]
        assert "<strong>weekdays</strong>" in preview
        assert "&lt;p&gt;" not in preview and "<script>" not in preview
