"""The demo comes with a partner organization on the same server, already a partner, so a
referral can be tried from the case page to the partner's incoming list."""

from __future__ import annotations

from django.test import Client

from haven.demo import seed as demo
from haven.network.models import Partner


def test_the_demo_seeds_a_partner_that_both_sides_see_as_active(db: None) -> None:
    logins = demo.seed()
    assert [p.username for p in logins][-1] == "paula"
    rows = Partner.objects.select_related("organization", "local")
    assert {(r.organization.slug, r.local.slug if r.local else "", r.state) for r in rows} == {
        (demo.DEMO_ORG, demo.PARTNER_ORG, Partner.State.ACTIVE),
        (demo.PARTNER_ORG, demo.DEMO_ORG, Partner.State.ACTIVE)}
    assert demo.seed() == logins  # a second start changes nothing
    assert Partner.objects.count() == 2
    client = Client()
    paula = demo.PARTNER_PEOPLE[0]
    response = client.post("/login/", {"username": paula.username, "password": paula.password,
                                       "code": demo.current_code(paula.username)})
    assert response.status_code == 302
    page = client.get("/network/partners/")
    assert page.status_code == 200 and "Demo help desk" in page.content.decode()
