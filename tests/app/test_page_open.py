"""What a first visit waits for: the server requests the page makes as it opens, before its form is
usable. Each one is a round trip and a redraw on the visitor's device before Generate answers a
click (bench/page.py measures the time; this counts the requests, which do not vary with load)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.launch import LaunchedApp

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
# event as the page opens (BENCHMARKS.md, "Time to interactive": about 4 ms an event on a 2-core
# machine). A new event should replace one, or raise this with its reason. 137 before 2026-12-03.
EVENT_BUDGET = 111


@pytest.mark.slow
def test_the_page_wires_no_more_events_than_its_budget(preview_app: LaunchedApp):
    config = httpx.get(f"{preview_app.url}/config", timeout=30).json()
    events = config["dependencies"]
    assert len(events) <= EVENT_BUDGET, sorted(str(d.get("api_name")) for d in events)
    # Handlers with several triggers are one event each (gr.on), not one per trigger.
    several = {d["api_name"]: len(d["targets"]) for d in events if len(d["targets"]) > 1}
    assert several.get("list_1") == 2 and several.get("price_2") == 5, several


# Gradio's layout blocks. A loading status on one makes Gradio's front end read every component
# inside it again after every later event (the tabs: the whole page, some 250 reads each time): an
# event's status goes on one of its components instead (kling.app.tabs.common.progress_on).
LAYOUT = {"row", "column", "tabs", "tabitem", "group", "accordion", "form", "sidebar"}


def layout_under_a_status(config: dict) -> dict[str, set[str]]:
    """Each event whose loading status (its `show_progress_on`, else its outputs, and its inputs)
    includes a layout block: its name and the blocks' kinds."""
    kinds = {c["id"]: c["type"] for c in config["components"]}
    found = {}
    for event in config["dependencies"]:
        marked = [*(event["show_progress_on"] or event["outputs"]), *event["inputs"]]
        if layout := {kinds[i] for i in marked} & LAYOUT:
            found[str(event["api_name"])] = layout
    return found


@pytest.mark.slow
def test_no_event_of_the_launched_page_puts_its_loading_status_on_a_layout_block(preview_app: LaunchedApp):
    config = httpx.get(f"{preview_app.url}/config", timeout=30).json()
    assert layout_under_a_status(config) == {}
    # The opening answer writes the tabs and some thirty fields; its status is on the banner alone.
    opening = next(d for d in config["dependencies"] if d["backend_fn"] and any(t[1] == "load" for t in d["targets"]))
    ids = {c["id"]: c for c in config["components"]}
    assert [ids[i]["props"].get("elem_id") for i in opening["show_progress_on"]] == ["mode-banner"]
    assert opening["show_progress"] == "hidden"
    # The events that fill a form from elsewhere write the tabs too (a Lab variant, History, an example).
    fillers = [d for d in config["dependencies"] if any(ids[o]["type"] == "tabs" for o in d["outputs"])]
    assert len(fillers) >= 10, [d["api_name"] for d in fillers]


def test_nor_with_the_usage_tab_an_administrator_sees(tmp_path):
    from kling.app.studio import Studio
    from kling.config import Settings

    demo = Studio.from_env(Settings(data_dir=tmp_path / "data", admins=("alice",))).build()
    config = demo.get_config_file()
    assert any("tab.usage" in str(c["props"].get("label")) for c in config["components"] if c["type"] == "tabitem")
    assert layout_under_a_status(config) == {}
