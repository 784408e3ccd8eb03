"""What a first visit waits for: the server requests the page makes as it opens, before its form is
usable. Each one is a round trip and a redraw on the visitor's device before Generate answers a
click (bench/page.py measures the time; this counts the requests, which do not vary with load)."""

from __future__ import annotations

import httpx
import pytest

from .conftest import LaunchedApp

# The opening's server requests: the visitor's return (session, key, language, a link's form and
# its note, in one), the Lab's price, the Usage tab's reveal for administrators, and a shared
# link's start image. There were six.
MAX_OPENING_REQUESTS = 4


@pytest.mark.slow
def test_the_page_opens_with_at_most_four_server_requests_and_one_carries_the_visitor_and_the_link(
    preview_app: LaunchedApp,
):
    config = httpx.get(f"{preview_app.url}/config", timeout=30).json()
    opening = [d for d in config["dependencies"] if d["backend_fn"] and any(t[1] == "load" for t in d["targets"])]
    assert len(opening) <= MAX_OPENING_REQUESTS, [d.get("api_name") for d in opening]
    # The visitor's return, the form a link fills and the link's note come back in one answer.
    ids = {c["id"]: c for c in config["components"]}
    types = [{ids[o]["type"] for o in d["outputs"]} for d in opening]
    assert any({"browserstate", "tabs", "markdown", "image", "textbox"} <= kinds for kinds in types), types
