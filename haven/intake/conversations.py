"""Unfinished intake conversations, stored encrypted so they survive restarts and workers.

What protects in-progress answers, and for how long:

- While a requester is still answering, the answers sit in an
  ``IntakeConversation`` row encrypted with a key derived from the server's
  ``HAVEN_TOKEN_KEY`` (a vault ``ServerBox`` for ``purposes.INTAKE_STATE``).
  A copy of the database alone reveals nothing; someone holding both the
  database and the server's secrets can read unfinished conversations. That is
  the same protection as the outbox, and weaker than a finished case.
- When the requester confirms, the answers are sealed to the organization's
  public key (only members can open them) and the conversation row is deleted
  in the same transaction.
- Abandoned conversations expire: each save pushes ``expires`` a day ahead and
  the worker deletes expired rows (``purge_expired_conversations``).

- After a web request is sent, its codename is kept until the requester says
  it is written down (or for ``CODENAME_LIFETIME``), so a refresh shows it
  again: in a row under the same handle, encrypted with a key derived from the
  handle itself. The handle exists only in the browser's cookie (the row holds
  its keyed hash), so neither the database nor the server's secrets open it.

The row is found by a keyed hash (server pepper) of its handle: a random token
kept in a cookie of the browser (``haven_intake``, HttpOnly, SameSite=Strict,
gone when the browser closes), or the chat for the bot. The handle is bound into the
ciphertext, so a row's state cannot be moved under another handle.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from functools import cache

from django.db import connection, models
from django.utils import timezone

from haven.accounts.models import Organization
from haven.core.keys import pepper_hash, server_box
from haven.vault import VaultError, box
from haven.vault.derive import intake_codename_key
from haven.vault.purposes import INTAKE_STATE, Lookup
from haven.vault.server import Envelope, ServerBox

from .engine import State, StateError
from .models import IntakeConversation

LIFETIME = timedelta(hours=24)


class ConversationGone(Exception):
    """No live conversation for this handle (finished, expired, or never started)."""


def _box() -> ServerBox:
    return server_box(INTAKE_STATE, Envelope.KEYED)


def lookup_key(handle: str) -> str:
    return pepper_hash(Lookup.INTAKE_CONVERSATION, handle)


HANDLE_BYTES = 24
_HANDLE = re.compile(r"[A-Za-z0-9_-]{32}")


def new_handle() -> str:
    return secrets.token_urlsafe(HANDLE_BYTES)


def well_formed(handle: str) -> bool:
    """Whether ``handle`` could have come from :func:`new_handle` (a web handle)."""
    return bool(_HANDLE.fullmatch(handle))


def _seal(key: str, state: State) -> bytes:
    return _box().seal(key, state.to_json())


def _open(row: IntakeConversation) -> State:
    try:
        data = _box().unseal(row.key, bytes(row.state))
    except VaultError as exc:
        raise ConversationGone("the conversation does not open") from exc
    try:
        return State.from_json(data)
    except StateError as exc:
        raise ConversationGone(str(exc)) from exc


def create(org: Organization, handle: str, state: State, channel: str) -> IntakeConversation:
    """Start a conversation under ``handle``, replacing any earlier one with the same handle."""
    key = lookup_key(handle)
    earlier = IntakeConversation.objects.filter(key=key)
    if earlier.exists():  # a read first: on SQLite a needless delete would take the write lock
        earlier.delete()
    return IntakeConversation.objects.create(
        key=key, organization=org, channel=channel, state=_seal(key, state),
        expires=timezone.now() + LIFETIME,
    )


def load(
    handle: str, org: Organization | None = None, *, org_slug: str | None = None,
) -> tuple[IntakeConversation, State]:
    """The live conversation for ``handle`` of ``org`` (the bot), or of the organization
    with ``org_slug`` (the web, loaded with it in the same query), or ConversationGone."""
    if org_slug is not None:
        row = _load_with_org(lookup_key(handle), org_slug)
    else:
        rows = IntakeConversation.objects.filter(key=lookup_key(handle), expires__gt=timezone.now())
        if org is not None:
            rows = rows.filter(organization=org)
        row = next(iter(rows[:1]), None)
    if row is None:
        raise ConversationGone("no conversation")
    return row, _open(row)


def move(old_handle: str, new_handle: str) -> bool:
    """Carry a live conversation over to a new handle (the bot's chat keys changed)."""
    row = IntakeConversation.objects.filter(key=lookup_key(old_handle),
                                            expires__gt=timezone.now()).first()
    if row is None:
        return False
    try:
        state = _open(row)
    except ConversationGone:
        row.delete()
        return False
    key = lookup_key(new_handle)
    return bool(IntakeConversation.objects.filter(pk=row.pk, version=row.version).update(
        key=key, state=_seal(key, state), version=models.F("version") + 1))


def save(row: IntakeConversation, state: State) -> bool:
    """Store ``state`` if nobody saved since ``row`` was loaded; False means it changed meanwhile."""
    sql = _statements()[1]
    expires = connection.ops.adapt_datetimefield_value(timezone.now() + LIFETIME)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_seal(row.key, state), expires, row.pk, row.version])
        updated = cursor.rowcount
    if updated:
        row.version += 1
    return bool(updated)


# Every page of a web intake loads its conversation with its organization, and
# every answer saves it: the two statements are built once per process rather than
# compiled by the ORM on each request (that compilation cost more than running
# them). The rows come back as the models would load them, with the columns the
# intake uses; anything else is loaded on first access, as with ``only()``.
_CONVERSATION_FIELDS = ("id", "key", "organization_id", "channel", "state", "version")
_ORGANIZATION_FIELDS = ("id", "slug", "name", "public_key")


def _column(model: type[models.Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name`` (``x_id`` names the foreign key x)."""
    field = model._meta.get_field(name.removesuffix("_id"))
    assert isinstance(field, models.Field) and field.column  # noqa: S101 - a model's own field
    return connection.ops.quote_name(field.column)


@cache
def _statements() -> tuple[str, str]:
    qn = connection.ops.quote_name
    conv, org = qn(IntakeConversation._meta.db_table), qn(Organization._meta.db_table)

    def c(name: str) -> str:
        return f"c.{_column(IntakeConversation, name)}"

    def o(name: str) -> str:
        return f"o.{_column(Organization, name)}"

    columns = [c(f) for f in _CONVERSATION_FIELDS] + [o(f) for f in _ORGANIZATION_FIELDS]
    # Identifiers come from the models' metadata; every value is a parameter.
    load = (f"SELECT {', '.join(columns)} FROM {conv} c "  # noqa: S608
            f"INNER JOIN {org} o ON {o('id')} = {c('organization_id')} "
            f"WHERE {c('key')} = %s AND {c('expires')} > %s AND {o('slug')} = %s LIMIT 1")
    state, version, expires, pk = (_column(IntakeConversation, f)
                                   for f in ("state", "version", "expires", "id"))
    save = (f"UPDATE {conv} SET {state} = %s, {version} = {version} + 1, "  # noqa: S608
            f"{expires} = %s WHERE {pk} = %s AND {version} = %s")
    return load, save


def _load_with_org(key: str, org_slug: str) -> IntakeConversation | None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_statements()[0], [key, now, org_slug])
        found = cursor.fetchone()
    if found is None:
        return None
    split = len(_CONVERSATION_FIELDS)
    row = IntakeConversation.from_db(connection.alias, list(_CONVERSATION_FIELDS), found[:split])
    organization = Organization.from_db(connection.alias, list(_ORGANIZATION_FIELDS), found[split:])
    IntakeConversation.organization.field.set_cached_value(row, organization)
    return row


def claim(row: IntakeConversation) -> bool:
    """Delete the row if it is still as loaded: exactly one request gets to finish it.

    Call inside the transaction that creates the case, so a failure keeps it.
    """
    deleted, _ = IntakeConversation.objects.filter(pk=row.pk, version=row.version).delete()
    return bool(deleted)


CODENAME_CHANNEL = "web-codename"
CODENAME_LIFETIME = timedelta(hours=2)


def keep_codename(org: Organization, handle: str, codename: str) -> None:
    """Keep a new codename for this browser until :func:`drop_codename` (see above)."""
    key = lookup_key(handle)
    IntakeConversation.objects.filter(key=key).delete()
    IntakeConversation.objects.create(
        key=key, organization=org, channel=CODENAME_CHANNEL,
        state=box.secret_encrypt(intake_codename_key(handle), codename.encode("utf-8")),
        expires=timezone.now() + CODENAME_LIFETIME)


def _codename_rows(handle: str, org: Organization) -> models.QuerySet[IntakeConversation]:
    return IntakeConversation.objects.filter(key=lookup_key(handle), organization=org,
                                             channel=CODENAME_CHANNEL)


def kept_codename(handle: str, org: Organization) -> str | None:
    """The codename kept for this browser's handle, or None (confirmed, expired, never)."""
    row = _codename_rows(handle, org).filter(expires__gt=timezone.now()).first()
    if row is None:
        return None
    try:
        return box.secret_decrypt(intake_codename_key(handle), bytes(row.state)).decode("utf-8")
    except (VaultError, UnicodeDecodeError):
        return None


def drop_codename(handle: str, org: Organization) -> None:
    _codename_rows(handle, org).delete()


def discard(handle: str) -> None:
    IntakeConversation.objects.filter(key=lookup_key(handle)).delete()


def purge_expired() -> int:
    deleted, _ = IntakeConversation.objects.filter(expires__lte=timezone.now()).delete()
    return deleted
