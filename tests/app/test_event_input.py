"""Every event of the launched page answers bad input with a refusal, never an unhandled error:
wrong types, out-of-range numbers, megabyte strings and nulls, sent by hand as a script would, to
the named endpoints (/gradio_api/call/<name>, drawn by Hypothesis) and to every event, named or
not, through the raw queue (its fn_index). An answer is "complete", or a refusal whose message is
a sentence: never a Python exception's text, a traceback, "Unexpected error" or no message at all.
The checks themselves are kling/app/edge.py."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.launch import LaunchedApp

pytestmark = pytest.mark.slow  # launches the app

MEGABYTE = "x" * 1_000_000
JUNK = [
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),  # JSON carries no NaN
    st.text(max_size=30),
    st.just(MEGABYTE),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["path", "a", "meta"]), st.integers() | st.text(max_size=5), max_size=2),
]
# What Python's or Gradio's own failures look like, as opposed to a refusal written for a person.
NOISE = ("Traceback", "Error(", "Exception", "<class", "Unexpected error", "object at 0x", "not JSON serializable")
NOISE += ("KeyError", "TypeError", "ValueError", "IndexError", "AttributeError", "validation error for")
SELECTIONS = [None, "x", {"index": 0}, {"index": 0, "value": "x", "row_value": {"a": 1}}]
NAMED = ["text_to_video", "image_to_video", "improve_prompt", "load_example"]
EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def assert_refusal_sentence(message: Any, context: Any) -> None:
    assert isinstance(message, str) and " " in message.strip(), (message, context)  # None: an unhandled error
    assert len(message) < 2000, (message[:200], context)  # a megabyte is never echoed back
    assert not any(noise in message for noise in NOISE), (message, context)


def answer(app: LaunchedApp, started: httpx.Response, stream_url: str, params: dict | None = None) -> tuple[str, Any]:
    """("complete", outputs), ("error", message) or ("refused", message): a refusal before the
    event was queued (validators: 422; an input no check passed: 400). Anything else fails."""
    assert started.status_code in (200, 400, 422), (started.status_code, started.text[:300])
    if started.status_code != 200:
        detail = started.json()["detail"]
        messages = [check["message"] for check in detail if not check["is_valid"]] if isinstance(detail, list) else []
        return "refused", "; ".join(messages) if messages else str(detail).strip("'\"")
    event = ""
    with httpx.stream("GET", stream_url, params=params, timeout=90) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = json.loads(line.removeprefix("data:").strip() or "null")
                if event in ("complete", "error"):  # /call/<name>
                    return event, data if event == "complete" else (data or {}).get("error")
                if isinstance(data, dict) and data.get("msg") == "process_completed":  # the raw queue
                    output = data.get("output") or {}
                    return ("complete", output.get("data")) if data.get("success") else ("error", output.get("error"))
                if isinstance(data, dict) and data.get("msg") == "unexpected_error":
                    return "error", None
    return event or "no answer", None


def call(app: LaunchedApp, api_name: str, data: list[Any]) -> tuple[str, Any]:
    started = httpx.post(f"{app.url}/gradio_api/call/{api_name}", json={"data": data}, timeout=60)
    event_id = started.json().get("event_id") if started.status_code == 200 else ""
    return answer(app, started, f"{app.url}/gradio_api/call/{api_name}/{event_id}")


def queue_call(app: LaunchedApp, fn_index: int, data: list[Any], event_data: Any = None) -> tuple[str, Any]:
    """As the page's browser sends an event: by its fn_index, named or not."""
    session = uuid.uuid4().hex[:12]
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": event_data}
    started = httpx.post(f"{app.url}/gradio_api/queue/join", json=body, timeout=60)
    return answer(app, started, f"{app.url}/gradio_api/queue/data", {"session_hash": session})


def assert_not_crashed(outcome: tuple[str, Any], context: Any) -> None:
    event, message = outcome
    assert event in ("complete", "error", "refused"), (outcome, context)
    if event != "complete":
        assert_refusal_sentence(message, context)


@pytest.fixture(scope="module")
def page(preview_app) -> dict[str, Any]:
    """The page's config: its events (dependencies) and components."""
    return httpx.get(f"{preview_app.url}/config", timeout=30).json()


def events(page: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The events that run on the server (fn_index, dependency); a script alone runs no Python."""
    return [(index, dep) for index, dep in enumerate(page["dependencies"]) if dep.get("backend_fn")]


def inputs_of(page: dict[str, Any], dependency: dict[str, Any]) -> list[dict[str, Any]]:
    components = {component["id"]: component for component in page["components"]}
    return [components[block] for block in dependency["inputs"]]


def valid(component: dict[str, Any]) -> st.SearchStrategy:
    """A value the page's own browser could send for this component."""
    props = component["props"]
    kind = component["type"]
    if kind in ("radio", "dropdown") and props.get("choices"):
        return st.sampled_from([value for _, value in props["choices"]])
    if kind == "slider":
        return st.floats(props["minimum"], props["maximum"])
    if kind == "dataset":
        return st.integers(0, len(props["samples"]) - 1)
    if kind in ("textbox", "markdown"):
        return st.text(max_size=40)
    return st.none()


def test_the_page_names_no_endpoint_this_test_does_not_cover(page):
    named = {dep["api_name"] for _, dep in events(page) if dep.get("api_visibility") in ("public", "undocumented")}
    assert named == set(NAMED)


@pytest.mark.parametrize("api_name", NAMED)
def test_a_named_endpoint_refuses_anything_wrong_in_a_sentence(preview_app, page, api_name):
    [dependency] = [dep for _, dep in events(page) if dep["api_name"] == api_name]
    shapes = inputs_of(page, dependency)

    @EXAMPLES
    @given(st.data())
    def each(data):
        values = [data.draw(st.one_of(valid(shape), *JUNK), label=shape["type"]) for shape in shapes]
        assert_not_crashed(call(preview_app, api_name, values), (api_name, [repr(v)[:60] for v in values]))

    each()
    # The app still answers, and an example still fills the form (the browser's way and a script's).
    assert call(preview_app, "load_example", [0])[0] == "complete"
    assert queue_call(preview_app, 0, [1])[0] == "complete"


BAD_INDEXES = [999, "x", None, -1, 3, True, 1.5, [0], {"index": 0}, MEGABYTE]


@pytest.mark.parametrize("index", BAD_INDEXES, ids=[repr(index)[:12] for index in BAD_INDEXES])
def test_load_example_refuses_an_index_that_names_no_example(preview_app, index):
    for outcome in (call(preview_app, "load_example", [index]), queue_call(preview_app, 0, [index])):
        assert outcome[0] in ("error", "refused"), outcome
        assert_refusal_sentence(outcome[1], repr(index)[:40])
        reason = "too long" if index is MEGABYTE else "choose 0 to 2"
        assert outcome[1].startswith("Example: ") and reason in outcome[1], outcome


def test_every_event_named_or_not_refuses_junk_in_a_sentence(preview_app, page):
    """Each event, by its fn_index: its inputs all null, all an object, all too long, or none at
    all; a selection's event data missing or malformed. A few at once, as several visitors would."""
    cases: list[tuple[int, list[Any], Any]] = []
    for fn_index, dependency in events(page):
        count = len(dependency["inputs"])
        cases += [(fn_index, [junk] * count, None) for junk in (None, {"a": 1}, "x" * 200_000)]
        cases.append((fn_index, [], None))
        if dependency.get("collects_event_data"):
            cases += [(fn_index, [None] * count, selection) for selection in SELECTIONS]

    def run(case: tuple[int, list[Any], Any]) -> None:
        fn_index, data, selection = case
        name = page["dependencies"][fn_index]["api_name"]
        assert_not_crashed(queue_call(preview_app, fn_index, data, selection), (fn_index, name, selection))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(run, cases))  # re-raises the first failure
    assert call(preview_app, "load_example", [0])[0] == "complete"  # and the app still answers
