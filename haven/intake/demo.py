"""Sample intake cases for the demo, made through the engine as a requester would.

Dates are relative to today so the proposed deadlines lie ahead; two money
requests share a phone number so the desk shows a possible duplicate.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from haven.accounts.models import Organization
from haven.cases.models import Case

from . import registry, submit
from .engine import CONFIRM, STEPS, Engine


def _days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def _samples() -> list[tuple[str, str, dict[str, Any]]]:
    year = date.today().year
    return [
        ("summons", "ru", {"kind": "electronic", "posted_on": _days(-2), "report_date": _days(10),
                           "purpose": "medical", "abroad": "no",
                           "situation": "Вчера на Госуслугах появилась повестка на медкомиссию. "
                                        "Я учусь на четвёртом курсе, отсрочка до лета. Что делать?"}),
        ("acs", "ru", {"stage": "planning", "birth_year": str(year - 19), "callup_season": "autumn",
                       "callup_year": str(year + 1), "deferment": "no", "reasons_written": "no",
                       "situation": "Я пацифист по убеждениям и хочу подать на АГС. Не знаю, "
                                    "как написать автобиографию и кого просить о характеристике."}),
        ("leaving-service", "ru", {"writer": "relative", "service_type": "mobilized",
                                   "where_now": "war_zone", "health": "yes",
                                   "goal": ["discharge", "criminal_risk"],
                                   "situation": "Муж мобилизован в 2022 году, у него тяжёлая травма "
                                                "колена, но на комиссию не отправляют."}),
        ("family", "uk", {"relation": "parent", "status": "missing", "last_contact": _days(-40),
                          "needs": ["find", "legal"],
                          "situation": "Син не виходить на зв'язок понад місяць. Куди звертатися?"}),
        ("evacuation", "uk", {"who": "occupied", "people": "3", "children": "yes",
                              "documents": ["internal", "birth_certificate"], "urgency": "weeks",
                              "medical": "no", "contact_telegram": "",
                              "situation": "Мама з двома онуками хоче виїхати до родичів у Європі."}),
        ("money", "en", {"purpose": ["tickets"], "currency": "eur", "amount": "180", "known": "no",
                         "phone": "", "situation": "I need a bus ticket from Narva to Tallinn for me "
                                                   "and my daughter."}),
        ("other", "en", {"topic": "safety", "situation": "How can I safely clear my chats before "
                                                         "I cross the border?"}),
        ("summons", "en", {"kind": "paper_hand", "received_on": _days(-5), "report_date": _days(3),
                           "purpose": "dispatch", "abroad": "no",
                           "situation": "A paper summons was handed to me at work."}),
        ("acs", "uk", {"stage": "refused", "birth_year": str(year - 22), "decision_date": _days(-20),
                       "situation": "Комісія відмовила, бо нібито я пропустив строк."}),
        ("money", "ru", {"purpose": ["documents", "housing"], "currency": "rub", "amount": "45000",
                         "known": "no", "phone": "+7 900 555-12-34",
                         "situation": "Нужно оплатить загранпаспорт и первый месяц жилья."}),
        ("money", "ru", {"purpose": ["documents"], "currency": "rub", "amount": "30000",
                         "known": "yes", "phone": "8 (900) 555 12 34",
                         "situation": "Повторно прошу помочь с оплатой паспорта."}),
        ("family", "ru", {"relation": "partner", "status": "wounded", "needs": ["payments", "support"],
                          "situation": "Муж в госпитале после ранения, выплаты не пришли."}),
    ]


def _finish(engine: Engine, lang: str, answers: dict[str, Any]) -> Any:
    state = engine.start(lang, consent=False)
    while state.phase == STEPS:
        result = engine.answer(state, answers.get(str(state.current), ""))
        if result.error:
            raise ValueError(f"{engine.q.id}.{state.current}: {result.error}")
        state = result.state
    assert state.phase == CONFIRM  # noqa: S101 - the loop above only ends there
    return engine.answer(state, "yes").finished


def seed_cases(org: Organization, count: int = 12) -> list[Case]:
    """Create ``count`` sample web-intake cases for ``org``; returns them in order."""
    samples = _samples()
    cases = []
    for index in range(count):
        category, lang, answers = samples[index % len(samples)]
        finished = _finish(registry.engine(category), lang, answers)
        cases.append(submit.submit(org, finished).case)
    return cases
