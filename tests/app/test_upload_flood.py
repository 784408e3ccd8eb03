"""Hostile visitors through the launched app, over raw HTTP as a script sends it: a flood of POSTs
to Gradio's own upload route (no session, no login), the upload folder's cap, and a key checker
made of `save_key` calls on the page's queue. Several addresses are played over loopback behind
one trusted proxy (`X-Forwarded-For`). The limits' own logic is in tests/app/test_upload_caps.py."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.helpers.fakes import KEY
from tests.helpers.launch import LaunchedApp, launch_app, live_app_on_simulator, stop
from tests.helpers.media import image_bytes
from tests.helpers.sim import sim_config

pytestmark = pytest.mark.slow  # launches the app

MB = 1 << 20
FLOODER, HONEST = "203.0.113.7", "198.51.100.2"


def upload(app: LaunchedApp, content: bytes, name: str, address: str) -> httpx.Response:
    return httpx.post(
        f"{app.url}/gradio_api/upload",
        files={"files": (name, content, "application/octet-stream")},
        headers={"X-Forwarded-For": address},
        timeout=120,
    )


def uploaded(folder: Path) -> dict[str, int]:
    """Every file the upload route keeps (not the clips the page shows): name -> bytes."""
    return {p.name: p.stat().st_size for p in folder.rglob("*") if p.is_file() and "kling-clips" not in p.parts}


# -- a flood of uploads ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uploads_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("upload-flood")
    app = launch_app(tmp, {"KLING_TRUSTED_PROXIES": "1", "GRADIO_TEMP_DIR": str(tmp / "gradio")})
    yield app, tmp / "gradio"
    stop(app)


def test_a_flood_of_uploads_from_one_address_is_refused_past_its_bytes_and_never_reaches_the_disk(uploads_app):
    app, folder = uploads_app
    answers = [upload(app, bytes([n]) * (19 * MB), f"flood-{n}.bin", FLOODER) for n in range(10)]
    codes = [answer.status_code for answer in answers]
    assert codes == [200] * 5 + [429] * 5, codes  # 5 x 19 MB fit in 100 MB; the sixth would not
    refused = answers[5]
    assert "uploaded 100 MB in the last 10 min" in refused.text and int(refused.headers["retry-after"]) > 0
    kept = {name: size for name, size in uploaded(folder).items() if name.startswith("flood-")}
    assert sorted(kept) == [f"flood-{n}.bin" for n in range(5)], sorted(kept)  # no refused body, not a part of one
    assert sum(kept.values()) <= 100 * MB

    honest = upload(app, image_bytes(400, 400), "photo.png", HONEST)  # another address, meanwhile
    assert honest.status_code == 200 and Path(honest.json()[0]).name == "photo.png"
    assert "photo.png" in uploaded(folder)


def test_the_upload_folder_cap_removes_the_oldest_file_no_run_uses(tmp_path):
    folder = tmp_path / "gradio"
    env = {"GRADIO_TEMP_DIR": str(folder), "KLING_UPLOADS_MB": "1", "KLING_UPLOAD_KEEP_S": "1"}
    app = launch_app(tmp_path, env)
    try:
        first = upload(app, noise_png(400, 400), "first.png", HONEST)  # some 480 KB
        second = upload(app, b"2" * 400_000, "second.bin", HONEST)
        assert first.status_code == second.status_code == 200
        time.sleep(1.5)  # both are now past their keep time: either may go
        # A run reads the first upload (its validator decodes it): it is the most recently used now.
        image = {"path": first.json()[0], "meta": {"_type": "gradio.FileData"}}
        assert run_preview(app, image) == "complete"
        third = upload(app, b"3" * 400_000, "third.bin", HONEST)
        assert third.status_code == 200, third.text
        mine = sorted(name for name in uploaded(folder) if name in ("first.png", "second.bin", "third.bin"))
        assert mine == ["first.png", "third.bin"]  # the oldest unused one went; Gradio's own files stay
    finally:
        stop(app)


def noise_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: its size is about 3 bytes a pixel."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def run_preview(app: LaunchedApp, image: dict) -> str:
    """A free preview of image_to_video through /gradio_api/call: its last event's name."""
    data = [image, "a kite over the sea", "", 0.5, 5, None]
    started = httpx.post(f"{app.url}/gradio_api/call/image_to_video", json={"data": data}, timeout=30)
    started.raise_for_status()
    event = ""
    with httpx.stream(
        "GET", f"{app.url}/gradio_api/call/image_to_video/{started.json()['event_id']}", timeout=120
    ) as s:
        for line in s.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event in ("complete", "error"):
                    return event
    return event


# -- a key checker -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    config = sim_config(api_key=KEY, queue_s=0.1, process_s=0.3)
    with live_app_on_simulator(tmp_path_factory.mktemp("key-flood"), config, {"KLING_TRUSTED_PROXIES": "1"}) as app:
        yield app


def save_key_event(url: str) -> tuple[int, int]:
    """The key panel's Save click: (its event's id, its button's id), read from /config."""
    config = httpx.get(f"{url}/config", timeout=10).json()
    buttons = [c for c in config["components"] if c["type"] == "button"]
    (button,) = [c["id"] for c in buttons if "key.save" in str(c["props"].get("value"))]
    (event,) = [d["id"] for d in config["dependencies"] if [button, "click"] in [list(t) for t in d["targets"]]]
    return event, button


def save_key(url: str, key: str, address: str) -> str:
    """What a browser sends when "Save" is clicked (the raw queue protocol, a fresh session): the
    words of the key panel's answer."""
    event, button = save_key_event(url)
    session, headers = uuid.uuid4().hex, {"X-Forwarded-For": address}
    body = {"data": [key, None, 5, 5], "fn_index": event, "trigger_id": button, "session_hash": session}
    joined = httpx.post(f"{url}/gradio_api/queue/join", json=body, headers=headers, timeout=30)
    assert joined.status_code == 200, joined.text
    params = {"session_hash": session}
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params=params, headers=headers, timeout=60) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                assert message.get("success"), message
                return json.dumps(message["output"]["data"], ensure_ascii=False)
    raise AssertionError("the event never completed")


def balance_requests(app: LaunchedApp) -> int:
    assert app.simulator is not None
    return len(app.simulator.requests("GET", "/balance"))


def test_forty_parallel_key_checks_from_one_address_ask_wavespeed_at_most_five_times(live):
    before = balance_requests(live)
    keys = [f"wsk_made_up_{n:02d}_{uuid.uuid4().hex}" for n in range(40)]
    with ThreadPoolExecutor(40) as pool:
        said = list(pool.map(lambda key: save_key(live.url, key, FLOODER), keys))
    asked = balance_requests(live) - before
    refused = [words for words in said if "times a minute per visitor and per address" in words]
    assert 1 <= asked <= 5 and len(refused) == 40 - asked, (asked, len(refused))
    assert all("nothing was sent" in words for words in refused)
    checked = next(key for key, words in zip(keys, said) if "refused that key (401)" in words)

    # The same key again, even from the flooding address: answered from what WaveSpeed said, no request.
    assert "refused that key (401)" in save_key(live.url, checked, FLOODER)
    assert balance_requests(live) - before == asked

    # Another address checks a real key: asked once, then answered from memory.
    assert "is saved in this browser" in save_key(live.url, KEY, HONEST)
    assert "is saved in this browser" in save_key(live.url, KEY, HONEST)
    assert balance_requests(live) - before == asked + 1
