"""Bounded memory under hostile images: a small file declaring a huge picture is refused from its
header, on the page's component and in prepare_image, before anything is decoded.

Pillow keeps pixels in C memory that tracemalloc does not see, so peaks are measured as the
process's peak resident memory (VmHWM), reset before each measurement through /proc/self/clear_refs;
a control decode shows the measurement does see a real decode. tracemalloc covers Python's own
allocations (the bytes read, any copies)."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import io
import struct
import threading
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import pytest
from gradio.data_classes import ImageData
from PIL import Image

from kling.app.image_input import ImageInput
from kling.errors import ValidationError
from kling.media import images
from kling.media.images import IMAGE_MAX_PIXELS, check_declared_size, prepare_image
from tests.helpers.media import SIDE, bomb_png

MB = 2**20
REFUSAL = f"the image declares {SIDE}x{SIDE} px (169 megapixels); the limit is 89 megapixels; resize it and try again"


@pytest.fixture(scope="module")
def bomb_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(bomb_png())
    return path


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _release_free_memory() -> None:
    """Hand the allocator's free pages back to the system (glibc's malloc_trim): freed memory that
    earlier tests left resident would otherwise be reused unseen by the next decode."""
    # Not glibc: nothing to trim; the control test says whether the measurement still works.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def peak_rise_mb(action: Callable[[], object]) -> tuple[float, float]:
    """(rise of the process's peak resident memory, tracemalloc peak), both in MB, while `action` runs."""
    _release_free_memory()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size
    except OSError:
        pytest.skip("peak resident memory cannot be reset here")
    before = _peak_rss_mb()
    tracemalloc.start()
    try:
        action()
        traced = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    return _peak_rss_mb() - before, traced


def test_the_hostile_file_is_small_valid_and_as_large_as_it_claims(bomb_file):
    assert 150_000 < bomb_file.stat().st_size < 200_000
    with Image.open(bomb_file) as im:
        assert im.size == (SIDE, SIDE) and im.mode == "L"


def test_the_measurement_sees_a_real_decode():
    # 81 MB of pixels once decoded; the allocator's free pages are handed back first, so the rise is
    # seen whatever ran before in this process.
    control = bomb_png(9000)

    def decode():
        with Image.open(io.BytesIO(control)) as im:
            im.load()

    rise, _ = peak_rise_mb(decode)
    assert rise > 30


def test_prepare_image_refuses_the_bomb_from_its_header_without_decoding(bomb_file):
    def refuse():
        with pytest.raises(ValidationError) as caught:
            prepare_image(bomb_file)
        assert str(caught.value) == f"image: {REFUSAL}"

    rise, traced = peak_rise_mb(refuse)
    assert rise < 50 and traced < 5  # the 164 KB read, not the 169 MB (or 507 MB as RGB) decode


def test_the_page_component_refuses_the_bomb_before_any_decode(bomb_file):
    component = ImageInput(label="Start image")

    def refuse():
        with pytest.raises(gr.Error) as caught:
            component.preprocess(ImageData(path=str(bomb_file), orig_name="bomb.png"))
        assert caught.value.message == f"Start image: {REFUSAL}"

    rise, _ = peak_rise_mb(refuse)
    assert rise < 50


def test_a_plain_gr_image_would_decode_it_which_is_why_the_page_must_change(bomb_file):
    # The premise of ImageInput: Gradio's own filepath preprocess converts an "L" PNG to RGB.
    plain = gr.Image(type="filepath")
    small = bomb_file.with_name("grey.png")
    small.write_bytes(bomb_png(400))
    converted = plain.preprocess(ImageData(path=str(small), orig_name="grey.png"))
    assert converted != str(small)  # a re-encoded copy: the pixels were decoded
    assert ImageInput().preprocess(ImageData(path=str(small), orig_name="grey.png")) == str(small)


def test_a_data_uri_payload_is_checked_from_its_header_too(bomb_file):
    uri = "data:image/png;base64," + base64.b64encode(bomb_file.read_bytes()).decode()
    component = ImageInput(label="End image")

    def refuse():
        with pytest.raises(gr.Error, match="the limit is 89 megapixels"):
            component.preprocess(ImageData(path=str(bomb_file), url=uri))

    rise, _ = peak_rise_mb(refuse)
    assert rise < 50


def test_a_good_upload_passes_through_the_component_untouched(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGBA", (640, 480), (10, 20, 30, 128)).save(path)
    before = path.read_bytes()
    assert ImageInput().preprocess(ImageData(path=str(path), orig_name="photo.png")) == str(path)
    assert path.read_bytes() == before
    assert ImageInput().preprocess(None) is None


def test_three_bombs_at_once_in_threads_stay_bounded(bomb_file):
    component = ImageInput(label="Start image")
    messages: list[str] = []

    def one(kind: int) -> None:
        try:
            if kind == 0:
                prepare_image(bomb_file)
            else:
                component.preprocess(ImageData(path=str(bomb_file), orig_name="bomb.png"))
        except (ValidationError, gr.Error) as exc:
            messages.append(str(exc) if isinstance(exc, ValidationError) else exc.message)

    def burst():
        threads = [threading.Thread(target=one, args=(n % 2,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    rise, _ = peak_rise_mb(burst)
    assert rise < 100
    assert len(messages) == 3 and all(m.endswith(REFUSAL) for m in messages)


def test_over_twice_the_limit_pillow_refuses_and_the_message_still_names_the_limit():
    header_only = _png_header(20000, 20000)
    for check in (prepare_image, check_declared_size):
        with pytest.raises(ValidationError, match="400 megapixels; the limit is 89 megapixels"):
            check(header_only)


def test_exactly_the_limit_is_not_refused_by_the_header_check():
    side = int(IMAGE_MAX_PIXELS**0.5)
    assert side * side <= IMAGE_MAX_PIXELS
    check_declared_size(_png_header(side, side))  # no exception
    with pytest.raises(ValidationError, match="the limit is 89 megapixels"):
        check_declared_size(_png_header(side + 1, side + 1))


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


def test_pillows_own_limit_is_kept_at_least_as_strict_as_ours(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    ImageInput()
    assert Image.MAX_IMAGE_PIXELS == IMAGE_MAX_PIXELS


def test_decoding_is_bounded_to_the_slots_and_a_waiter_is_refused_after_the_wait(monkeypatch):
    good = io.BytesIO()
    Image.new("RGB", (400, 400), "white").save(good, "PNG")
    monkeypatch.setattr(images, "DECODE_WAIT_S", 0.05)
    for _ in range(images.DECODE_SLOTS):
        assert images._decoding.acquire(timeout=1)  # every slot busy, as during a burst of decodes
    try:
        with pytest.raises(ValidationError, match="busy reading other images"):
            prepare_image(good.getvalue())
    finally:
        for _ in range(images.DECODE_SLOTS):
            images._decoding.release()
    assert prepare_image(good.getvalue()).width == 400  # a free slot: decoded


@pytest.mark.slow
def test_a_launched_app_refuses_the_bomb_and_an_oversized_upload_before_the_handler_runs(tmp_path, bomb_file):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from kling.config import Settings
    from tests.helpers.sim import free_port

    calls: list[str] = []

    def handler(path: str) -> str:
        calls.append(path)
        return "ok"

    with gr.Blocks() as demo:
        image = ImageInput(label="Start image")
        out = gr.Textbox()
        gr.Button().click(handler, image, out, api_name="go")
    demo.launch(
        prevent_thread_lock=True, quiet=True, server_port=free_port(), max_file_size=Settings().gradio_max_file_size
    )
    try:
        client = Client(demo.local_url, verbose=False)
        with pytest.raises(AppError, match="Start image: the image declares 13000x13000 px"):
            client.predict(handle_file(str(bomb_file)), api_name="/go")

        def three_at_once() -> None:
            jobs = [client.submit(handle_file(str(bomb_file)), api_name="/go") for _ in range(3)]
            for job in jobs:
                with pytest.raises(AppError, match="the limit is 89 megapixels"):
                    job.result(timeout=60)

        rise, _ = peak_rise_mb(three_at_once)  # the server runs in this process: its memory is measured
        assert rise < 100  # the target is 500 MB; a plain gr.Image took ~1.6 GB per upload
        big = tmp_path / "big.png"
        with open(big, "wb") as f:
            f.truncate(25 * MB)  # over the 20 MB upload limit (sparse: nothing is written)
        with pytest.raises(ValueError, match="exceeds the maximum file size"):
            client.predict(handle_file(str(big)), api_name="/go")
        good = tmp_path / "good.png"
        Image.new("L", (640, 480), 128).save(good)
        assert client.predict(handle_file(str(good)), api_name="/go") == "ok"
    finally:
        demo.close()
    assert len(calls) == 1 and Path(calls[0]).read_bytes() == good.read_bytes()  # the file as uploaded
