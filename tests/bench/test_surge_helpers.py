"""The pure helpers of bench/surge.py: what its figures are computed with."""

from __future__ import annotations

import pytest

from bench.surge import (
    Ticker,
    attribute,
    multipart,
    next_step,
    notice_counts,
    parse_forms,
    percentile,
)


def test_percentile_interpolates_between_ranks_and_says_none_for_no_data() -> None:
    assert percentile([], 95) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert percentile([1.0, 2.0, 3.0], 100) == 3.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_ticker_keeps_its_times_when_the_caller_is_slow_and_reports_the_lag() -> None:
    clock = FakeClock()
    ticker = Ticker(rate=4, start=1.0, until=3.0, clock=clock, sleep=clock.sleep)
    assert ticker.next() == 0.0 and clock.now == 1.0  # slept until the first tick
    clock.now += 1.0  # the caller took a whole second: three ticks were due meanwhile
    lags = [ticker.next() for _ in range(3)]
    assert lags == [0.75, 0.5, 0.25] and clock.now == 2.0  # started at once, each as late as it was
    rest = []
    while (lag := ticker.next()) is not None:
        rest.append(lag)
    assert rest == [0.0, 0.0, 0.0, 0.0]  # 2.0, 2.25, 2.5, 2.75: not 3.0, the end
    assert ticker.count == 8  # 4 a second for 2 seconds, however late some were


def test_a_form_is_read_as_a_browser_submits_it() -> None:
    html = """<form method="post" action="/desk/cases/7/save/" class="x">
    <input type="hidden" name="version" value="3"><input name="tags" value="a, b">
    <select name="assignee"><option value="">nobody</option><option value="5">Ann</option></select>
    <select name="status"><option value="new">New</option><option value="closed" selected>Closed</option></select>
    <select name="plain"><option>first</option><option selected>second</option></select>
    <textarea name="text">
kept</textarea><input type="checkbox" name="kinds" value="reply" checked>
    <input type="checkbox" name="kinds" value="new_case"><input type="radio" name="r" value="1">
    <input type="file" name="file"><input type="text" name="off" value="x" disabled>
    <button type="submit" name="go" value="1">Save</button></form>
    <form action="/other/"><input name="q" value="z"></form>"""
    save, other = parse_forms(html)
    assert (save.action, save.method, other.method) == ("/desk/cases/7/save/", "post", "get")
    assert save.fields == [("version", "3"), ("tags", "a, b"), ("assignee", ""), ("status", "closed"),
                           ("plain", "second"), ("text", "kept"), ("kinds", "reply")]
    assert save.checkboxes == [("kinds", "reply"), ("kinds", "new_case")]
    assert save.values(assignee="5", kinds=["reply", "new_case"]) == [
        ("version", "3"), ("tags", "a, b"), ("status", "closed"), ("plain", "second"), ("text", "kept"),
        ("assignee", "5"), ("kinds", "reply"), ("kinds", "new_case")]


def test_a_multipart_body_carries_the_fields_and_an_empty_file() -> None:
    body, kind = multipart([("text", "привет"), ("csrfmiddlewaretoken", "t")], ["file"])
    boundary = kind.split("boundary=")[1]
    assert kind.startswith("multipart/form-data; boundary=")
    assert body.count(f"--{boundary}\r\n".encode()) == 3 and body.endswith(f"--{boundary}--\r\n".encode())
    assert 'name="text"\r\n\r\nпривет\r\n'.encode() in body
    assert b'name="file"; filename=""' in body


def test_the_requester_walks_the_other_intake_by_its_buttons() -> None:
    assert next_step(["l:ru", "l:uk", "l:en"], typed=False) == ("press", "l:ru")
    assert next_step(["m:ask", "m:req", "m:status"], typed=False) == ("press", "m:req")
    assert next_step(["c:4:summons", "c:4:other", "x"], typed=False) == ("press", "c:4:other")
    assert next_step(["y:5", "x"], typed=False) == ("press", "y:5")
    assert next_step(["a:6:0", "a:6:1", "b:6", "x"], typed=False) == ("press", "a:6:0")
    assert next_step(["b:7", "x"], typed=False)[0] == "text"  # only back and cancel: words wanted
    assert next_step(["y:8", "b:8", "x"], typed=True) == ("press", "y:8")


def test_notification_counts_are_read_from_its_english_text() -> None:
    text = ("New on the desk: 12 new cases; 1 case assigned to you; 3 replies from requesters; "
            "1 deadline within 24 hours.\nhttp://127.0.0.1:8000/desk/")
    assert notice_counts(text) == {"new_case": 12, "assigned": 1, "reply": 3, "deadline": 1}
    assert notice_counts("New on the desk: 1 new case.\nhttp://x/desk/") == {"new_case": 1}
    assert notice_counts("Notifications are on.") == {}


def test_notifications_are_matched_to_the_oldest_events_of_their_kind() -> None:
    events = {"new_case": [10.0, 11.0, 12.0, 30.0], "reply": [5.0]}
    notices = [(40.0, {"new_case": 1}), (20.0, {"new_case": 2, "reply": 2})]
    told = attribute(events, notices)
    # At 20 s: the cases of 10 and 11 s, the reply of 5 s (and one reply with no event).
    # At 40 s: the case of 12 s. The case of 30 s was never told.
    assert told.delays == [10.0, 9.0, 15.0, 28.0]
    assert (told.unmatched, told.missed) == (1, 1)
