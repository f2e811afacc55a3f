"""The blind index against a disk-only attacker (review H-2, ../shared/reviews/poc/blind_poc.py).

The attacker holds the database (SearchToken rows, Case.category), the public
questionnaires and Haven's public stemmer, but not the organization key.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Iterable

from haven.cases import actions, search
from haven.cases.models import Case, SearchToken
from haven.core.text import terms
from haven.intake import registry
from haven.intake import submit as submit_mod
from haven.intake.engine import CONFIRM, Finished
from haven.intake.questionnaire import Questionnaire
from tests.conftest import Persona, make_case

CASES = 120
FILLER = "мне нужна помощь ситуация сложная командир угрожает жена боится денег билет врач".split()


def _public_stems(q: Questionnaire, langs: tuple[str, ...] = ("ru",)) -> collections.Counter[str]:
    """How often each stem occurs in the questionnaire's public texts (questions, labels)."""
    texts = []
    for step in q.steps:
        texts += [step.text[lang] for lang in langs]
        texts += [c.labels[lang] for c in step.choices for lang in langs]
    return collections.Counter(st for text in texts for st in set(terms(text)))


def _answer(rng: random.Random, prompt: object) -> object:
    field, step = prompt.field, prompt.step  # type: ignore[attr-defined]
    if field in ("choice", "yes_no"):
        return rng.choice(prompt.choices)[0]  # type: ignore[attr-defined]
    if field == "multi_choice":
        return rng.sample([c[0] for c in prompt.choices], rng.randint(1, 2))  # type: ignore[attr-defined]
    if field == "date":
        return f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    if field == "number":
        return str(rng.randint(step.min_value or 1, step.max_value or 99))
    return " ".join(rng.sample(FILLER, 5)) if not step.optional or rng.random() < .5 else ""


def _intake(rng: random.Random) -> tuple[Finished, str]:
    """One finished leaving-service questionnaire with random answers, and its ``where_now``."""
    eng = registry.engine("leaving-service")
    state, where = eng.start("ru", consent=False), ""
    while state.phase != CONFIRM:
        prompt = eng.prompt(state)
        raw = _answer(rng, prompt)
        where = str(raw) if prompt.step.id == "where_now" else where  # type: ignore[union-attr]
        result = eng.answer(state, raw)  # type: ignore[arg-type]
        assert result.error is None, (prompt.step.id, raw, result.error)  # type: ignore[union-attr]
        state = result.state
    finished = eng.answer(state, "yes").finished
    assert finished is not None
    return finished, where


def _seized_token_sets(org_id: int, cases: list[Case]) -> list[set[int]]:
    """What the attacker reads: each case's set of tokens, from the database alone."""
    rows: dict[int, set[int]] = collections.defaultdict(set)
    for case_id, token in SearchToken.objects.filter(organization_id=org_id).values_list(
            "case_id", "token"):
        rows[case_id].add(token)
    return [rows[c.pk] for c in cases]


def _exact_covers(pools: dict[str, list[frozenset[int]]], n: int) -> list[dict[str, frozenset[int]]]:
    opts, found = list(pools), []

    def walk(i: int, used: frozenset[int], chosen: dict[str, frozenset[int]]) -> None:
        if len(found) > 50:
            return
        if i == len(opts):
            if len(used) == n:
                found.append(dict(chosen))
            return
        for group in pools[opts[i]]:
            if used.isdisjoint(group):
                walk(i + 1, used | group, {**chosen, opts[i]: group})
    walk(0, frozenset(), {})
    return found


def _attack(token_sets: list[set[int]], q: Questionnaire) -> list[dict[str, frozenset[int]]]:
    """The PoC's attack: token groups sharing one case set, sized like each option's
    distinctive label stems, that partition the cases: one group per ``where_now`` option."""
    incidence: dict[int, set[int]] = collections.defaultdict(set)
    for i, toks in enumerate(token_sets):
        for t in toks:
            incidence[t].add(i)
    groups: dict[frozenset[int], int] = collections.Counter(frozenset(s) for s in incidence.values())
    count = _public_stems(q)
    step = q.step("where_now")
    distinct = {c.id: [st for st in set(terms(c.labels["ru"])) if count[st] == 1] for c in step.choices}
    pools = {o: [g for g, size in groups.items() if size == len(st) and 0 < len(g) < len(token_sets)]
             for o, st in distinct.items() if st}
    return _exact_covers(pools, len(token_sets))


def _best_recovery(solutions: Iterable[dict[str, frozenset[int]]], truth: list[str]) -> int:
    return max((sum(1 for o, g in sol.items() for i in g if truth[i] == o) for sol in solutions),
               default=0)


def _intake_cases(alice: Persona, n: int) -> tuple[list[Case], list[str]]:
    rng, cases, truth = random.Random(7), [], []
    for _ in range(n):
        finished, where = _intake(rng)
        cases.append(actions.create_case(
            alice.org, category="leaving-service", channel="web", answers=finished.record(),
            summary=submit_mod.summary_line(finished), lang="ru",
            first_message=" ".join(rng.sample(FILLER, 4))))
        truth.append(where)
    return cases, truth


def test_the_seized_index_no_longer_gives_sensitive_answers_away(alice: Persona) -> None:
    cases, truth = _intake_cases(alice, CASES)
    vault = alice.vault()
    assert search.index_pending(vault, alice.org.pk) == CASES
    q = registry.get("leaving-service")
    assert q is not None
    solutions = _attack(_seized_token_sets(alice.org.pk, cases), q)
    # The old index gave 'where_now' away for every case; now no better than a guess.
    assert _best_recovery(solutions, truth) < CASES // 2
    # Stronger: no stored token is the keyed hash of any public text of any questionnaire.
    stored = set(SearchToken.objects.filter(organization_id=alice.org.pk).values_list("token", flat=True))
    public = {search.token(vault, st) for qn in registry.ordered()
              for st in [*_public_stems(qn, ("ru", "uk", "en")), *terms(" ".join(
                  [qn.id, *(s.id.replace("_", " ") for s in qn.steps)]))]}
    filler = {search.token(vault, st) for st in terms(" ".join(FILLER))}
    assert stored & public <= filler  # only words a requester typed in a message
    assert not stored & {search.token(vault, st) for st in terms("Уже покинул часть")} - filler


def test_answers_and_intake_summaries_are_not_searchable_but_messages_and_notes_are(
        alice: Persona) -> None:
    answers = {"questionnaire": "summons", "lang": "ru", "items": [
        {"key": "unit", "question": "Ваша часть?", "answer": "Кантемировка", "sensitive": True}]}
    case = make_case(alice, "Бирюлёво", answers=answers, first_message="Звонил из Подольска")
    actions.add_note(alice.member, alice.vault(), case, "Перезвонить в Мытищи")
    desk = make_case(alice, "Записано на приёме в Химках", channel="desk", first_message="",
                     answers=None)
    vault = alice.vault()
    for word in ("Кантемировка", "Бирюлёво", "часть"):
        assert list(search.search(vault, alice.org.pk, word)) == [], word
    assert list(search.search(vault, alice.org.pk, "Подольск")) == [case]
    assert list(search.search(vault, alice.org.pk, "Мытищах")) == [case]
    assert list(search.search(vault, alice.org.pk, "Химки")) == [desk]


def test_each_case_holds_a_padded_number_of_tokens(alice: Persona) -> None:
    short = make_case(alice, "x", first_message="самолёт вокзал")
    long = make_case(alice, "x", first_message=" ".join(f"слово{i}" for i in range(40)))
    empty = make_case(alice, "x", first_message="", answers=None)
    vault = alice.vault()
    search.index_pending(vault, alice.org.pk)
    counts = {c: SearchToken.objects.filter(case=c).count() for c in (short, long, empty)}
    assert counts == {short: 32, long: 64, empty: 32}
    actions.add_note(alice.member, vault, short, "важная заметка")
    assert SearchToken.objects.filter(case=short).count() == 32 * 2
    assert list(search.search(vault, alice.org.pk, "заметку")) == [short]
    # The padding is random: two cases with the same words share only those words' tokens.
    twin = make_case(alice, "x", first_message="самолёт вокзал")
    search.index_pending(vault, alice.org.pk)
    shared = set(SearchToken.objects.filter(case=short).values_list("token", flat=True)) & set(
        SearchToken.objects.filter(case=twin).values_list("token", flat=True))
    assert shared == search.query_tokens(vault, "самолёт вокзал")



def test_a_held_case_is_found_only_after_its_release(alice: Persona) -> None:
    """A flood's cases wait unindexed (search needs no filter for them) and are
    indexed at the first search after a coordinator releases them."""
    vault = alice.vault()
    held = make_case(alice, "x", first_message="Повестку вручили у метро", held=True)
    kept = make_case(alice, "y", first_message="Повестку прислали на Госуслуги")
    assert list(search.search(vault, alice.org.pk, "повестку")) == [kept]
    assert not SearchToken.objects.filter(case=held).exists()
    assert search.pending(alice.org.pk) == 0  # held cases are not "waiting" for the index
    assert actions.release_held(alice.member, [held.number]) == 1
    assert set(search.search(vault, alice.org.pk, "повестку")) == {held, kept}
