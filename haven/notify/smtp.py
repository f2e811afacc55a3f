"""Which SMTP server an organization's e-mail notifications go through.

An organization's own (:class:`SmtpSettings`, its password sealed under the
server key ``SMTP_PASSWORD``), else the server's ``HAVEN_SMTP_*`` settings, else
none: then the page offers no e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from haven.accounts.models import Member
from haven.accounts.rights import Right, require
from haven.audit import chain
from haven.core.keys import server_box
from haven.vault import VaultError
from haven.vault.purposes import SMTP_PASSWORD

from .addresses import NotifyError
from .models import SmtpSettings

SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str
    password: str
    sender: str


def _bound(org_id: int) -> str:
    return f"org:{org_id}"


def server_for(org_id: int) -> Server | None:
    own = SmtpSettings.objects.filter(organization_id=org_id).first()
    if own is not None:
        password = ""
        if own.password:
            try:
                password = str(server_box(SMTP_PASSWORD).unseal(_bound(org_id), bytes(own.password)))
            except VaultError:
                return None
        return Server(own.host, own.port, own.security, own.username, password, own.sender)
    host = getattr(settings, "HAVEN_SMTP_HOST", "")
    sender = getattr(settings, "HAVEN_SMTP_FROM", "")
    if not host or not sender:
        return None
    return Server(host, int(settings.HAVEN_SMTP_PORT), str(settings.HAVEN_SMTP_SECURITY),
                  str(settings.HAVEN_SMTP_USER), str(settings.HAVEN_SMTP_PASSWORD), sender)


def configure(member: Member, *, host: str, port: int, security: str, username: str,
              password: str, sender: str) -> None:
    """An administrator sets the organization's own server; an empty host removes it.

    An empty password keeps the one stored before.
    """
    require(member, Right.ORG_ADMIN)
    host, sender, username = host.strip(), sender.strip(), username.strip()
    org_id = member.organization_id
    with transaction.atomic():
        if not host:
            SmtpSettings.objects.filter(organization_id=org_id).delete()
            chain.record(org_id, "notify.smtp", actor_id=member.pk, detail={"set": False})
            return
        if security not in SECURITY or not 0 < port < 65536 or "@" not in sender or "\n" in sender:
            raise NotifyError(_("Give the server's name, a port, how it is secured and a sender "
                                "address such as desk@example.org."))
        defaults: dict[str, object] = {"host": host[:200], "port": port, "security": security,
                                       "username": username[:200], "sender": sender[:254]}
        if password:
            defaults["password"] = server_box(SMTP_PASSWORD).seal(_bound(org_id), password)
        SmtpSettings.objects.update_or_create(organization_id=org_id, defaults=defaults)
        chain.record(org_id, "notify.smtp", actor_id=member.pk, detail={"set": True})
