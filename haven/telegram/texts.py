"""Everything the bot says, marked for translation (ru, uk, en).

Call these inside ``translation.override(lang)``: the dialog does, with the
requester's language. They return plain text; :mod:`haven.telegram.render`
escapes it for Telegram's HTML mode.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from haven.cases.models import Status

CHOOSE_LANGUAGE = "Выберите язык · Оберіть мову · Choose your language"


def safety_title() -> str:
    return _("Before you write")


def safety_points(org: str, web_url: str) -> list[str]:
    return [
        _("This chat is not end-to-end encrypted: Telegram can read it, and so can anyone who "
          "gets into this phone or this Telegram account."),
        _("Do not write your full name, address, passport or military unit numbers, or phone "
          "numbers here unless a caseworker of %(org)s asks for them.") % {"org": org},
        _("Use /clear to remove from your phone what the bot can remove, and /erase to delete "
          "your request."),
        _("Safer: the web form at %(url)s works in Tor Browser with JavaScript turned off.")
        % {"url": web_url},
    ]


def menu_prompt() -> str:
    return _("What would you like to do?")


def menu_labels() -> dict[str, str]:
    return {
        "ask": _("Find an answer"),
        "help": _("Ask for help"),
        "status": _("My request"),
        "clear": _("Clear this chat"),
        "lang": _("Language"),
        "auto": _("Clear automatically"),
    }


def help_text() -> str:
    return "\n".join([
        _("I can find answers in the knowledge base, or pass your request to people who help."),
        "",
        _("/start: the menu and the safety notice"),
        _("/help: this message"),
        _("/lang: change the language"),
        _("/status: what happens with my request"),
        _("/clear: remove from this chat what the bot can remove"),
        _("/autoclear: let this chat clear itself after a while"),
        _("/erase: delete my request and everything I sent"),
        _("/cancel: stop what you are doing"),
    ])


def unknown_command() -> str:
    return _("I do not know this command. Here is what I can do:")


def free_text() -> str:
    return _("I read messages only inside a question or a request. Choose what you want to "
             "do below, or send /help.")


def ask_question() -> str:
    return _("Write your question in a few words, for example: “how to apply for alternative "
             "service”.")


def no_knowledge_base() -> str:
    return _("The knowledge base is not set up on this server yet. Choose “Ask for help” to "
             "write to the team.")


def nothing_found() -> str:
    return _("I found no article for this. Try other words, or choose “Ask for help”.")


def after_answers() -> str:
    return _("Did this help? You can ask another question, or ask the team for help.")


def choose_category() -> str:
    return _("What is your request about?")


def no_categories() -> str:
    return _("This organization takes no requests through the bot right now. Use the web form.")


def consent_points(org: str, days: int, retention: str) -> list[str]:
    return [
        _("When you send the request, your answers are encrypted so that only the members of "
          "%(org)s who answer requests can read them.") % {"org": org},
        _("Until you send it, your answers wait on the server protected by the server's own "
          "key. A request left unfinished is deleted after a day."),
        retention or ngettext(
            "A request is deleted %(days)d day after it is closed. You can erase it yourself at "
            "any time with /erase.",
            "A request is deleted %(days)d days after it is closed. You can erase it yourself at "
            "any time with /erase.", days) % {"days": days},
        _("Telegram can read this chat. Answer only what is needed."),
    ]


def agree() -> str:
    return _("I understand, start")


def cancel() -> str:
    return _("Cancel")


def back() -> str:
    return _("Back")


def skip() -> str:
    return _("Skip")


def done() -> str:
    return _("Done")


def send_request() -> str:
    return _("Send the request")


def write_answer(field: str) -> str:
    if field == "date":  # the example is today: never a stale year
        return _("Write the date, for example %(example)s.") % {
            "example": timezone.localdate().strftime("%d.%m.%Y")}
    if field == "number":
        return _("Write a number.")
    return _("Write your answer as a message.")


def multi_hint() -> str:
    return _("Choose all that apply, then press “Done”.")


def review_title() -> str:
    return _("Check your answers")


def cancelled() -> str:
    return _("Stopped. Nothing was sent.")


def submitted(org: str, number: int) -> str:
    return _("Your request is with %(org)s (number %(number)d). A caseworker will answer in "
             "this chat.") % {"org": org, "number": number}


def codename_intro() -> str:
    return _("Your codename:")


def codename_advice() -> str:
    return _("It is the only way back to your request if this chat is lost or cleared. Write it "
             "down somewhere safe (not in this chat), then use /clear.")


def attachments_invite() -> str:
    return _("You can now send photos or documents for your request here (up to 20 MB each).")


def already_sent() -> str:
    return _("This request was already sent.")


def stale_button() -> str:
    return _("This button belongs to an earlier message.")


def status_line(status: str, number: int) -> str:
    lines: dict[str, str] = {
        Status.NEW: _("Request %(n)d has arrived and waits for a caseworker."),
        Status.TRIAGE: _("Request %(n)d has arrived and waits for a caseworker."),
        Status.IN_PROGRESS: _("A caseworker is working on request %(n)d."),
        Status.WAITING: _("Request %(n)d waits for your answer: write it here."),
        Status.REFERRED: _("Request %(n)d was passed to a partner organization."),
        Status.CLOSED: _("Request %(n)d is closed."),
    }
    return lines.get(status, lines[Status.NEW]) % {"n": number}


def ask_codename() -> str:
    return _("This chat is not connected to a request. If you sent one, send your codename (the "
             "words you got at the end) to reconnect.")


def codename_wrong() -> str:
    return _("No request opens with this codename. Check the words and try again.")


def codename_blocked() -> str:
    return _("Too many wrong codenames. Wait an hour and try again, or use the web form.")


def reconnected() -> str:
    return _("Connected. Replies to your request will come to this chat.")


def message_added() -> str:
    return _("Sent to your caseworker.")


def case_closed() -> str:
    return _("Your request is closed. To ask again, choose “Ask for help”.")


def reply_header(org: str) -> str:
    return _("Reply from %(org)s") % {"org": org}


def reply_footer() -> str:
    return _("To answer, write here.")


def erase_confirm() -> str:
    return _("This deletes your request and everything you sent for it, for good. The team "
             "will see only that it was erased. Erase it?")


def erase_yes() -> str:
    return _("Erase my request")


def erase_no() -> str:
    return _("Keep it")


def erased() -> str:
    return _("Your request was erased. This chat will now be cleared as far as the bot can.")


def nothing_to_erase() -> str:
    return _("There is no request connected to this chat. To erase one, send your codename "
             "with /status first.")


def cleared(count: int) -> str:
    return _("Removed %(n)d messages.") % {"n": count}


def clear_limits() -> str:
    return _("What the bot could not remove: messages older than 48 hours, and anything sent "
             "before the bot started tracking this chat. To remove everything, delete the chat "
             "in Telegram (“Delete chat”) on every device. Telegram's servers may keep copies.")


def only_text() -> str:
    return _("I can read only text, photos and documents here.")


def no_location() -> str:
    return _("Please do not send your location or contacts here; the team does not need them. "
             "The bot removed the message.")


def files_need_request() -> str:
    return _("To send photos or documents, first send a request (“Ask for help”), or use the "
             "web form.")


def file_too_large(url: str) -> str:
    return _("This file is larger than Telegram lets bots download (20 MB). Send a smaller "
             "photo, or use the web form: %(url)s") % {"url": url}


def file_attached(name: str) -> str:
    return _("Added to your request: %(name)s") % {"name": name}


def file_failed() -> str:
    return _("The file could not be fetched from Telegram. Send it again in a few minutes.")


def caption_kept() -> str:
    return _("The text you sent with it was added to your request.")



def autoclear_explain() -> str:
    return _("The bot can delete this chat's messages, its own and yours, a while after they "
             "were sent, so that someone who checks your phone later finds nothing here. "
             "Telegram lets the bot delete messages only for 48 hours, so the longest choice is 47 "
             "hours. Copies you forwarded or saved elsewhere stay. Delete after:")


def autoclear_after(hours: int) -> str:
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def autoclear_off() -> str:
    return _("Do not delete automatically")


def autoclear_now(hours: int) -> str:
    if not hours:
        return _("Now: this chat does not clear itself.")
    return ngettext("Now: messages are deleted %(n)d hour after they are sent.",
                    "Now: messages are deleted %(n)d hours after they are sent.", hours) % {"n": hours}


def autoclear_chosen(hours: int) -> str:
    if not hours:
        return _("This chat no longer clears itself. /clear still removes what the bot can remove.")
    return ngettext("From now on, each message in this chat is deleted %(n)d hour after it was sent, "
                    "yours and the bot's. Older messages go too, once they are that old.",
                    "From now on, each message in this chat is deleted %(n)d hours after it was sent, "
                    "yours and the bot's. Older messages go too, once they are that old.",
                    hours) % {"n": hours}
