from __future__ import annotations

import json
from datetime import date, timedelta

from haven.cases import actions
from haven.cases.models import Case, Channel, RecordKind
from haven.intake.models import Requester
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, CaseChat, Chat, Update, UpdateState
from tests.conftest import Persona

from .conftest import TOKEN, Phone, pump


def _start_in_russian(phone: Phone) -> None:
    phone.send("/start")
    phone.press("l:ru")


def test_it_takes_a_whole_intake_in_russian_to_a_case_on_the_desk(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7001)
    _start_in_russian(phone)
    assert "сквозным шифрованием" in "\n".join(phone.bot_texts())  # the safety notice comes first
    phone.press("m:req")
    phone.press(label="Повестки")
    phone.press("y:")  # who reads the answers: agreed
    assert "Какую повестку вы получили?" in phone.last()
    phone.press(label="Электронную")
    phone.send((date.today() - timedelta(days=10)).strftime("%d.%m.%Y"))
    phone.press("k:")  # the report date is optional
    phone.press("a:")  # the first purpose listed
    phone.press(label="Нет")  # abroad?
    phone.send("Пришла электронная повестка, что делать?")
    assert "Пришла электронная повестка" in phone.last()  # the review
    phone.press("y:")

    case = Case.objects.get(organization=alice.org)
    assert case.channel == Channel.TELEGRAM and case.category == "summons"
    answers = actions.read_case(alice.member, alice.vault(), case)[0]["body"]
    assert answers["lang"] == "ru"
    assert "Пришла электронная повестка, что делать?" in json.dumps(answers, ensure_ascii=False)
    codename = next(t for t in phone.bot_texts() if "<code>" in t)
    assert Requester.objects.filter(case=case).exists() and len(codename) > 20
    assert CaseChat.objects.filter(case=case, blocked_at__isnull=True).exists()


def test_the_same_update_delivered_twice_creates_one_case(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7002)
    _start_in_russian(phone)
    phone.press("m:req")
    phone.press(label="Другое")
    phone.press("y:")
    while not any(d.startswith("y:") for _, d in fake.buttons(TOKEN, 7002)):
        buttons = [d for _, d in fake.buttons(TOKEN, 7002)]
        if any(d.startswith("a:") for d in buttons):
            phone.press("a:")
        elif any(d.startswith("k:") for d in buttons):
            phone.press("k:")
        else:
            phone.send("Нужна помощь с документами")
    send = fake.user_press(TOKEN, 7002, next(d for _, d in fake.buttons(TOKEN, 7002) if d.startswith("y:")))
    fake.push(TOKEN, {k: v for k, v in send.items() if k != "update_id"})  # a new id: not a repeat
    fake.bots[TOKEN].queue.append(dict(send))  # Telegram delivers the same update again
    pump()
    assert Case.objects.filter(organization=alice.org).count() == 1
    assert Update.objects.filter(update_id=send["update_id"]).count() == 1


def test_a_button_from_an_earlier_question_changes_nothing(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7003)
    _start_in_russian(phone)
    phone.press("m:req")
    old = next(d for _, d in fake.buttons(TOKEN, 7003) if d.startswith("c:"))
    phone.press(label="Повестки")
    phone.press("y:")
    before = len(phone.bot_texts())
    fake.user_press(TOKEN, 7003, old, message_id=1)
    pump()
    assert len(phone.bot_texts()) == before  # only the button's spinner was answered
    assert not Case.objects.exists()


def test_unknown_commands_and_free_text_get_a_short_helpful_answer(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7004, lang="en")
    phone.send("/start")
    phone.press("l:en")
    phone.send("/frobnicate")
    assert "/help" in "\n".join(phone.bot_texts()[-2:])
    phone.send("hello?")
    assert "Choose what you want to do" in "\n".join(phone.bot_texts()[-1:])
    assert Update.objects.filter(state=UpdateState.DONE).count() == 4


def test_it_finds_answers_in_the_knowledge_base(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7005)
    _start_in_russian(phone)
    phone.press("m:ask")
    phone.send("альтернативная гражданская служба")
    texts = phone.bot_texts()
    assert any(t.startswith("<b>") for t in texts[-4:])
    assert "Это помогло?" in texts[-1]


def test_a_requester_reconnects_with_the_codename_after_the_chat_expired(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7006)
    _start_in_russian(phone)
    case = actions.create_case(alice.org, category="other", channel=Channel.TELEGRAM, summary="x")
    from haven.intake.submit import _give_codename

    codename = _give_codename(case, "ru")
    Chat.objects.all().delete()  # a long silence: the chat's mapping expired
    phone.send("/status")
    assert "кодовое имя" in phone.last()
    phone.send("неверные слова")
    assert "обращение не найдено" in phone.last()
    phone.send(codename)
    assert str(case.number) in "\n".join(phone.bot_texts()[-3:])
    assert codename not in phone.screen()  # the bot deleted the codename message
    assert CaseChat.objects.filter(case=case).exists()
    phone.send("Есть новости?")
    assert case.records.filter(kind=RecordKind.INBOUND).count() == 1


def test_the_bot_leaves_a_group_it_is_added_to_and_says_nothing_there(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.user_adds_bot(TOKEN, -4001)
    pump()
    assert fake.bots[TOKEN].chats[-4001].left
    # A group the bot was in before Haven ran it: the first message there makes it leave.
    fake.user_message(TOKEN, -4002, "/start", chat_type="supergroup")
    pump()
    assert fake.bots[TOKEN].chats[-4002].left
    assert fake.sent_to(TOKEN, -4001) == [] and fake.sent_to(TOKEN, -4002) == []
    assert not Chat.objects.exists() and not Case.objects.exists()
    assert set(Update.objects.values_list("state", flat=True)) == {UpdateState.DONE}


def test_the_bot_stays_in_a_channel_it_is_made_administrator_of(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.user_adds_bot(TOKEN, -1009001, "channel")
    pump()
    assert not fake.bots[TOKEN].chats[-1009001].left
    assert fake.calls["leaveChat"] == 0


def test_the_bot_answer_says_who_reviewed_the_article(alice: Persona, bot: Bot,
                                                      fake: FakeTelegram) -> None:
    from django.utils import timezone

    from haven.accounts import services
    from haven.knowledge import actions as kb_actions
    from haven.knowledge.loader import ensure_shipped
    from haven.knowledge.models import Article

    ensure_shipped()
    services.set_knowledge_reviewer(alice.member, alice.member, True)
    alice.member.refresh_from_db()
    for article in Article.objects.filter(organization__isnull=True, lang="ru", topic="acs"):
        kb_actions.record_review(alice.member, article, "law_changed", "Новый закон")
    phone = Phone(fake, 7015)
    _start_in_russian(phone)
    phone.press("m:ask")
    phone.send("альтернативная гражданская служба")
    answers = [t for t in phone.bot_texts() if t.startswith("<b>")]
    today = timezone.localdate().isoformat()
    assert any(f"⚠ Закон изменился — статья на проверке в «First» с {today}. Новый закон" in t
               for t in answers)


def test_the_bot_says_how_far_the_requester_is_and_what_each_field_takes(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7010)
    _start_in_russian(phone)
    phone.press("m:req")
    phone.press(label="Повестки")
    consent = phone.last()
    assert "через 180 дней после закрытия" in consent and "дн." not in consent
    phone.press("y:")
    assert "Вопрос 1 из " in phone.last() and "Какую повестку вы получили?" in phone.last()
    phone.press(label="Электронную")
    assert "Вопрос 2 из " in phone.last()
    assert f"например {date.today():%d.%m.%Y}." in phone.last() and "2024" not in phone.last()


def test_a_number_question_in_the_bot_gives_its_range(alice: Persona) -> None:
    from django.utils import translation

    from haven.intake import registry
    from haven.telegram.intake_flow import _question_text

    engine = registry.engine("acs")
    state = engine.goto(engine.answer(engine.start("ru", consent=False), "1").state, "birth_year")
    with translation.override("ru"):  # the bot speaks the requester's language
        text = _question_text(engine.prompt(state))
    assert "Вопрос 2 из " in text and "Напишите число. Число от 1960 до 2012." in text
