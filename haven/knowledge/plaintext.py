"""Articles as plain text: a reply on the desk, a Telegram message, a channel post.

The Markdown is rendered and sanitised as for the web page, then flattened to
text (lists as bullets, one blank line between blocks), so no Markdown syntax
and no HTML from the content reaches a requester. For Telegram's HTML parse
mode the text is escaped and only ``<b>`` and ``<a href>`` are added by us.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .content import NOT_ADVICE_PHRASES, plain_text, render_markdown, strip_markers
from .models import Article
from .organizations import notes_for
from .reviews import ReviewState

TELEGRAM_LIMIT = 4096
_BLOCKS = {"p", "h2", "h3", "ul", "ol", "blockquote", "pre"}


class _Flattener(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(re.sub(r"\s+", " ", data))


def markdown_to_text(markdown_text: str) -> str:
    """Sanitised Markdown flattened to plain text, without citation markers."""
    flattener = _Flattener()
    flattener.feed(render_markdown(strip_markers(markdown_text)))
    flattener.close()
    lines = [line.strip() for line in "".join(flattener.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def not_advice_line(lang: str) -> str:
    phrase = NOT_ADVICE_PHRASES.get(lang, NOT_ADVICE_PHRASES["en"])
    return phrase[0].upper() + phrase[1:] + "."


def body_text(article: Article) -> str:
    """The body as text, ending with the not-legal-advice note (added if missing)."""
    text = markdown_to_text(article.body_markdown)
    if NOT_ADVICE_PHRASES.get(article.lang, "") not in plain_text(text):
        text = f"{text}\n\n{not_advice_line(article.lang)}"
    return text


def warning_lines(article: Article) -> list[str]:
    """One line per "undesirable" or "foreign agent" organization the article names."""
    notes = notes_for(article.organizations or [], article.body_markdown, article.lang)
    return [note.warning_line() for note in notes if note.warn]


def reply_text(article: Article, url: str) -> str:
    """Title, body, warnings, sources and the article's address: a ready reply for the desk."""
    with translation.override(article.lang):
        sources = "\n".join(f"• {s.get('title', '')}" + (f" — {s['url']}" if s.get("url") else "")
                            for s in article.sources)
        sources_label, full_label = _("Sources"), _("Full article")
        parts = [article.title, body_text(article), "\n".join(warning_lines(article)),
                 f"{sources_label}:\n{sources}", f"{full_label}: {absolute(url)}"]
    return "\n\n".join(part for part in parts if part.strip())


def telegram_text(article: Article, url: str, limit: int = TELEGRAM_LIMIT,
                  review: ReviewState | None = None) -> str:
    """Escaped text for Telegram's HTML parse mode, shortened to fit ``limit``.

    With ``review``, one line under the title says the organization's review state.
    """
    with translation.override(article.lang):
        label = _("Read the full article")
        link = f'<a href="{html.escape(absolute(url))}">{html.escape(label)}</a>'
        note = html.escape(not_advice_line(article.lang))
        state = _review_line(review) if review is not None else ""
    head = f"<b>{html.escape(article.title, quote=False)}</b>\n{state}\n"
    body = html.escape(_without_note(markdown_to_text(article.body_markdown), article.lang),
                       quote=False)
    warnings = "".join(f"\n\n{html.escape(line, quote=False)}" for line in warning_lines(article))
    tail = f"{warnings}\n\n{note}\n\n{link}"
    room = limit - len(head) - len(tail)
    if room < 1:
        return (head + link)[:limit]
    return head + _shorten(body, room) + tail


def _review_line(review: ReviewState) -> str:
    line = ("⚠ " if review.is_warning else "") + review.sentence()
    if review.state == "law_changed" and review.note:
        line += " " + review.note
    return html.escape(line, quote=False) + "\n"


def escape_for_telegram(text: str) -> str:
    """A short text written by a coordinator, made safe for the HTML parse mode."""
    return html.escape(text.strip(), quote=False)


def absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def _without_note(text: str, lang: str) -> str:
    """The text without its closing not-legal-advice paragraph (the caller adds its own)."""
    phrase = NOT_ADVICE_PHRASES.get(lang, NOT_ADVICE_PHRASES["en"])
    paragraphs = [p for p in text.split("\n\n")
                  if not (phrase in plain_text(p) and len(p) < 2 * len(phrase))]
    return "\n\n".join(paragraphs).strip()


def _shorten(text: str, room: int) -> str:
    """``text`` cut at a paragraph, else a word, to at most ``room`` characters with "…"."""
    if len(text) <= room:
        return text
    cut = text[: room - 1]
    for separator in ("\n\n", "\n", " "):
        at = cut.rfind(separator)
        if at > room // 2:
            cut = cut[:at]
            break
    cut = re.sub(r"&[#\w]*$", "", cut)  # never end inside an entity such as &amp;
    return cut.rstrip() + "…"
