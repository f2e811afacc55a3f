"""Turning finished answers into a case, with no member present.

One transaction: claim the conversation (so a replayed or doubled request
creates nothing), create the case sealed to the organization, give the
requester a codename and a key pair, seal the identifiers used for duplicate
detection (a member's key hashes and compares them later, see
:mod:`haven.intake.fingerprints`), propose the legal deadlines the answers call for, and
store cleaned attachments. During a flood the case is held
(haven.intake.flood); the requester is told nothing different.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from haven import vault
from haven.accounts.models import Organization
from haven.cases import actions, categories, files, rules
from haven.cases.models import Case, Channel

from . import codename as codenames
from . import conversations, fingerprints, flood
from .attachments import CleanFile
from .engine import Finished
from .models import IntakeConversation, Requester

log = logging.getLogger("haven.intake")
SUMMARY_MAX = 200


class AlreadySubmitted(Exception):
    """The conversation was finished (or changed) by another request first."""


@dataclass(frozen=True)
class Submitted:
    case: Case
    codename: str


def summary_line(finished: Finished) -> str:
    """The first non-sensitive short answer: safe to show in a list.

    Not the category: the desk shows it in a column of its own. With no such
    answer, the category's name in the requester's language stands in.
    """
    line = finished.summary_answer or categories.get(finished.questionnaire.category).names.get(
        finished.lang) or finished.questionnaire.category
    return line[:SUMMARY_MAX]


def submit(
    org: Organization, finished: Finished, *, channel: str = Channel.WEB,
    conversation: IntakeConversation | None = None, uploads: tuple[CleanFile, ...] = (),
) -> Submitted:
    """Create the case; raise AlreadySubmitted if the conversation was claimed meanwhile."""
    written: list[str] = []
    try:
        with transaction.atomic():
            if conversation is not None and not conversations.claim(conversation):
                raise AlreadySubmitted
            case = actions.create_case(
                org, category=finished.questionnaire.category, channel=channel,
                summary=summary_line(finished), answers=finished.record(), lang=finished.lang,
                held=flood.flooded(org),
            )
            code = _give_codename(case, finished.lang)
            fingerprints.queue(org, case, finished.fingerprints)
            _propose_deadlines(case, finished)
            for upload in uploads:
                written.append(actions.add_attachment(
                    case, name=upload.name, kind=upload.type, data=upload.data,
                    channel=channel).storage_name)
    except Exception:
        _forget_files(written)
        raise
    return Submitted(case, code)


def give_codename(case: Case, lang: str) -> str:
    """A requester for a case made elsewhere than intake (a referral a partner handed over,
    haven.network): a fresh codename in ``lang`` and a key pair; returns the codename."""
    return _give_codename(case, lang)


def _give_codename(case: Case, lang: str) -> str:
    """A fresh codename and key pair; retried in the (2^-80) event of a collision."""
    for _attempt in range(3):
        code = codenames.generate(lang)
        keys = vault.generate_keypair()
        try:
            with transaction.atomic():
                Requester.objects.create(
                    case=case, codename_hash=codenames.lookup_hash(code), public_key=keys.public,
                    wrapped_private=vault.wrap_with_token(keys.private, codenames.key_material(code)),
                )
        except IntegrityError:
            continue
        return code
    raise RuntimeError("could not find an unused codename")


def _propose_deadlines(case: Case, finished: Finished) -> None:
    for rule_id, value in finished.deadline_inputs:
        try:
            proposal = rules.propose(rule_id, value, finished.lang)
        except (rules.RuleError, ValueError):
            log.warning("deadline rule %s did not apply", rule_id)
            continue
        actions.propose_deadline(case, proposal.due_at, proposal.reason, rule_id)


def _forget_files(names: list[str]) -> None:
    """Files written before the transaction failed: ciphertext, but remove it anyway."""
    for name in names:
        files.discard(name)
