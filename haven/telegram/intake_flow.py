"""The questionnaire in the chat, driven by the intake engine (no second implementation).

The engine decides what comes next and checks every answer; this module only
shows its prompts as messages with inline buttons and turns button presses and
typed text into the engine's input. The questionnaire's state is the engine's
own (kept encrypted by :mod:`haven.intake.conversations` under the chat's
handle); finishing goes through :func:`haven.intake.submit.submit`, the same
path as the web, which creates the case and the codename.
"""

from __future__ import annotations

from haven.cases import categories
from haven.cases.models import Channel
from haven.intake import conversations, fields, orgpage, registry, submit
from haven.intake.engine import CONFIRM, CONSENT, Engine, Prompt, Result, State, StateError
from haven.intake.i18n import gettext_noop, translate
from haven.intake.models import IntakeConversation

from . import chats, links, render, texts
from .buttons import Button, encode, index
from .turn import Turn

TYPED = ("short_text", "long_text", "date", "number")


def offer_categories(turn: Turn) -> None:
    live = _load(turn)
    if live is not None:
        engine, row, state = live
        turn.chat.state.mode = chats.INTAKE
        show(turn, row, state, engine)
        return
    offered = orgpage.enabled(turn.bot.organization)
    if not offered:
        turn.menu(texts.no_categories())
        return
    nonce = turn.nonce()
    rows = [[(categories.get(q.category).names.get(turn.lang) or q.category,
              encode(Button.CATEGORY, nonce, q.category))] for q in offered]
    rows.append([(texts.cancel(), encode(Button.CANCEL))])
    turn.say(render.esc(texts.choose_category()), render.keyboard(rows))


def start(turn: Turn, category: str) -> None:
    if category not in {q.category for q in orgpage.enabled(turn.bot.organization)}:
        offer_categories(turn)
        return
    engine = registry.engine(category)
    state = engine.start(turn.lang)
    row = conversations.create(turn.bot.organization, turn.chat.intake_handle, state, Channel.TELEGRAM)
    turn.chat.state.mode = chats.INTAKE
    turn.chat.state.picks = []
    show(turn, row, state, engine)


def show(turn: Turn, row: IntakeConversation, state: State, engine: Engine, error: str = "") -> None:
    prompt = engine.prompt(state)
    nonce = turn.nonce()
    head = f"⚠️ {render.esc(error)}\n\n" if error else ""
    if prompt.kind == CONSENT:
        turn.say(head + _consent_text(turn, engine), render.keyboard(
            [[(texts.agree(), encode(Button.AGREE, nonce))], [(texts.cancel(), encode(Button.CANCEL))]]))
    elif prompt.kind == CONFIRM:
        items = "\n\n".join(f"{render.bold(i.question)}\n{render.esc(i.answer)}" for i in prompt.review)
        turn.say(f"{head}{render.bold(texts.review_title())}\n\n{items}", render.keyboard(
            [[(texts.send_request(), encode(Button.AGREE, nonce))],
             [(texts.back(), encode(Button.BACK, nonce)), (texts.cancel(), encode(Button.CANCEL))]]))
    else:
        turn.say(head + _question_text(prompt), render.keyboard(_question_rows(turn, prompt, nonce)))


def _consent_text(turn: Turn, engine: Engine) -> str:
    org = turn.bot.organization
    settings_row = orgpage.settings_for(org)
    points = texts.consent_points(org.name, orgpage.retention_days(org),
                                  orgpage.words(settings_row, "retention", turn.lang))
    intro = engine.q.intro.get(turn.lang, "")
    return f"{render.esc(intro)}\n\n{render.bullets(points)}"


def _question_text(prompt: Prompt) -> str:
    progress = translate(prompt.lang, gettext_noop("Question %(n)s of %(total)s")) % {
        "n": prompt.position, "total": prompt.total}
    text = f"{render.italic(progress)}\n{render.bold(prompt.text)}"
    if prompt.help:
        text += f"\n{render.italic(prompt.help)}"
    if prompt.field == "multi_choice":
        text += f"\n\n{render.esc(texts.multi_hint())}"
    elif prompt.field in TYPED:
        text += f"\n\n{render.esc(texts.write_answer(prompt.field))}"
        if prompt.field == "number" and prompt.step is not None:
            text += f" {render.esc(fields.number_range(prompt.step, prompt.lang))}"
    return text


def _question_rows(turn: Turn, prompt: Prompt, nonce: int) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    if prompt.field == "multi_choice":
        picks = set(turn.chat.state.picks)
        rows += [[(("✅ " if cid in picks else "") + label, encode(Button.TOGGLE, nonce, i))]
                 for i, (cid, label) in enumerate(prompt.choices)]
        rows.append([(texts.done(), encode(Button.DONE, nonce))])
    elif prompt.choices:
        rows += [[(label, encode(Button.ANSWER, nonce, i))] for i, (_cid, label) in enumerate(prompt.choices)]
    nav = [(texts.back(), encode(Button.BACK, nonce))]
    if prompt.optional:
        nav.append((texts.skip(), encode(Button.SKIP, nonce)))
    nav.append((texts.cancel(), encode(Button.CANCEL)))
    rows.append(nav)
    return rows


def on_text(turn: Turn, text: str) -> None:
    live = _load(turn)
    if live is None:
        turn.menu(texts.free_text())
        return
    engine, row, state = live
    _proceed(turn, row, engine, state, engine.answer(state, text))


def on_button(turn: Turn, kind: Button, arg: str) -> None:
    live = _load(turn)
    if live is None:
        turn.menu()
        return
    engine, row, state = live
    prompt = engine.prompt(state)
    if kind == Button.BACK:
        state = engine.back(state)
        turn.chat.state.picks = []
        conversations.save(row, state)
        show(turn, row, state, engine)
    elif kind == Button.TOGGLE:
        _toggle(turn, prompt, arg)
        if turn.pressed:
            rows = _question_rows(turn, prompt, turn.chat.state.nonce)
            turn.out.unbutton(turn.pressed, render.keyboard(rows))
    else:
        raw = _raw_of(turn, prompt, kind, arg)
        _proceed(turn, row, engine, state, engine.answer(state, raw))


def _raw_of(turn: Turn, prompt: Prompt, kind: Button, arg: str) -> object:
    if kind == Button.AGREE:
        return "yes"
    if kind == Button.DONE:
        return list(turn.chat.state.picks)
    chosen = index(arg)
    if kind == Button.ANSWER and chosen is not None and chosen < len(prompt.choices):
        return prompt.choices[chosen][0]
    return ""  # Button.SKIP: skip an optional question


def _toggle(turn: Turn, prompt: Prompt, arg: str) -> None:
    chosen = index(arg)
    if chosen is None or chosen >= len(prompt.choices):
        return
    cid = prompt.choices[chosen][0]
    picks = turn.chat.state.picks
    turn.chat.state.picks = [p for p in picks if p != cid] if cid in picks else [*picks, cid]


def cancel(turn: Turn) -> None:
    conversations.discard(turn.chat.intake_handle)
    turn.chat.state.picks = []
    turn.menu(texts.cancelled())


def _proceed(turn: Turn, row: IntakeConversation, engine: Engine, state: State, result: Result) -> None:
    if result.finished is not None:
        _submit(turn, row, engine, result)
        return
    if result.error:
        show(turn, row, state, engine, result.error)
        return
    turn.chat.state.picks = []
    if not conversations.save(row, result.state):
        live = _load(turn)  # changed meanwhile: show what is current
        if live is not None:
            show(turn, live[1], live[2], live[0])
        return
    show(turn, row, result.state, engine)


def _submit(turn: Turn, row: IntakeConversation, engine: Engine, result: Result) -> None:
    assert result.finished is not None  # noqa: S101 - narrowed for the type checker
    try:
        done = submit.submit(turn.bot.organization, result.finished, channel=Channel.TELEGRAM,
                             conversation=row)
    except submit.AlreadySubmitted:
        turn.menu(texts.already_sent())
        return
    links.bind(done.case, turn.bot, turn.chat.chat_id, turn.lang)
    turn.chat.state.case = done.case.pk
    turn.chat.state.mode = chats.MENU
    turn.say(render.esc(texts.submitted(turn.org_name, done.case.number)))
    turn.say(f"{render.esc(texts.codename_intro())}\n{render.code(done.codename)}\n\n"
             f"{render.esc(texts.codename_advice())}")
    attachments = engine.q.attachments
    if attachments is not None:
        turn.say(render.esc(texts.attachments_invite() + "\n" + attachments.text.get(turn.lang, "")))


def set_lang(turn: Turn) -> None:
    live = _load(turn)
    if live is not None:
        engine, row, state = live
        conversations.save(row, engine.set_lang(state, turn.lang))


def _load(turn: Turn) -> tuple[Engine, IntakeConversation, State] | None:
    try:
        row, state = conversations.load(turn.chat.intake_handle, turn.bot.organization)
        engine = registry.engine(_category_of(state.questionnaire))
        return engine, row, engine.resume(state)
    except (conversations.ConversationGone, StateError, KeyError):
        return None


def _category_of(questionnaire_id: str) -> str:
    for category, questionnaire in registry.by_category().items():
        if questionnaire.id == questionnaire_id:
            return category
    raise KeyError(questionnaire_id)
