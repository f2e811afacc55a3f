"""Documents drafted from a case's answers: templates kept as data, filled, exported.

A template is ``content/documents/<id>.<lang>.yaml`` (format in the README there). Its
text is a list of blocks; each block that says something about the law cites sources
(deep links, each quoting the line of the shared facts it rests on), a block that only
lays out the form says so, and what no source supports is marked "to be confirmed with a
lawyer". Nothing the answers do not give is guessed: it stays a gap marked for the
caseworker (``[заполнить: …]``), and the page lists what is left.

Filled drafts are stored as encrypted case records through ``cases.actions.save_draft``;
this module only reads templates and answers and turns text into files.
"""

from __future__ import annotations

import io
import logging
import re
import string
import zipfile
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from haven.core import pdf
from haven.intake import registry
from haven.intake.fields import choices_of
from haven.intake.questionnaire import Questionnaire, Step
from haven.knowledge.content import url_problem

# fontTools (fpdf2's font subsetting) lists the glyphs it keeps at INFO: a draft's letters.
logging.getLogger("fontTools").setLevel(logging.WARNING)

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "content" / "documents"
# What the draft says, in the draft's language, where a gap or an unsourced claim is.
GAP = {"ru": "заполнить"}
CONFIRM = {"ru": "требует подтверждения юристом"}
SOURCES_HEADING = {"ru": "Источники (для сотрудника; удалите перед подачей)"}
BLOCK_KINDS = ("sources", "confirm", "form")


class TemplateError(ValueError):
    """A template file is wrong: the message names the file and what to fix."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    facts: str


@dataclass(frozen=True)
class Field:
    name: str
    missing: str
    value: str = ""  # a format string over answers: "{birth_year}"
    by: str = ""  # a choice step whose answer picks one of ``map``
    map: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Block:
    text: str
    sources: tuple[str, ...] = ()
    confirm: bool = False


@dataclass(frozen=True)
class Template:
    id: str
    lang: str
    questionnaire: str
    names: dict[str, str]
    title: str
    sources: tuple[Source, ...]
    fields: dict[str, Field]
    blocks: tuple[Block, ...]
    offer_step: str = ""
    offer_in: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.names.get(lang[:2]) or self.names["en"]

    def number_of(self, source_id: str) -> int:
        return [s.id for s in self.sources].index(source_id) + 1

    def offered(self, values: dict[str, Any]) -> bool:
        """Whether the answers fit this document (no answer to go by: offered)."""
        return values.get(self.offer_step) in (None, *self.offer_in)


@dataclass(frozen=True)
class Draft:
    text: str
    gaps: tuple[str, ...]  # what the caseworker still has to fill in
    unconfirmed: tuple[str, ...]  # what a lawyer has to confirm


def _names(text: str) -> list[str]:
    return [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name]


def _load(path: Path) -> Template:
    where = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc_id, lang = raw["id"], raw["lang"]
        if path.name != f"{doc_id}.{lang}.yaml":
            raise TemplateError(f"{where}: the file must be named {doc_id}.{lang}.yaml")
        if lang not in GAP:
            raise TemplateError(f"{where}: no gap and confirmation words for language {lang!r}")
        sources = tuple(Source(s["id"], s["title"], s["url"], s["facts"]) for s in raw["sources"])
        fields = {}
        for name, spec in raw["fields"].items():
            fields[name] = Field(name, spec["missing"], spec.get("value", ""), spec.get("by", ""),
                                 tuple((str(k), v) for k, v in (spec.get("map") or {}).items()))
        blocks = []
        for item in raw["blocks"]:
            kinds = [k for k in BLOCK_KINDS if k in item]
            if len(kinds) != 1:
                raise TemplateError(f"{where}: block {item.get('text', '')[:40]!r} needs exactly "
                                    "one of sources (cite the law), confirm: true (no source: "
                                    "a lawyer confirms) or form: true (layout, no legal claim)")
            blocks.append(Block(item["text"], tuple(item.get("sources") or ()),
                                bool(item.get("confirm"))))
        offer = raw.get("offer_when") or {}
        template = Template(doc_id, lang, raw["questionnaire"], raw["name"], raw["title"],
                            sources, fields, tuple(blocks), offer.get("step", ""),
                            tuple(offer.get("in") or ()))
    except (KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise TemplateError(f"{where}: missing or malformed key {exc}") from exc
    _check(template, where)
    return template


def _check(template: Template, where: str) -> None:
    known = {s.id for s in template.sources}
    for source in template.sources:
        problem = url_problem(source.url)
        if problem:
            raise TemplateError(f"{where}: source {source.id} url {problem}")
        if not source.facts.strip():
            raise TemplateError(f"{where}: source {source.id} must quote the line of facts.md")
    for block in template.blocks:
        unknown = set(block.sources) - known
        if unknown:
            raise TemplateError(f"{where}: block cites unknown sources {sorted(unknown)}")
        for name in _names(block.text):
            if name not in template.fields:
                raise TemplateError(f"{where}: block uses {{{name}}}, which no field defines")
    for field in template.fields.values():
        if field.by and not field.map:
            raise TemplateError(f"{where}: field {field.name} has by: without map:")


def folder() -> Path:
    return DEFAULT_DIR


@cache
def all_templates() -> dict[str, Template]:
    return {t.id: t for t in (_load(p) for p in sorted(folder().glob("*.*.yaml")))}


def answer_values(body: Any) -> tuple[str, dict[str, Any]]:
    """The questionnaire id and the answers as values (choice ids, numbers, dates) from the
    stored answers record, which keeps each answer as the requester read it."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return "", {}
    questionnaire = _questionnaire(str(body.get("questionnaire", "")))
    if questionnaire is None:
        return "", {}
    lang = str(body.get("lang") or "en")
    values: dict[str, Any] = {}
    for item in body["items"]:
        key = item.get("key") if isinstance(item, dict) else None
        if not key or not questionnaire.has_step(key):
            continue
        value = _value(questionnaire.step(key), str(item.get("answer", "")), lang)
        if value is not None:
            values[key] = value
    return questionnaire.id, values


def _questionnaire(questionnaire_id: str) -> Questionnaire | None:
    return next((q for q in registry.by_category().values() if q.id == questionnaire_id), None)


def _value(step: Step, shown: str, lang: str) -> Any:
    if step.type in ("choice", "yes_no"):
        return next((value for value, label in choices_of(step, lang) if label == shown), None)
    if step.type == "number":
        return int(shown) if re.fullmatch(r"-?\d+", shown) else None
    if step.type == "date":
        match = re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", shown)
        try:
            return date(int(match[3]), int(match[2]), int(match[1])) if match \
                else date.fromisoformat(shown)
        except ValueError:
            return None
    return None  # free text is never copied into a document: the caseworker decides


def gap(lang: str, what: str) -> str:
    return f"[{GAP[lang]}: {what}]"


def _field_text(template: Template, field: Field, values: dict[str, Any]) -> str | None:
    pattern = field.value
    if field.by:
        pattern = dict(field.map).get(str(values.get(field.by, "")), "")
    if not pattern:
        return None
    needed = _names(pattern)
    if any(values.get(name) in (None, "") for name in needed):
        return None
    return pattern.format(**{name: _shown(values[name]) for name in needed})


def _shown(value: Any) -> str:
    return value.strftime("%d.%m.%Y") if isinstance(value, date) else str(value)


def fill(template: Template, values: dict[str, Any]) -> Draft:
    """The template's text with what the answers give; every other field a marked gap."""
    lang = template.lang
    filled: dict[str, str] = {}
    gaps: list[str] = []
    for name, field in template.fields.items():
        text = _field_text(template, field, values)
        if text is None:
            gaps.append(field.missing)
            text = gap(lang, field.missing)
        filled[name] = text
    parts: list[str] = []
    unconfirmed: list[str] = []
    for block in template.blocks:
        text = block.text.format(**{n: filled[n] for n in _names(block.text)})
        if block.sources:
            text += " " + "".join(f"[{template.number_of(s)}]" for s in block.sources)
        if block.confirm:
            unconfirmed.append(text)
            text = f"[{CONFIRM[lang]}: {text}]"
        parts.append(text)
    parts.append(SOURCES_HEADING[lang] + ":\n" + "\n".join(
        f"[{n}] {s.title}: {s.url}" for n, s in enumerate(template.sources, 1)))
    used = [g for g in gaps if any(gap(lang, g) in p for p in parts)]
    return Draft("\n\n".join(parts), tuple(used), tuple(unconfirmed))


def open_markers(template: Template, text: str) -> Draft:
    """What an edited draft still marks: gaps to fill and claims a lawyer must confirm."""
    lang = template.lang
    gaps = re.findall(r"\[" + re.escape(GAP[lang]) + r": ([^\]]+)\]", text)
    confirms = re.findall(r"\[" + re.escape(CONFIRM[lang]) + r": ([^\]]+)\]", text)
    return Draft(text, tuple(gaps), tuple(confirms))


# ---- files -------------------------------------------------------------------------------

def to_txt(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def to_pdf(template: Template, text: str) -> bytes:
    document = pdf.new_document(template.title)
    document.add_page()
    document.set_font(pdf.FAMILY, size=11)
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        if paragraph.strip():
            document.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        else:
            document.ln(3)
    return bytes(document.output())


_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<manifest:manifest xmlns:manifest="{_MANIFEST_NS}" manifest:version="1.2">\n'
    ' <manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.text"/>\n'
    ' <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
    '</manifest:manifest>\n'
)
_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<office:document-content xmlns:office="{_OFFICE_NS}" xmlns:text="{_TEXT_NS}" '
    'office:version="1.2">\n<office:body><office:text>\n{paragraphs}\n'
    '</office:text></office:body></office:document-content>\n'
)
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def to_odt(text: str) -> bytes:
    """An OpenDocument text file (LibreOffice, Word): one paragraph per line."""
    lines = text.replace("\r\n", "\n").split("\n")
    paragraphs = "\n".join(f"<text:p>{escape(line)}</text:p>" for line in lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODT_TYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", _CONTENT.format(paragraphs=paragraphs),
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
