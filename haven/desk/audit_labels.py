"""Audit entries in words: one translatable table of event names and of detail names.

The chain stores short codes (``case.created``) and a dict of details; people
read them here. Every code the code base writes must have a label
(tests/desk/test_audit_words.py finds the codes in the source and checks).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from haven.accounts.models import Invite, Role
from haven.cases import categories, rules
from haven.cases.models import Channel, Priority, Status

EVENTS: dict[str, Promise] = {
    "case.created": _lazy("Case created"),
    "case.read": _lazy("Case opened and read"),
    "case.status": _lazy("Status changed"),
    "case.assigned": _lazy("Assigned"),
    "case.priority": _lazy("Priority changed"),
    "case.category": _lazy("Category changed"),
    "case.tags": _lazy("Tags changed"),
    "case.note": _lazy("Internal note added"),
    "case.reply": _lazy("Reply sent to the requester"),
    "case.inbound": _lazy("Message from the requester"),
    "case.attachment": _lazy("File received from the requester"),
    "case.file_opened": _lazy("File opened"),
    "case.files_archived": _lazy("All files downloaded as one archive"),
    "case.exported": _lazy("Case exported"),
    "case.fraud": _lazy("Marked as possible fraud"),
    "case.burned": _lazy("Case erased"),
    "case.purged": _lazy("Case deleted after the retention period"),
    "case.released": _lazy("Held case released into the queues"),
    "case.discarded": _lazy("Held case discarded as part of a flood"),
    "case.referral_proposed": _lazy("Referral to a partner proposed"),
    "case.referral_withdrawn": _lazy("Referral proposal withdrawn"),
    "case.referral_agreed": _lazy("The requester agreed to the referral"),
    "case.referral_refused": _lazy("The requester refused the referral"),
    "case.referral_delivered": _lazy("Referral delivered to the partner"),
    "case.referral_failed": _lazy("Referral could not be delivered"),
    "case.referral_downloaded": _lazy("Referral downloaded as a file"),
    "case.referral_accepted": _lazy("The partner accepted the referral"),
    "case.referral_declined": _lazy("The partner declined the referral"),
    "draft.saved": _lazy("Drafted document saved"),
    "draft.exported": _lazy("Drafted document exported as a file"),
    "deadline.added": _lazy("Deadline added"),
    "deadline.proposed": _lazy("Deadline proposed by a rule"),
    "deadline.confirmed": _lazy("Deadline confirmed"),
    "deadline.done": _lazy("Deadline done"),
    "queue.read": _lazy("Queue viewed"),
    "reply.saved": _lazy("Ready reply saved"),
    "reply.deleted": _lazy("Ready reply deleted"),
    "reply.edited": _lazy("Ready reply edited"),
    "settings.retention": _lazy("Retention period changed"),
    "reminder.dismissed": _lazy("Reminder dismissed"),
    "intake.settings": _lazy("Web form settings changed"),
    "telegram.token": _lazy("Telegram bot token set"),
    "telegram.mode": _lazy("Telegram bot mode changed"),
    "telegram.channel": _lazy("Telegram channel changed"),
    "notify.smtp": _lazy("E-mail server for notifications changed"),
    "kb.article.created": _lazy("Article created"),
    "kb.article.edited": _lazy("Article edited"),
    "kb.article.overridden": _lazy("Shipped article replaced by our own copy"),
    "kb.article.reviewed": _lazy("Article marked as reviewed"),
    "kb.article.law_changed": _lazy("Article marked: law changed, under review"),
    "kb.review_age": _lazy("Review age of articles changed"),
    "member.kb_reviewer": _lazy("Right to review articles changed"),
    "member.time_zone": _lazy("Member's time zone changed"),
    "organization.time_zone": _lazy("Organization's time zone changed"),
    "kb.article.deleted": _lazy("Article deleted"),
    "kb.post.scheduled": _lazy("Channel post scheduled"),
    "kb.post.cancelled": _lazy("Channel post cancelled"),
    "kb.post.queued": _lazy("Channel post queued"),
    "kb.post.posted": _lazy("Channel post published"),
    "kb.post.failed": _lazy("Channel post failed"),
    "funds.donation": _lazy("Donation recorded"),
    "funds.import": _lazy("Bank statement imported"),
    "funds.payout.requested": _lazy("Payout requested"),
    "funds.payout.paid": _lazy("Payout paid"),
    "funds.payout.approved": _lazy("Payout approved"),
    "funds.payout.declined": _lazy("Payout declined"),
    "funds.exchange": _lazy("Currency exchanged"),
    "funds.transfer": _lazy("Transfer between accounts"),
    "funds.reversal": _lazy("Booking reversed"),
    "funds.export": _lazy("Books exported"),
    "funds.settings": _lazy("Funds settings changed"),
    "funds.account": _lazy("Account added"),
    "org.created": _lazy("Organization created"),
    "org.locked": _lazy("Organization locked: every session ended"),
    "org.recovered": _lazy("Administrator access restored with the recovery key"),
    "member.invited": _lazy("Member invited"),
    "member.joined": _lazy("Link used: password and second factor set"),
    "member.rekeyed": _lazy("Link to reset password and keys made"),
    "member.role": _lazy("Role changed"),
    "member.deactivated": _lazy("Member deactivated"),
    "member.backup_codes": _lazy("New backup codes made"),
    "password.changed": _lazy("Password changed"),
    "login.ok": _lazy("Logged in"),
    "login.failed": _lazy("Login refused"),
    # Teams: every change of who can read what.
    "case.moved": _lazy("Case moved to another team"),
    "case.rekeyed": _lazy("Case given a key of its own"),
    "case.restricted": _lazy("Case restricted to chosen members"),
    "case.unrestricted": _lazy("Case opened to its team again"),
    "org.team_recovery": _lazy("Recovery key entered for teams"),
    "team.created": _lazy("Team created"),
    "team.updated": _lazy("Team changed"),
    "team.default": _lazy("Default team chosen"),
    "team.member_added": _lazy("Member added to a team"),
    "team.member_removed": _lazy("Member removed from a team"),
    "team.auto_assign": _lazy("Automatic assignment of a team changed"),
    # Broadcasts (haven/broadcast): one message to many cases.
    "case.broadcast": _lazy("Broadcast message sent to the requester"),
    "case.reply_withdrawn": _lazy("Queued message taken back before it was sent"),
    "broadcast.started": _lazy("Broadcast started"),
    "broadcast.cancelled": _lazy("Broadcast cancelled"),
    # Referrals in (haven/network): a partner's referral received, opened, decided.
    "referral.received": _lazy("Referral received from a partner"),
    "referral.opened": _lazy("Referral from a partner opened and read"),
    "referral.accepted": _lazy("Referral from a partner accepted: case opened"),
    "referral.declined": _lazy("Referral from a partner declined"),
    # Partners (haven/network): who the organization works with.
    "partner.asked": _lazy("Organization on this server asked to become a partner"),
    "partner.invited": _lazy("Invitation to become partners received"),
    "partner.accepted": _lazy("Partnership accepted"),
    "partner.declined": _lazy("Invitation to become partners declined"),
    "partner.added": _lazy("Partner on another server added from its card"),
    "partner.ended": _lazy("Partnership ended"),
    "partner.ended_by_partner": _lazy("Partnership ended by the partner"),
    # Network figures (haven/network/figures.py).
    "figures.published": _lazy("Monthly figures published for the network"),
}

DETAILS: dict[str, Promise] = {
    "referral": _lazy("referral"),
    "transport": _lazy("sent"), "answers": _lazy("answers included"),
    "messages": _lazy("messages included"), "told": _lazy("requester told how to reach them"),
    "account": _lazy("account"), "allowed": _lazy("allowed"), "member": _lazy("member"),
    "months": _lazy("months"), "own": _lazy("own"), "zone": _lazy("time zone"),
    "allow_negative": _lazy("negative balances allowed"),
    "amount": _lazy("amount"), "assignee": _lazy("assigned to"), "batch": _lazy("import"),
    "bot": _lazy("bot"), "by": _lazy("because of"), "bought": _lazy("currency bought"),
    "bought_amount": _lazy("amount bought"),
    "by_requester": _lazy("by the requester"), "cases": _lazy("cases shown"),
    "category": _lazy("category"), "channel": _lazy("channel"), "confirmed": _lazy("confirmed"),
    "count": _lazy("number"), "currencies": _lazy("currencies"), "currency": _lazy("currency"),
    "days": _lazy("days"), "document": _lazy("document"), "deadline": _lazy("deadline"), "due": _lazy("due"),
    "enabled": _lazy("switched on"), "end": _lazy("to"), "fund": _lazy("fund"),
    "held": _lazy("held during a flood"),
    "holding": _lazy("held in"), "how": _lazy("how"), "kind": _lazy("kind"), "lang": _lazy("language"),
    "mode": _lazy("mode"), "new": _lazy("now"), "old": _lazy("before"), "other": _lazy("other case"),
    "payout": _lazy("payout"), "post": _lazy("post"), "priority": _lazy("priority"),
    "public_report": _lazy("public report"), "purpose": _lazy("purpose"), "rate": _lazy("rate"),
    "record": _lazy("entry"), "reply": _lazy("ready reply"), "retention_days": _lazy("kept for days"),
    "reminder": _lazy("reminder"),
    "reverses": _lazy("reverses"), "rows": _lazy("rows"), "rule": _lazy("rule"),
    "set": _lazy("set"), "skipped": _lazy("skipped"), "slug": _lazy("address"),
    "sold": _lazy("currency sold"), "sold_amount": _lazy("amount sold"), "source": _lazy("from"),
    "start": _lazy("from"), "suppression_minimum": _lazy("smallest figure shown"),
    "suspected": _lazy("suspected"), "target": _lazy("to"), "thresholds": _lazy("approval thresholds"),
    "transaction": _lazy("booking"),
    "role": _lazy("role"), "link": _lazy("link"), "reason": _lazy("reason"),
    "created": _lazy("new account"), "sessions": _lazy("sessions ended"),
    "shares": _lazy("recovery key shares"), "threshold": _lazy("shares needed"),
    "shares_used": _lazy("shares given"),
    "by_link": _lazy("with the invitation link"), "categories": _lazy("categories"),
    "files": _lazy("files"), "sent": _lazy("sent to the requester"),
    "key_sealed": _lazy("key given to the assignee"),
    "members": _lazy("members"), "new_team": _lazy("new team"), "old_team": _lazy("team before"),
    "team": _lazy("team"),
    "what": _lazy("exported as"), "notes": _lazy("notes included"),
    "auto": _lazy("assigned automatically, by the fair rule"), "cap": _lazy("open cases per member at most"),
    "broadcast": _lazy("broadcast"), "targets": _lazy("cases to reach"),
    "left": _lazy("cases not reached"),
    # Referrals in (haven/network)
    "incoming": _lazy("referral received"),
    "size": _lazy("size in bytes"), "left_out": _lazy("files left out by the checks"),
    "with_reason": _lazy("with a reason for the partner"),
    "referred_by": _lazy("referred by partner"), "partner_told": _lazy("the partner was told"),
    "partner": _lazy("partner organization"),
    "fingerprint": _lazy("fingerprint compared"), "renewed": _lazy("an ended partnership renewed"),
    "by_partner": _lazy("by the partner"),
    "month": _lazy("month"), "epsilon": _lazy("privacy budget ε (empty: no noise)"),
    "replaced": _lazy("replaced an earlier publication"),
}


def _choice(choices: Any) -> Callable[[Any], str]:
    return lambda value: str(dict(choices.choices).get(value, value))


def _status(value: Any) -> str:
    """A case's status, or a member's role (``member.role`` keeps its old and new in the same keys)."""
    return str({**dict(Status.choices), **dict(Role.choices)}.get(value, value))


def _reason(value: Any) -> str:
    reasons = {"password": _("wrong password"), "second_factor": _("wrong second-factor code"),
               "throttled": _("too many attempts: the account is locked for a while"),
               "partnership ended": _("the partnership had ended")}
    return str(reasons.get(value, value))


def _number(value: Any) -> str:
    return str(formats.number_format(value))


def _rule(value: Any) -> str:
    rule = rules.all_rules().get(str(value))
    return rule.title if rule else (str(value) or "—")


def _day(value: Any) -> str:
    try:
        return formats.date_format(datetime.datetime.fromisoformat(str(value)), "DATE_FORMAT")
    except ValueError:
        return str(value)


def _kind(value: Any) -> str:
    from haven.funds.models import AccountKind

    kinds = {"article": _("article"), "text": _("text"), **dict(AccountKind.choices)}
    return str(kinds.get(value, value))


def _how(value: Any) -> str:
    ways = {"view": _("viewed in the browser"), "thumbnail": _("small preview"),
            "download": _("downloaded")}
    return str(ways.get(value, value))


def _export(value: Any) -> str:
    kinds = {"pdf": _("case file (PDF)"), "archive": _("encrypted archive with the files"),
             "csv": _("list of cases (CSV, no content)")}
    return str(kinds.get(value, value))


def _cause(value: Any) -> str:
    causes = {"reply": _("a reply to the requester"), "referral": _("a referral to a partner")}
    return str(causes.get(value, value))


def _transport(value: Any) -> str:
    ways = {"online": _("online"), "file": _("as a file")}
    return str(ways.get(value, value))


VALUES: dict[str, Callable[[Any], str]] = {
    "old": _status, "new": _status, "priority": _choice(Priority), "rule": _rule,
    "category": lambda value: categories.get(str(value)).name, "due": _day, "start": _day,
    "end": _day, "channel": _choice(Channel), "kind": _kind, "by": _cause, "how": _how,
    "role": _choice(Role), "link": _choice(Invite.Kind), "reason": _reason, "sessions": _number,
    "shares": _number, "threshold": _number, "shares_used": _number,
    "what": _export, "notes": _number, "files": _number, "cap": _number, "targets": _number,
    "left": _number, "messages": _number, "transport": _transport,
    "size": _number, "left_out": _number,
}


def event_label(code: str) -> str:
    """The event in words; a code without a label reads as "Other event"."""
    label = EVENTS.get(code)
    return str(label) if label is not None else _("Other event")


def _value(key: str, value: Any, names: dict[int, str]) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if key in ("assignee", "member"):
        return names.get(int(value), _("a former member"))
    if isinstance(value, list):
        return formats.number_format(len(value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if key in VALUES:
        return VALUES[key](value)
    return f"#{value}" if isinstance(value, int) else str(value)


def details(detail: dict[str, Any], names: dict[int, str]) -> list[tuple[str, str]]:
    """The entry's details as (label, value) pairs in words, for a definition list."""
    return [(str(DETAILS.get(key, _("other"))), _value(key, value, names))
            for key, value in detail.items()]
