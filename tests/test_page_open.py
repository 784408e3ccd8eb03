"""What a first visit waits for: the server requests the page makes as it opens, before its form is
usable. Each one is a round trip and a redraw on the visitor's device before Generate answers a
click (bench/page.py measures the time; this counts the requests, which do not vary with load)."""

from __future__ import annotations

import httpx
import pytest

from .conftest import LaunchedApp

# The opening's server requests: one (kling.app.opening), carrying the visitor's return (session,
# key, language, a link's form and its note), a reload's task, the Lab's price, the Usage tab's
# reveal for administrators and a shared link's start image. There were six.
OPENING_REQUESTS = 1


@pytest.mark.slow
def test_the_page_opens_with_one_server_request_that_carries_every_part(preview_app: LaunchedApp):
    config = httpx.get(f"{preview_app.url}/config", timeout=30).json()
    opening = [d for d in config["dependencies"] if d["backend_fn"] and any(t[1] == "load" for t in d["targets"])]
    assert len(opening) == OPENING_REQUESTS, [d.get("api_name") for d in opening]
    ids = {c["id"]: c for c in config["components"]}
    kinds = {ids[o]["type"] for o in opening[0]["outputs"]}
    # The visitor and a link's form; a reload's result panels (their timers); the Lab's price.
    assert {"browserstate", "tabs", "markdown", "image", "textbox", "video", "timer"} <= kinds, kinds
    # With nobody named in KLING_ADMINS the Usage tab is not built at all: nothing to reveal, and
    # ~20 fewer components and two fewer events for every first visit to work through.
    assert "tabitem" not in kinds
    tabs = [c for c in config["components"] if c["type"] == "tabitem"]
    assert not any("tab.usage" in str(c["props"].get("label")) for c in tabs), [c["props"]["label"] for c in tabs]
    assert any("tab.lab" in str(c["props"].get("label")) for c in tabs)


# Every event costs every first visit: Gradio's front end works through each pair of component and
# event as the page opens (BENCHMARKS.md, "Time to interactive": about 6 ms an event on a 2-core
# machine). A new event should replace one, or raise this with its reason. 137 before 2026-12-03.
EVENT_BUDGET = 121


@pytest.mark.slow
def test_the_page_wires_no_more_events_than_its_budget(preview_app: LaunchedApp):
    config = httpx.get(f"{preview_app.url}/config", timeout=30).json()
    events = config["dependencies"]
    assert len(events) <= EVENT_BUDGET, sorted(str(d.get("api_name")) for d in events)
    # Handlers with several triggers are one event each (gr.on), not one per trigger.
    several = {d["api_name"]: len(d["targets"]) for d in events if len(d["targets"]) > 1}
    assert several.get("list_1") == 2 and several.get("price_2") == 5, several
