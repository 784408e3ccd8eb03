"""The limits behind Gradio's upload route and the key check, on an injected clock: the sliding
window, the upload folder's cap, the middleware itself in process (a body with no Content-Length,
cut off at the limit), and the key checks' limit and kept answers. Through the launched app:
tests/app/test_upload_flood.py."""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path
from typing import Any

import pytest
from gradio.route_utils import MultiPartException, upload_fn
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

from kling.app.identity import Identity
from kling.app.key_check import Checked, KeyChecks, fingerprint
from kling.app.sliding_window import SlidingWindow, take_all
from kling.app.upload_guard import UploadGuard, UploadLimits
from kling.config import Settings
from kling.store.uploads import UploadShelf

MB = 1 << 20


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the sliding window ------------------------------------------------------------------------------


def test_a_window_refuses_past_its_limit_until_enough_has_slid_out_and_keys_are_apart():
    clock = Clock()
    window = SlidingWindow(100, 600, clock=clock)
    assert window.take("a", 60) == 0.0
    clock.now += 100
    assert window.take("a", 30) == 0.0
    assert window.take("a", 20) == pytest.approx(500)  # the first 60 slide out at 1600
    assert window.used("a") == 90  # the refused 20 were not counted
    assert window.take("b", 100) == 0.0  # another key is not touched
    assert window.wait("a", 101) == math.inf  # more than the limit never fits
    clock.now += 500
    assert window.take("a", 70) == 0.0 and window.used("a") == 100
    clock.now += 600
    assert window.used("a") == 0


def test_take_all_takes_from_every_window_or_from_none():
    clock = Clock()
    files, size = SlidingWindow(2, 60, clock=clock), SlidingWindow(10, 60, clock=clock)
    assert take_all([(files, "a", 1), (size, "a", 8)]).ok
    refused = take_all([(files, "a", 1), (size, "a", 8)])
    assert refused.refused_by == 1 and refused.wait_s == pytest.approx(60)
    assert files.used("a") == 1 and size.used("a") == 8  # the refused take left the count as it was


def test_a_window_forgets_keys_whose_time_has_passed():
    clock = Clock()
    window = SlidingWindow(5, 60, clock=clock, prune_every=10)
    for n in range(9):
        window.take(f"address-{n}")
    clock.now += 61
    window.take("late")  # the tenth take prunes
    assert list(window._entries) == ["late"]


# -- the upload folder's cap -------------------------------------------------------------------------


def stored(folder: Path, name: str, size: int) -> str:
    path = folder / name[:8] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return str(path)


def test_the_folder_cap_removes_the_least_recently_used_file_past_its_keep_time(tmp_path):
    clock = Clock()
    shelf = UploadShelf(tmp_path, 10 * MB, keep_s=600, clock=clock)
    first, second = stored(tmp_path, "first.png", 4 * MB), stored(tmp_path, "second.png", 4 * MB)
    shelf.stored([first, second])
    assert shelf.reserve(4 * MB) > 0  # both younger than keep_s: nothing may go yet
    clock.now += 300
    shelf.used(first)  # a run read the first upload: it is in use again
    clock.now += 301
    assert shelf.reserve(4 * MB) == 0.0
    assert not os.path.exists(second) and not Path(second).parent.exists()  # the oldest unused went
    assert os.path.exists(first)
    assert shelf.size() == 4 * MB


def test_the_folder_cap_says_how_long_until_room_and_counts_uploads_under_way(tmp_path):
    clock = Clock()
    shelf = UploadShelf(tmp_path, 10 * MB, keep_s=600, clock=clock)
    shelf.stored([stored(tmp_path, "a.png", 6 * MB)])
    clock.now += 100
    assert shelf.reserve(4 * MB) == 0.0  # held for an upload being written
    assert shelf.reserve(1 * MB) == pytest.approx(500)  # a.png may go in 500 s
    shelf.release(4 * MB)
    assert shelf.reserve(1 * MB) == 0.0
    assert shelf.reserve(20 * MB) == math.inf  # more than the cap never fits


def test_the_folder_cap_never_touches_files_outside_its_folder_or_ones_gradio_removed(tmp_path):
    clock = Clock()
    shelf = UploadShelf(tmp_path / "uploads", 10 * MB, keep_s=1, clock=clock)
    outside = stored(tmp_path / "elsewhere", "keep.png", 8 * MB)
    gone = stored(tmp_path / "uploads", "gone.png", 8 * MB)
    shelf.stored([outside, gone])
    assert shelf.size() == 8 * MB  # the outside file was never counted
    os.unlink(gone)  # Gradio's own age limit removed it
    assert shelf.reserve(9 * MB) == 0.0 and os.path.exists(outside)


# -- the middleware, in process ----------------------------------------------------------------------

BOUNDARY = "kling-test-boundary"


def body(size: int, name: str = "flood.bin") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'.encode()
    return head + b"z" * size + f"\r\n--{BOUNDARY}--\r\n".encode()


def gradio_upload_route(folder: Path):
    """What Gradio's `/gradio_api/upload` does (its own upload_fn), as a bare ASGI app."""

    async def route(scope: dict, receive: Any, send: Any) -> None:
        try:
            files, _, _ = await upload_fn(Request(scope, receive), str(folder), math.inf, None)
            response: Any = JSONResponse(files)
        except MultiPartException as exc:
            response = PlainTextResponse(exc.message, status_code=400)
        await response(scope, receive, send)

    return route


def post(guard: UploadGuard, data: bytes, *, length: bool, address: str = "203.0.113.7") -> tuple[int, dict, str]:
    """One POST through the guard in 64 KB pieces: (status, headers, text)."""
    headers = [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]
    headers += [(b"content-length", str(len(data)).encode())] if length else []
    scope = {"type": "http", "method": "POST", "path": "/gradio_api/upload", "headers": headers}
    scope |= {"client": (address, 5555), "query_string": b""}
    pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    sent: list[dict] = []

    async def receive() -> dict:
        if not pieces:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": pieces.pop(0), "more_body": bool(pieces)}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, text


def guard_for(folder: Path, **settings: Any) -> UploadGuard:
    config = Settings(**({"upload_window_bytes": 1 * MB, "uploads_per_window": 10} | settings))
    shelf = UploadShelf(folder, config.uploads_bytes, keep_s=config.upload_keep_s)
    return UploadGuard(
        gradio_upload_route(folder), limits=UploadLimits.from_settings(config), shelf=shelf, settings=config
    )


def files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_declared_body_past_the_window_is_refused_before_gradio_reads_it(tmp_path):
    guard = guard_for(tmp_path)
    assert post(guard, body(600_000, "one.bin"), length=True)[0] == 200
    status, headers, text = post(guard, body(600_000, "two.bin"), length=True)
    assert status == 429 and "uploaded 1 MB in the last 10 min" in text, text
    assert int(headers["retry-after"]) > 0
    assert [path.name for path in files_in(tmp_path)] == ["one.bin"]
    assert post(guard, body(600_000, "three.bin"), length=True, address="198.51.100.2")[0] == 200
    status, _, text = post(guard, body(2 * MB), length=True, address="192.0.2.9")
    assert status == 413 and "over 1 MB" in text


def test_a_streamed_body_is_cut_off_at_the_limit_and_gradio_deletes_the_part_it_wrote(tmp_path):
    guard = guard_for(tmp_path)
    assert post(guard, body(300_000, "small.bin"), length=False)[0] == 200
    status, headers, text = post(guard, body(3 * MB, "flood.bin"), length=False)
    assert status == 429 and "uploaded 1 MB" in text and "retry-after" in headers, text
    assert [path.name for path in files_in(tmp_path)] == ["small.bin"]  # nothing of the flood is left
    assert guard.limits.bytes.used("address:203.0.113.7") <= 1 * MB


def test_uploads_past_the_files_per_window_are_refused(tmp_path):
    guard = guard_for(tmp_path, uploads_per_window=3)
    assert [post(guard, body(10, f"{n}.bin"), length=True)[0] for n in range(4)] == [200, 200, 200, 429]


def test_the_guard_counts_the_uploads_it_let_through_under_the_folder_cap(tmp_path):
    guard = guard_for(tmp_path, upload_window_bytes=10 * MB, uploads_bytes=1 * MB)
    assert post(guard, body(700_000, "a.bin"), length=True)[0] == 200
    assert guard.shelf.size() == 700_000
    status, headers, text = post(guard, body(700_000, "b.bin"), length=True)
    assert status == 503 and "full of files still in use" in text and "retry-after" in headers


# -- the key checks ----------------------------------------------------------------------------------


def who(address: str, visitor: str | None = None) -> Identity:
    return Identity(
        owner="web:x", browser_token=None, visitor=visitor or f"ip:{address}", address=address, signed_in=False
    )


def test_key_checks_are_limited_per_address_and_per_visitor_and_answers_are_kept_by_fingerprint():
    clock = Clock()
    checks = KeyChecks(2, keep_s=600, clock=clock)
    assert checks.take(who("1.2.3.4")) == 0.0 and checks.take(who("1.2.3.4")) == 0.0
    assert checks.take(who("1.2.3.4")) == pytest.approx(60)
    assert checks.take(who("5.6.7.8", visitor="hf:ann")) == 0.0
    assert checks.take(who("5.6.7.8", visitor="hf:ann")) == 0.0
    assert checks.take(who("9.9.9.9", visitor="hf:ann")) > 0  # the same signed-in user, a new address
    checks.remember("wsk_made_up", Checked(False))
    assert checks.known("wsk_made_up") == Checked(False) and checks.known("wsk_other") is None
    assert (
        all("wsk_made_up" not in digest for digest in checks._answers) and fingerprint("wsk_made_up") in checks._answers
    )
    clock.now += 601
    assert checks.known("wsk_made_up") is None
    assert "2 times a minute" in checks.refusal("en", 30) and "2 次" in checks.refusal("zh", 30)
