"""Knowledge-base search quality: recall@1 and recall@3 on questions people ask.

The questions were written before the ranking was tuned, as paraphrases of what
requesters type: Russian, Ukrainian and English, colloquial, with typos and
abbreviations. Each names the article slug it should find (in any language).
Run from the repository root: ``python bench/kb_quality.py``. Prints JSON lines
to stdout and the misses to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from haven.knowledge.content import DEFAULT_ROOT, load_articles  # noqa: E402
from haven.knowledge.search import SearchIndex  # noqa: E402

# (question, interface language or None when unknown, expected slug)
QUESTIONS: list[tuple[str, str | None, str]] = [
    # who may apply for ACS
    ("можно ли на альтернативку если я не верующий?", "ru", "acs-who-may-apply"),
    ("Who is eligible for alternative civilian service in Russia?", "en", "acs-who-may-apply"),
    ("мне 29, ещё могу подать на АГС?", None, "acs-who-may-apply"),
    ("я из коренных малочисленных народов, положена ли мне АГС", "ru", "acs-who-may-apply"),
    # deadlines
    ("до какого числа подавать заявление на АГС чтобы попасть в осенний призыв", "ru",
     "acs-deadlines"),
    ("when is the deadline for an ACS application?", "en", "acs-deadlines"),
    ("круглогодичный призыв с 2026 что со сроками агс", "ru", "acs-deadlines"),
    ("alternativ civilian servise deadline", None, "acs-deadlines"),
    # late filing
    ("не опоздал ли я с заявлением на АГС?", "ru", "acs-late-filing"),
    ("пропустил срок подачи на альтернативку, что делать", "ru", "acs-late-filing"),
    ("I lost my deferment, can I still apply for ACS?", "en", "acs-late-filing"),
    # the application
    ("что писать в заявлении на агс, нужна ли характеристика", "ru", "acs-application"),
    ("what documents do I attach to my ACS application? autobiography?", "en",
     "acs-application"),
    ("образец заявления на альтернативную службу", None, "acs-application"),
    ("заявлене на агс характиристика", "ru", "acs-application"),
    # draft commission
    ("когда комиссия решит по моему заявлению на АГС, надо ли приходить", "ru",
     "acs-draft-commission"),
    ("on what grounds can the draft commission refuse ACS?", "en", "acs-draft-commission"),
    # appeal
    ("мне отказали в АГС, как обжаловать", "ru", "acs-appeal"),
    ("how do I appeal a refusal of alternative service in court", "en", "acs-appeal"),
    # length
    ("сколько месяцев длится альтернативка", "ru", "acs-length"),
    ("how long is ACS compared to normal service", None, "acs-length"),
    # risks
    ("могут ли посадить за заявление на АГС", "ru", "acs-risks"),
    ("is it dangerous to apply for alternative civilian service?", "en", "acs-risks"),
    # the mobilized
    ("мобик может подать на агс?", "ru", "acs-mobilized"),
    ("I was mobilized, can I still ask for alternative service as a conscientious objector?",
     "en", "acs-mobilized"),
    # electronic summons
    ("пришла электронная повестка на госуслуги, что будет через 20 дней", "ru",
     "electronic-summons"),
    ("what restrictions after an electronic summons? can they take my driving licence", "en",
     "electronic-summons"),
    ("повестка считается врученной через сколько дней", None, "electronic-summons"),
    # leaving with a summons
    ("можно ли уехать за границу если пришла повестка", "ru", "summons-leaving-russia"),
    ("can I leave Russia after getting a summons?", "en", "summons-leaving-russia"),
    # mobilization and discharge
    ("как уволиться мобилизованному, указ 647", "ru", "mobilization-discharge"),
    ("my husband was mobilised, his contract expired, why won't they discharge him", "en",
     "mobilization-discharge"),
    ("до какого возраста держат мобилизованных", "ru", "mobilization-discharge"),
    # contracts
    ("контракт закончился, а не увольняют", "ru", "contract-discharge"),
    ("early discharge because the army broke the contract terms", "en", "contract-discharge"),
    ("сына срочника заставили подписать контракт", "ru", "coerced-contract"),
    ("I was pressured into signing a contract as a conscript, is it valid?", "en",
     "coerced-contract"),
    # criminal code
    ("что грозит за уклонение от призыва", "ru", "article-328-evasion"),
    ("статья 332 отказ воевать сколько дают", "ru", "article-332-refusing-orders"),
    ("what is the penalty for refusing to fight", "en", "article-332-refusing-orders"),
    ("что будет за СОЧ при мобилизации", "ru", "article-337-awol"),
    ("самоволка 2 недели срок", None, "article-337-awol"),
    ("AWOL for more than a month, how many years?", "en", "article-337-awol"),
    ("дизертирство наказание", "ru", "article-338-desertion"),
    ("desertoin penalty under mobilization", None, "article-338-desertion"),
    ("за сдачу в плен что грозит", "ru", "article-352-1-surrender"),
    ("voluntary surender criminal code", "en", "article-352-1-surrender"),
    ("сколько уголовных дел за отказ служить", "ru", "criminal-law-overview"),
    ("how many criminal cases over refusing to serve", "en", "criminal-law-overview"),
    # family
    ("мужа мобилизовали, что может сделать семья", "ru", "soldier-family"),
    ("my son is a soldier, how can the family help get him home", "en", "soldier-family"),
    # money
    ("задонатил украинскому фонду, могут ли обвинить в госизмене", "ru", "donations-treason"),
    ("is it treason to send money to Ukraine", "en", "donations-treason"),
    ("как понять что сбор не мошенники", "ru", "check-fundraiser"),
    ("how to check a fundraiser is real", "en", "check-fundraiser"),
    ("як перевірити збір чи це не шахраї", "uk", "check-fundraiser"),
    # displaced Ukrainians
    ("can I cross into the EU with only a birth certificate?", "en", "ukrainian-documents"),
    ("у меня нет загранпаспорта, только свидетельство о рождении, выпустят в Эстонию?", "ru",
     "ukrainian-documents"),
    ("які документи потрібні щоб виїхати з росії в європу", "uk", "ukrainian-documents"),
    ("нас депортували в росію, як виїхати до ЄС", "uk", "leaving-russia-ukrainians"),
    ("deported Ukrainian, how to get from Russia to Estonia, Narva crossing", "en",
     "leaving-russia-ukrainians"),
    ("как украинцу выехать из рф через нарву", "ru", "leaving-russia-ukrainians"),
    ("temporary protection in the EU for Ukrainians leaving Russia", None,
     "leaving-russia-ukrainians"),
    # asylum
    ("можно ли получить убежище в Германии дезертиру", "ru", "asylum-germany"),
    ("humanitarian visa to Germany for a draft evader", "en", "asylum-germany"),
    ("притулок у Німеччині для дезертира", "uk", "asylum-germany"),
    # digital safety
    ("читает ли кто-то мои сообщения боту в телеге", "ru", "telegram-bots-not-encrypted"),
    ("is Telegram end-to-end encrypted for bots?", "en", "telegram-bots-not-encrypted"),
    ("чи шифрується листування з ботом у телеграмі", "uk", "telegram-bots-not-encrypted"),
    ("как скрыть номер в телеграме", "ru", "telegram-hide-number"),
    ("hide my phone number and photo in telegram", "en", "telegram-hide-number"),
    ("як приховати номер у телеграмі", "uk", "telegram-hide-number"),
    ("будут ли смотреть телефон на границе, стирать ли переписку", "ru", "border-phone-checks"),
    ("should I factory reset my phone before the border crossing?", "en",
     "border-phone-checks"),
    ("чи перевіряють телефон на кордоні", "uk", "border-phone-checks"),
    ("телеграм заблокируют, какой впн и запасной мессенджер", "ru", "blocking-vpn-backup"),
    ("what if telegram gets blocked, backup messenger", "en", "blocking-vpn-backup"),
    ("що робити якщо заблокують телеграм", "uk", "blocking-vpn-backup"),
    ("нужно ли хранить переписку с юристом в телефоне", "ru", "data-off-your-phone"),
    ("should I delete the bot chat from my phone after reading", "en", "data-off-your-phone"),
    ("чи треба зберігати дані справи в телефоні", "uk", "data-off-your-phone"),
    # kb-acs: Ukrainian twins of the ACS, 328 and donation articles; appeal suspension
    ("хто може піти на альтернативну службу в росії", "uk", "acs-who-may-apply"),
    ("до якого числа подавати заяву на АГС", "uk", "acs-deadlines"),
    ("що писати в заяві на альтернативну службу, чи потрібна характеристика", "uk",
     "acs-application"),
    ("коли призовна комісія вирішить щодо моєї заяви на АГС", "uk", "acs-draft-commission"),
    ("мені відмовили в АГС, як оскаржити в суді", "uk", "acs-appeal"),
    ("запізнився з заявою на альтернативну службу, що робити", "uk", "acs-late-filing"),
    ("скільки місяців триває альтернативна служба", "uk", "acs-length"),
    ("мене мобілізували, чи можу я попросити АГС", "uk", "acs-mobilized"),
    ("чи можуть посадити за заяву на АГС", "uk", "acs-risks"),
    ("що загрожує за ухилення від призову в росії", "uk", "article-328-evasion"),
    ("чи можна переказати гроші в Україну з росії, це держзрада?", "uk", "donations-treason"),
    ("приостанавливает ли суд призыв, если я обжалую отказ в АГС", "ru", "acs-appeal"),
    ("does appealing the draft commission decision in court stop my call-up", "en",
     "acs-appeal"),
    ("дали 12 лет за донат в 51 доллар, за что", None, "donations-treason"),
    # kb-summons: after a summons, Ukrainians' status, the new uk versions
    ("пришла повестка, что делать, можно ли обжаловать решение призывной комиссии", "ru",
     "after-summons"),
    ("how do I appeal the draft commission's decision, does the appeal suspend conscription",
     "en", "after-summons"),
    ("прийшла повістка з російського військкомату, як оскаржити рішення про призов", "uk",
     "after-summons"),
    ("указ 159 украинцы до 10 сентября, что будет если не легализовался", "ru",
     "ukrainians-in-russia-status"),
    ("Ukrainian in Russia without legal status, how to get back to Ukraine through Belarus",
     "en", "ukrainians-in-russia-status"),
    ("як повернутися в Україну з Росії через Білорусь, Мокрани, білий паспорт", "uk",
     "ukrainians-in-russia-status"),
    ("електронна повістка в росії, з якого дня заборонено виїзд", "uk", "electronic-summons"),
    ("чи можна виїхати з росії якщо прийшла повістка", "uk", "summons-leaving-russia"),
    # kb-soldiers: new articles and the new uk versions of the soldiers' articles
    ("новый закон 2026 дезертирство 20 лет для бывших заключённых", "ru",
     "penalties-2026-contract-soldiers"),
    ("дело приостановили когда подписал контракт, что теперь грозит за самоволку", "ru",
     "penalties-2026-contract-soldiers"),
    ("чоловік пішов на контракт із колонії, що йому загрожує за дезертирство з 2026", "uk",
     "penalties-2026-contract-soldiers"),
    ("ex-prisoner signed a contract, new 2026 penalties for desertion", "en",
     "penalties-2026-contract-soldiers"),
    ("симуляция болезни в армии какая статья", "ru", "article-339-malingering"),
    ("купил справку чтобы не служить, что будет", "ru", "article-339-malingering"),
    ("чи карають за симуляцію хвороби в російській армії", "uk", "article-339-malingering"),
    ("is faking an illness to get out of the Russian army a crime", "en",
     "article-339-malingering"),
    ("стаття 332 відмова воювати скільки дають", "uk", "article-332-refusing-orders"),
    ("чоловік відмовився їхати на фронт, що йому загрожує", "uk",
     "article-332-refusing-orders"),
    ("що буде за СОЧ під час мобілізації", "uk", "article-337-awol"),
    ("самоволка менше двох діб це кримінал?", "uk", "article-337-awol"),
    ("дезертирство з армії покарання", "uk", "article-338-desertion"),
    ("чи звільняють від відповідальності за перше дезертирство", "uk", "article-338-desertion"),
    ("син потрапив у полон, чи буде кримінальна справа", "uk", "article-352-1-surrender"),
    ("is it a crime to be captured if he was wounded", "en", "article-352-1-surrender"),
    ("які статті кк рф загрожують за відмову служити", "uk", "criminal-law-overview"),
    ("скільки кримінальних справ за відмову служити", "uk", "criminal-law-overview"),
    ("сина строковика змусили підписати контракт", "uk", "coerced-contract"),
    ("заставили подписать контракт, куда жаловаться, прокуратура", "ru", "coerced-contract"),
    ("контракт закінчився, а не звільняють", "uk", "contract-discharge"),
    ("дострокове звільнення контрактника за порушення умов контракту", "uk",
     "contract-discharge"),
    ("як звільнитися мобілізованому, указ 647", "uk", "mobilization-discharge"),
    ("до якого віку тримають мобілізованих", "uk", "mobilization-discharge"),
    ("чоловіка мобілізували, що може зробити родина", "uk", "soldier-family"),
    ("сын пропал без вести на фронте, куда обращаться", "ru", "soldier-family"),
    ("син зник безвісти на війні, куди звертатися", "uk", "soldier-family"),
]


def evaluate(index: SearchIndex) -> tuple[float, float, list[str]]:
    """Return recall@1, recall@3 and a description of every miss at 3."""
    at1 = at3 = 0
    misses: list[str] = []
    for question, lang, expected in QUESTIONS:
        hits = index.search(question, lang=lang, limit=3)
        slugs = [hit.slug for hit in hits]
        at1 += bool(slugs) and slugs[0] == expected
        at3 += expected in slugs
        if slugs[:1] != [expected]:
            rank = "miss" if expected not in slugs else f"rank {slugs.index(expected) + 1}"
            misses.append(f"{rank}: {question!r} -> expected {expected}, got {slugs}")
    total = len(QUESTIONS)
    return at1 / total, at3 / total, misses


def main() -> int:
    loaded = load_articles(DEFAULT_ROOT)
    for error in loaded.errors:
        print(f"content error: {error}", file=sys.stderr)
    index = SearchIndex().build(loaded.articles)
    recall1, recall3, misses = evaluate(index)
    for metric, value in (("recall_at_1", recall1), ("recall_at_3", recall3)):
        line = {"bench": "kb_quality", "metric": metric, "value": round(value, 3),
                "unit": "ratio"}
        print(json.dumps(line))
    for miss in misses:
        print(miss, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
