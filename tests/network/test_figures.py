"""Combined figures: counted from clear metadata, noised and suppressed, signed, served,
collected from partners (same server and over HTTP) and summed with their uncertainty."""

from __future__ import annotations

import base64
import json
import math
import random
import re
import statistics
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from haven.accounts.models import Organization
from haven.audit.models import AuditEntry
from haven.cases.models import Case, Status
from haven.core import worker
from haven.network import actions, collect, figures, keys
from haven.network.models import (
    CollectedFigures,
    FiguresCollection,
    IncomingReferral,
    Partner,
    Publication,
    Referral,
)
from haven.network.partners import active_partners
from haven.vault.signing import generate_signing_key, sign, verify
from tests.conftest import Persona, make_case

# Counting -------------------------------------------------------------------------------


def _partner(org: Organization, other: Organization, *, local: bool = True,
             server_url: str = "", slug: str | None = None,
             signing_public: bytes | None = None, name: str | None = None) -> Partner:
    return Partner.objects.create(
        organization=org, name=name or other.name, local=other if local else None,
        server_url=server_url, remote_slug=slug or other.slug,
        encryption_key=bytes(other.public_key),
        signing_key=signing_public or bytes(keys.signing_key(other).public_key),
        state=Partner.State.ACTIVE)


def _at(case: Case, **times: datetime | None) -> None:
    Case.objects.filter(pk=case.pk).update(**times)


def test_counting_on_a_small_known_dataset(alice: Persona, charlie: Persona) -> None:
    org = alice.org
    Organization.objects.filter(pk=org.pk).update(time_zone="Europe/Kyiv")
    org.refresh_from_db()
    month = date(2026, 3, 1)  # Kyiv is UTC+2 in early March, UTC+3 from 29 March
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    made = [make_case(alice, f"case {i}", category=cat, channel=ch)
            for i, (cat, ch) in enumerate([("summons", "web"), ("summons", "telegram"),
                                           ("family", "web"), ("money", "desk"),
                                           ("summons", "web"), ("family", "web")])]
    a, b, c, d, e, f = made
    _at(a, created=start, first_reply_at=start + timedelta(minutes=30))  # within 1 h
    _at(b, created=start, first_reply_at=start + timedelta(hours=5))  # 24 h
    _at(c, created=start, first_reply_at=start + timedelta(hours=50))  # 72 h
    _at(d, created=start, first_reply_at=start + timedelta(days=10))  # later
    _at(e, created=datetime(2026, 2, 28, 22, 30, tzinfo=UTC))  # 1 March 00:30 in Kyiv; none yet
    _at(f, created=datetime(2026, 3, 31, 21, 30, tzinfo=UTC))  # 1 April 00:30 in Kyiv: not March
    # Closed in March: a (plain), b (after a referral that reached the partner), and an
    # erased case and a held case that count nowhere.
    closed_at = datetime(2026, 3, 20, tzinfo=UTC)
    Case.objects.filter(pk__in=[a.pk, b.pk]).update(status=Status.CLOSED, closed_at=closed_at)
    erased = make_case(alice, "gone")
    _at(erased, created=start, status=Status.CLOSED, closed_at=closed_at, erased=True)
    held = make_case(alice, "flood")
    _at(held, created=start, held=True)
    partner = _partner(org, charlie.org)
    Referral.objects.create(organization=org, case=b, partner=partner,
                            state=Referral.State.ACCEPTED, delivered_at=start)
    Referral.objects.create(organization=org, case=b, partner=partner,  # same case: once
                            state=Referral.State.DELIVERED, delivered_at=start)
    Referral.objects.create(organization=org, case=c, partner=partner,  # never left
                            state=Referral.State.REFUSED)
    Referral.objects.create(organization=org, case=erased, partner=partner,
                            state=Referral.State.DELIVERED, delivered_at=start)
    for when in (start, start, datetime(2026, 4, 2, tzinfo=UTC)):
        IncomingReferral.objects.create(organization=org, partner=partner, ref_id=uuid.uuid4(),
                                        digest="0" * 64, received=when)

    counts = figures.count_month(org, month)

    assert counts["category"] == {**dict.fromkeys(figures.table_cells()["category"], 0),
                                  "summons": 3, "family": 1, "money": 1}
    assert counts["channel"] == {"web": 3, "telegram": 1, "desk": 1}
    assert counts["first_reply"] == {"1h": 1, "24h": 1, "72h": 1, "later": 1, "none": 1}
    assert counts["outcome"] == {"closed": 1, "referred": 1}
    assert counts["referrals"] == {"out": 1, "in": 2}


# Noise and suppression ------------------------------------------------------------------

COUNTS = st.dictionaries(st.sampled_from(figures.TABLES),
                         st.dictionaries(st.text(min_size=1, max_size=5),
                                         st.integers(min_value=0, max_value=60), max_size=8),
                         max_size=5)


@given(counts=COUNTS, epsilon=st.one_of(st.none(), st.floats(min_value=0.1, max_value=10)),
       seed=st.integers(min_value=0, max_value=2**32))
@hsettings(max_examples=300, deadline=None)
def test_no_published_cell_is_under_5(counts: dict, epsilon: float | None, seed: int) -> None:
    published = figures.privatize(counts, epsilon, random.Random(seed))
    assert published.keys() == counts.keys()
    for table, cells in published.items():
        assert cells.keys() == counts[table].keys()
        for cell, value in cells.items():
            assert value is None or (isinstance(value, int) and value >= figures.SUPPRESS_BELOW)
            if epsilon is None:  # without noise: the count itself, or hidden when under 5
                assert value == (counts[table][cell] if counts[table][cell] >= 5 else None)


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0, 5.0])
def test_the_noise_has_the_stated_scale(epsilon: float) -> None:
    rng = random.Random(20261206)
    draws = [figures.laplace(rng, 1 / epsilon) for _ in range(20_000)]
    scale = 1 / epsilon
    # Laplace(b): mean 0, standard deviation b·√2, mean absolute deviation b.
    assert abs(statistics.fmean(draws)) < 4 * scale * 2 ** 0.5 / 20_000 ** 0.5
    assert statistics.fmean(abs(x) for x in draws) == pytest.approx(scale, rel=0.03)
    assert statistics.pstdev(draws) == pytest.approx(scale * 2 ** 0.5, rel=0.05)
    # Through publication: a large count, noised and rounded, centred on the count.
    published = [figures.privatize({"t": {"c": 1000}}, epsilon, rng)["t"]["c"]
                 for _ in range(20_000)]
    errors = [v - 1000 for v in published if v is not None]
    assert len(errors) == 20_000
    assert abs(statistics.fmean(errors)) < 4 * (2 * scale * scale + 1 / 12) ** 0.5 / 20_000 ** 0.5
    # Rounded, |error| ≥ k exactly when |noise| ≥ k − ½: E|error| = Σ e^(−(k−½)/b), k ≥ 1.
    rounded_mad = math.exp(-0.5 / scale) / (1 - math.exp(-1 / scale))
    assert statistics.fmean(abs(x) for x in errors) == pytest.approx(rounded_mad, rel=0.04)


def test_the_same_seed_gives_the_same_publication() -> None:
    counts = {"category": {"summons": 40, "family": 3}}
    assert figures.privatize(counts, 1.0, random.Random(7)) == \
        figures.privatize(counts, 1.0, random.Random(7))


# Publication ----------------------------------------------------------------------------

def _publish(persona: Persona, epsilon: float | None = None, seed: int = 1,
             month: date | None = None) -> Publication:
    month = month or figures.finished_months(persona.org)[0]
    return actions.publish_figures(persona.member, persona.vault(), month, epsilon,
                                   random.Random(seed))


def _with_cases(persona: Persona, month: date, n: int, category: str = "summons") -> None:
    when = datetime(month.year, month.month, 10, 12, tzinfo=UTC)
    for i in range(n):
        _at(make_case(persona, f"c{i}", category=category), created=when)


def test_a_publication_is_signed_canonical_and_replaced_when_published_again(
        alice: Persona) -> None:
    month = figures.finished_months(alice.org)[0]
    _with_cases(alice, month, 7)
    first = _publish(alice)
    body = bytes(first.body)
    data = json.loads(body)
    assert body == figures.canonical(data)  # sorted keys, compact
    assert data["org"] == "first" and data["month"] == figures.month_key(month)
    assert data["epsilon"] is None and data["name"] == alice.org.name
    assert data["figures"]["category"]["summons"] == 7
    assert data["figures"]["category"]["family"] is None  # 0: hidden like 1 to 4
    verify(bytes(keys.signing_key(alice.org).public_key), body, bytes(first.signature))

    second = _publish(alice, epsilon=1.0, seed=3)
    assert Publication.objects.filter(organization=alice.org).count() == 1
    assert json.loads(bytes(second.body))["epsilon"] == 1.0
    entries = AuditEntry.objects.filter(organization=alice.org, action="figures.published")
    assert [e.detail for e in entries.order_by("seq")] == [
        {"month": figures.month_key(month), "epsilon": None, "replaced": False},
        {"month": figures.month_key(month), "epsilon": 1.0, "replaced": True}]


def test_the_current_month_and_a_wild_epsilon_are_refused(alice: Persona) -> None:
    with pytest.raises(actions.FiguresError):
        _publish(alice, month=figures.current_month(alice.org))
    with pytest.raises(actions.FiguresError):
        _publish(alice, epsilon=50.0)
    assert not Publication.objects.exists()


def test_the_public_json_lists_every_publication(alice: Persona, client: Client) -> None:
    months = figures.finished_months(alice.org)
    _publish(alice, month=months[0])
    _publish(alice, month=months[1], epsilon=2.0)
    response = client.get("/network/figures/first.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    listed = response.json()
    assert listed["org"] == "first"
    assert [p["month"] for p in listed["publications"]] == [figures.month_key(months[1]),
                                                            figures.month_key(months[0])]
    public = bytes(keys.signing_key(alice.org).public_key)
    for item in listed["publications"]:
        verify(public, base64.b64decode(item["body"]), base64.b64decode(item["signature"]))
    assert client.get("/network/figures/nobody.json").status_code == 404


def test_only_administrators_publish(alice: Persona, alice_client: Client, bob_client: Client,
                                     charlie: Persona) -> None:
    assert bob_client.get("/network/figures/publish/").status_code == 404
    month = figures.finished_months(alice.org)[2]
    assert bob_client.post("/network/figures/publish/",
                           {"month": figures.month_key(month)}).status_code == 404
    assert not Publication.objects.exists()
    page = alice_client.get("/network/figures/publish/")
    assert page.status_code == 200 and "ε" in page.content.decode()
    current = figures.month_key(figures.current_month(alice.org))
    assert alice_client.post("/network/figures/publish/", {"month": current}).status_code == 400
    response = alice_client.post("/network/figures/publish/",
                                 {"month": figures.month_key(month), "epsilon": "1.5"})
    assert response.status_code == 302
    row = Publication.objects.get()
    assert row.organization == alice.org and row.epsilon == 1.5 and row.month == month
    assert row.published_by == alice.member
    # Bob reads the network page (he holds case.read) but is offered no publishing.
    page = bob_client.get("/network/figures/").content.decode()
    assert "/network/figures/publish/" not in page


# Collection -----------------------------------------------------------------------------

def test_a_same_server_partner_is_collected_and_an_altered_body_refused(
        alice: Persona, charlie: Persona, alice_client: Client) -> None:
    month = figures.finished_months(charlie.org)[0]
    _with_cases(charlie, month, 9)
    published = _publish(charlie)
    partner = _partner(alice.org, charlie.org)
    [outcome] = collect.collect(list(active_partners(alice.org.pk)))
    assert (outcome.kept, outcome.error) == (1, "")
    kept = CollectedFigures.objects.get(organization=alice.org, partner=partner)
    assert kept.month == month and kept.figures["figures"]["category"]["summons"] == 9

    altered = bytes(published.body).replace(b'"summons":9', b'"summons":90')
    assert altered != bytes(published.body)
    Publication.objects.filter(pk=published.pk).update(body=altered)
    [outcome] = collect.collect(list(active_partners(alice.org.pk)))
    assert (outcome.kept, outcome.refused, outcome.error) == (0, 1, "signature")
    kept.refresh_from_db()
    assert kept.figures["figures"]["category"]["summons"] == 9  # the last good copy stays
    page = alice_client.get("/network/figures/").content.decode()
    assert "The signature does not match the partner" in page
    assert "The last good copy is kept." in page


def test_a_body_naming_another_organization_is_refused(alice: Persona, charlie: Persona) -> None:
    _publish(charlie)
    # A partner row that expects "third" but reads charlie's (correctly signed) figures.
    partner = _partner(alice.org, charlie.org, slug="third")
    [outcome] = collect.collect([partner])
    assert outcome.error == "other_org"
    assert not CollectedFigures.objects.exists()


class _Serve(BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self) -> None:
        if self.path != "/network/figures/second.json":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Serve]]]:
    handler = type("Handler", (_Serve,), {"payload": b""})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_collection_over_http_on_loopback_and_a_forged_server_is_refused(
        alice: Persona, charlie: Persona, alice_client: Client,
        server: tuple[str, type[_Serve]]) -> None:
    url, handler = server
    month = figures.finished_months(charlie.org)[0]
    _with_cases(charlie, month, 6)
    _publish(charlie)
    handler.payload = Client().get("/network/figures/second.json").content
    # Charlie's organization as if on another server: known by address and keys only.
    partner = _partner(alice.org, charlie.org, local=False, server_url=url + "/")
    [outcome] = collect.collect([partner])
    assert (outcome.kept, outcome.error) == (1, "")
    kept = CollectedFigures.objects.get(partner=partner)
    assert kept.figures["figures"]["category"]["summons"] == 6

    # The server now serves figures signed by someone else's key.
    _forged_public, forged_seed = generate_signing_key()
    body = bytes(Publication.objects.get().body).replace(b'"summons":6', b'"summons":60')
    handler.payload = json.dumps({"org": "second", "publications": [{
        "month": figures.month_key(month), "body": figures.b64(body),
        "signature": figures.b64(sign(forged_seed, body))}]}).encode()
    [outcome] = collect.collect([partner])
    assert outcome.error == "signature" and outcome.kept == 0
    kept.refresh_from_db()
    assert kept.figures["figures"]["category"]["summons"] == 6
    page = alice_client.get("/network/figures/").content.decode()
    assert "The signature does not match the partner" in page
    russian = alice_client.get("/network/figures/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "The signature does not match" not in russian  # translated

    # "Collect now" is the member's request; an unreachable server is shown with its reason.
    Partner.objects.filter(pk=partner.pk).update(server_url="http://127.0.0.1:9/")
    response = alice_client.post("/network/figures/collect/")
    assert response.status_code == 302
    status = FiguresCollection.objects.get(partner=partner)
    assert status.error == "no_answer" and status.succeeded is not None
    assert "The partner&#x27;s server did not answer." in alice_client.get(
        "/network/figures/").content.decode()
    assert CollectedFigures.objects.filter(partner=partner).count() == 1


def test_plain_http_is_refused_but_to_this_machine(server: tuple[str, type[_Serve]]) -> None:
    with pytest.raises(collect.Unreachable, match="https"):
        collect.fetch("http://partner.example/network/figures/x.json")
    with pytest.raises(collect.Unreachable, match="address"):
        collect.fetch("ftp://partner.example/x.json")
    url, handler = server
    handler.payload = b"x" * 2000
    with pytest.raises(collect.Unreachable, match="too_large"):
        collect.fetch(url + "/network/figures/second.json", limit=1000)
    with pytest.raises(collect.Unreachable, match="status:404"):
        collect.fetch(url + "/network/figures/other.json")


def test_the_worker_collects_every_organizations_partners(alice: Persona,
                                                          charlie: Persona) -> None:
    _publish(charlie)
    _publish(alice)
    _partner(alice.org, charlie.org)
    _partner(charlie.org, alice.org)
    assert worker.TASKS["collect_partner_figures"].func() == 2
    assert CollectedFigures.objects.filter(organization=alice.org).count() == 1
    assert CollectedFigures.objects.filter(organization=charlie.org).count() == 1


# The network page -----------------------------------------------------------------------

def _collected(org: Organization, name: str, month: date, cells: dict[str, int | None],
               epsilon: float | None = None) -> Partner:
    other = Organization.objects.create(slug=name, name=name.title(), public_key=b"k" * 32)
    public, _seed = generate_signing_key()
    partner = _partner(org, other, local=False, server_url="https://x.example",
                       signing_public=public)
    data = {"v": 1, "org": name, "name": name.title(), "month": figures.month_key(month),
            "epsilon": epsilon, "published": "2026-01-01T00:00:00+00:00",
            "figures": {"category": cells}}
    CollectedFigures.objects.create(organization=org, partner=partner, month=month,
                                    body=figures.canonical(data), signature=b"s" * 64,
                                    figures=data)
    return partner


def test_the_network_page_shows_totals_ranges_and_noise(alice: Persona, alice_client: Client,
                                                         charlie: Persona,
                                                         charlie_client: Client) -> None:
    month = figures.finished_months(alice.org)[1]
    _with_cases(alice, month, 10)
    _publish(alice, month=month)  # summons 10, the others hidden
    _collected(alice.org, "north", month, {"summons": 7, "family": None})
    _collected(alice.org, "south", month, {"summons": None, "family": 12}, epsilon=1.0)
    ended = _collected(alice.org, "gone", month, {"summons": 500})
    Partner.objects.filter(pk=ended.pk).update(state=Partner.State.ENDED)

    page = alice_client.get(f"/network/figures/?month={figures.month_key(month)}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "figures of 3 organizations" in text
    # summons: 10 + 7 + (0..4), the noisy partner's variance 2/ε² = 2 → ± 1.96·√2 = 2.8
    assert re.search(r"Summons[^<]*</th><td>17–21 ± 2\.8</td>", text), text
    # family: own hidden (0..4) + north hidden (0..4) + 12 noisy
    assert re.search(r"<td>12–20 ± 2\.8</td>", text)
    assert "500" not in text  # an ended partnership's figures are not summed
    # The table's total: own 10 + 6 hidden cells, north 7 + 1 hidden, south 12 + 1 hidden.
    assert re.search(r"Total</th><td>29–61 ± 3\.9</td>", text), text
    assert "<svg" in text and "<script" not in text
    assert "North" in text and "South" in text

    # Another organization sees none of it, and its "Collect now" touches only its own.
    other = charlie_client.get("/network/figures/").content.decode()
    assert "North" not in other and "17–21" not in other
    charlie_client.post("/network/figures/collect/")
    assert not FiguresCollection.objects.filter(partner__organization=alice.org).exists()
    assert charlie_client.get("/network/figures/publish/").status_code == 200  # his own


def test_numbers_in_the_svg_are_never_localized(alice: Persona, alice_client: Client) -> None:
    month = figures.finished_months(alice.org)[0]
    _collected(alice.org, "north", month, {"summons": 7}, epsilon=0.7)
    text = alice_client.get("/network/figures/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    svgs = re.findall(r"<svg viewBox.*?</svg>", text, flags=re.S)
    assert len(svgs) == len(figures.TABLES)
    for svg in svgs:
        attributes = re.findall(r'\s(?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
        assert attributes and all(re.fullmatch(r"-?\d+(\.\d+)?", a) for a in attributes)
    assert "± 4,0" in text  # localized in the page's text: 1.96·√(2/0.49) = 3.96


def test_a_total_reads_as_a_range_exact_or_under_5() -> None:
    from haven.network.figures_views import shown

    def total(*cells: int | None, epsilon: float | None = None) -> figures.Total:
        t = figures.Total()
        for cell in cells:
            t.add(cell, epsilon)
        return t

    assert shown(total(None)) == "<5"
    assert shown(total(12)) == "12"
    assert shown(total(12, None)) == "12–16"
    assert shown(total(None, None)) == "0–8"
    assert shown(total(30, epsilon=2.0)) == "30 ± 1.4"  # 1.96 · √(2/4)
    merged = total(10)
    merged.merge(total(None))
    assert shown(merged) == "10–14"


def test_pages_need_a_member(client: Client, alice: Persona) -> None:
    assert client.get("/network/figures/").status_code in (302, 404)
    assert client.post("/network/figures/collect/").status_code in (302, 403, 404)
