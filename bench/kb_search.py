"""Knowledge-base search latency with 1,000 articles.

The shipped articles are topped up with filler articles made of random words
from the shipped vocabulary (per language), then a few hundred queries run:
the quality questions, random word combinations, and the same with typos.
Run from the repository root: ``python bench/kb_search.py``. Prints JSON lines.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.kb_quality import QUESTIONS  # noqa: E402
from haven.core import text  # noqa: E402
from haven.knowledge.content import DEFAULT_ROOT, Article, load_articles  # noqa: E402
from haven.knowledge.search import ArticleLike, SearchIndex  # noqa: E402

TOTAL_ARTICLES = 1000
RANDOM_QUERIES = 300
SEED = 20240401


@dataclass(frozen=True)
class Filler:
    slug: str
    lang: str
    title: str
    tags: tuple[str, ...]
    body_markdown: str
    topic: str = "filler"


def vocabulary(articles: list[Article]) -> dict[str, list[str]]:
    """Every word of the shipped articles, per language (repeats kept: real frequencies)."""
    found: dict[str, list[str]] = {}
    for article in articles:
        found.setdefault(article.lang, []).extend(text.words(article.body_markdown))
    return found


def fillers(words: dict[str, list[str]], count: int, rng: random.Random) -> list[Filler]:
    langs = sorted(words)
    made = []
    for number in range(count):
        lang = rng.choice(langs)
        pool = words[lang]
        made.append(Filler(
            slug=f"filler-{number:04d}",
            lang=lang,
            title=" ".join(rng.choices(pool, k=rng.randint(3, 8))),
            tags=tuple(rng.choices(pool, k=rng.randint(3, 8))),
            body_markdown=" ".join(rng.choices(pool, k=rng.randint(150, 400))),
        ))
    return made


def with_typo(query: str, rng: random.Random) -> str:
    """Swap, drop or double one letter of the longest word."""
    parts = query.split()
    index = max(range(len(parts)), key=lambda i: len(parts[i]))
    word = parts[index]
    if len(word) > 3:
        at = rng.randrange(1, len(word) - 1)
        word = rng.choice([
            word[:at] + word[at + 1] + word[at] + word[at + 2:],
            word[:at] + word[at + 1:],
            word[:at] + word[at] + word[at:],
        ])
    parts[index] = word
    return " ".join(parts)


def queries(words: dict[str, list[str]], rng: random.Random) -> list[tuple[str, str | None]]:
    made: list[tuple[str, str | None]] = [(q, lang) for q, lang, _ in QUESTIONS]
    langs = sorted(words)
    for _ in range(RANDOM_QUERIES):
        lang = rng.choice(langs)
        query = " ".join(rng.choices(words[lang], k=rng.randint(1, 8)))
        if rng.random() < 0.4:
            query = with_typo(query, rng)
        made.append((query, rng.choice([lang, None])))
    made.extend((with_typo(q, rng), lang) for q, lang, _ in QUESTIONS)
    return made


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    rng = random.Random(SEED)
    shipped = load_articles(DEFAULT_ROOT).articles
    words = vocabulary(shipped)
    articles: list[ArticleLike] = [*shipped, *fillers(words, TOTAL_ARTICLES - len(shipped), rng)]
    started = time.perf_counter()
    index = SearchIndex().build(articles)
    build_ms = (time.perf_counter() - started) * 1000
    timings = []
    for query, lang in queries(words, rng):
        started = time.perf_counter()
        index.search(query, lang=lang, limit=3)
        timings.append((time.perf_counter() - started) * 1000)
    for metric, value in (
        ("p50_ms", statistics.median(timings)),
        ("p95_ms", percentile(timings, 0.95)),
        ("build_ms", build_ms),
    ):
        print(json.dumps({"bench": "kb_search", "metric": metric, "value": round(value, 3),
                          "unit": "ms", "articles": len(articles), "queries": len(timings)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
