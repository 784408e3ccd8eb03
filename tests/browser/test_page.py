"""The page in a real browser: Debian's Chromium driven by Playwright (sync API) against
`python app.py` launched for real, twice: preview mode (no key, the in-process simulator) and live
mode against the simulator on loopback, which requires the key the app was given.

Never `playwright install`: it downloads a browser build, which cannot work here. Without
/usr/bin/chromium these tests skip outside CI (`apt-get install -y chromium`) and fail in CI.

Tests run in file order on purpose: the bad-input test counts every request the simulator
received, so it comes before the one that leaves a task polling in the background (Stop waiting).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from kling.examples import STARTERS, T2V_EXAMPLES
from kling.preview.simulator import SimConfig, Simulator
from kling.store.journal import Journal
from tests.helpers.browser import (
    CLIP_TIMEOUT,
    LOADED_JS,
    PHONE,
    TASK_ID,
    UI_TIMEOUT,
    count,
    open_tab,
    panel,
    prompt_box,
    status,
)
from tests.helpers.launch import LaunchedApp, launch_app, stop
from tests.helpers.media import image_bytes
from tests.helpers.paths import ROOT
from tests.helpers.showcase import make_showcase_dir
from tests.helpers.sim import Served, free_port, serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Locator, expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

WATCH_STATUS = """(el) => {
    window.__statuses = [el.innerText];
    new MutationObserver(() => {
        const text = el.innerText;
        if (text !== window.__statuses[window.__statuses.length - 1]) window.__statuses.push(text);
    }).observe(el, {subtree: true, childList: true, characterData: true});
}"""

VIDEO_METADATA = """(v) => new Promise((resolve) => {
    const read = () => resolve({duration: v.duration, width: v.videoWidth, height: v.videoHeight,
                                readyState: v.readyState, paused: v.paused, currentTime: v.currentTime,
                                src: v.currentSrc});
    if (v.readyState >= 1) read(); else v.addEventListener('loadedmetadata', read, {once: true});
})"""


def clip_metadata(tab: Locator) -> dict:
    video = tab.locator("video[src]")
    expect(video).to_be_visible(timeout=CLIP_TIMEOUT)
    return video.evaluate(VIDEO_METADATA)


def heading(status_text: str) -> tuple[str, int | None]:
    """'⏳ Generating · 0:03\\n\\nTask ...' -> ('Generating', 3); 'Done in 0:06' -> ('Done', 6)."""
    first = status_text.strip().splitlines()[0] if status_text.strip() else ""
    clock = re.search(r"(\d+):(\d\d)\s*$", first)
    seconds = int(clock.group(1)) * 60 + int(clock.group(2)) if clock else None
    words = re.sub(r"[^\w\s]", " ", re.sub(r"(in\s+)?\d+:\d\d\s*$", "", first)).split()
    return " ".join(words), seconds


# -- 1. the page loads clean, in both modes ------------------------------------------------------


@pytest.mark.parametrize("mode, banner", [("preview", "Preview"), ("live", "Live (WaveSpeed API)")])
def test_page_loads_without_errors_with_banner_tabs_and_examples(request, open_page, mode, banner):
    app = request.getfixturevalue(f"{mode}_app")
    opened = open_page(app)
    page = opened.page

    expect(page.locator("#mode-banner")).to_be_visible()
    expect(page.locator("#mode-banner")).to_contain_text(banner)
    if mode == "live":
        expect(page.locator("#mode-banner")).not_to_contain_text("Preview")

    thumbnails = {
        "Image to Video": [starter.title for starter in STARTERS],
        "Text to Video": [f"{example.title} ({example.aspect_ratio})" for example in T2V_EXAMPLES],
    }
    for name, alts in thumbnails.items():
        expect(page.get_by_role("tab", name=name)).to_be_visible()
        tab = open_tab(page, name)
        expect(tab.get_by_role("button", name="Generate")).to_be_visible()
        # Every example thumbnail has its title as alt text, and its image really loads.
        gallery = tab.locator(".kling-examples")
        expect(gallery.locator("img")).to_have_count(len(alts))
        for alt in alts:
            thumb = gallery.get_by_alt_text(alt, exact=True)
            expect(thumb).to_be_visible()
            assert thumb.evaluate(LOADED_JS), f"thumbnail {alt!r} is broken"
        if name == "Image to Video":  # the model page's prompts, as text to use with your own photo
            expect(tab.get_by_text("Prompts from the model page, to use with your own photo")).to_be_visible()
            table = tab.get_by_role("grid")
            # No column names: Gradio would show the translation keys of the inputs' labels there.
            expect(table.get_by_role("columnheader")).to_have_count(0)
            for example in ("A warm, serene park scene", "Portrait outdoors at golden hour", "Cozy indoor scene"):
                expect(table.get_by_text(example)).to_be_visible()
        expect(tab.locator(".prose.kling-showcase-note")).to_have_count(0)  # no showcase: no claim of one

    page.wait_for_timeout(500)  # late errors from the tab switches
    assert opened.console.errors == [], f"console errors on load: {opened.console.errors}"


# -- the prompt helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("tab_name", ["Image to Video", "Text to Video"])
def test_camera_moves_append_and_the_count_follows_typing(preview_app, open_page, tab_name):
    page = open_page(preview_app).page
    tab = open_tab(page, tab_name)
    box = prompt_box(tab)
    expect(count(tab)).to_have_text("0 / 2500 characters")

    box.press_sequentially("a fox")
    expect(count(tab)).to_have_text("5 / 2500 characters")
    box.press("Backspace")
    expect(count(tab)).to_have_text("4 / 2500 characters")

    tab.get_by_role("button", name="Slow push-in").click()
    expect(box).to_have_value("a fo Camera slowly pushes in.")
    expect(count(tab)).to_have_text(f"{len('a fo Camera slowly pushes in.')} / 2500 characters")

    tab.get_by_role("button", name="Orbit").click()  # one move at a time: it replaces the push-in
    expected = "a fo Camera slow orbit."
    expect(box).to_have_value(expected)
    expect(count(tab)).to_have_text(f"{len(expected)} / 2500 characters")

    box.fill("")
    expect(count(tab)).to_have_text("0 / 2500 characters")
    tab.get_by_role("button", name="Gentle pan").click()  # on an empty prompt: the phrase alone
    expect(box).to_have_value("Gentle pan.")
    expect(count(tab)).to_have_text("11 / 2500 characters")


# -- 2. Text to Video, start to finish -----------------------------------------------------------


def test_t2v_9_16_streams_its_stages_and_plays_a_5_s_portrait_clip(preview_app, open_page):
    opened = open_page(preview_app)
    page = opened.page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper lantern rising over a night harbour. Camera slowly pushes in.")
    tab.get_by_label("9:16").check()
    expect(tab.get_by_label("9:16")).to_be_checked()
    expect(status(tab)).to_have_text("Ready.")
    status(tab).evaluate(WATCH_STATUS)

    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)

    statuses = [s for s in page.evaluate("window.__statuses") if s.strip() and s.strip() != "Ready."]
    stages = [heading(s) for s in statuses]
    running = [(words, secs) for words, secs in stages if not words.startswith("Done")]
    names = {words for words, _ in stages}
    assert running, f"no in-progress status was ever shown: {statuses}"
    assert len(names) >= 2 and any(n.startswith("Done") for n in names), f"stages seen: {names}"
    assert names & {"Queued at WaveSpeed", "Queued (simulated)", "Generating"}, f"stages seen: {names}"
    clocks = [secs for _, secs in running if secs is not None]
    assert clocks and max(clocks) > min(clocks), f"the elapsed counter never moved: {clocks}"
    assert clocks == sorted(clocks), f"the elapsed counter went backwards: {clocks}"
    assert TASK_ID.search(statuses[-1]), statuses[-1]

    meta = clip_metadata(tab)
    assert 4.5 <= meta["duration"] <= 5.5, meta
    assert meta["width"] > 0 and abs(meta["width"] / meta["height"] - 9 / 16) < 0.01, meta
    expect(tab.get_by_text("free (preview)")).to_be_visible()
    assert opened.console.errors == [], opened.console.errors


# -- 3. Image to Video from an example -----------------------------------------------------------


def test_i2v_upload_then_example_then_a_clip_plays(preview_app, open_page):
    opened = open_page(preview_app)
    page = opened.page
    tab = open_tab(page, "Image to Video")
    start_image = tab.locator('[data-testid="image"]').first

    tab.locator('input[type="file"]').first.set_input_files(ROOT / "assets" / "rocket.jpg")
    expect(start_image.locator("img")).to_have_attribute("src", re.compile(r"rocket"))

    tab.locator(".kling-examples").get_by_alt_text("Espresso", exact=True).click()
    espresso = STARTERS[2]
    expect(prompt_box(tab)).to_have_value(espresso.prompt)
    expect(tab.get_by_label("Negative prompt")).to_have_value(espresso.negative_prompt)
    expect(start_image.locator("img")).to_have_attribute("src", re.compile(r"coffee"))
    expect(status(tab)).to_have_text("Ready.")  # no showcase clip: the example only fills the form

    tab.get_by_role("button", name="Generate").click()
    meta = clip_metadata(tab)
    assert meta["readyState"] >= 1 and 4.5 <= meta["duration"] <= 5.5, meta
    with Image.open(ROOT / "assets" / "coffee.png") as photo:
        assert abs(meta["width"] / meta["height"] - photo.width / photo.height) < 0.02, (meta, photo.size)
    video = tab.locator("video[src]")
    # It plays: autoplay is on, so the playhead moves (or at least the element is not paused).
    page.wait_for_function("(v) => v.currentTime > 0.3 || !v.paused", arg=video.element_handle(), timeout=UI_TIMEOUT)
    expect(status(tab)).to_contain_text("Done")
    assert opened.console.errors == [], opened.console.errors


# -- 4. bad input never leaves the browser's server ----------------------------------------------


def test_bad_input_shows_the_limit_and_sends_nothing(live_app, open_page, tmp_path):
    simulator = live_app.simulator
    opened = open_page(live_app)
    page = opened.page
    before = len(simulator.log)

    tab = open_tab(page, "Image to Video")
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(image_bytes(200, 200))
    tab.locator('input[type="file"]').first.set_input_files(tiny)
    expect(tab.locator('[data-testid="image"]').first.locator("img")).to_be_visible()
    prompt_box(tab).fill("Camera slowly pushes in.")
    tab.get_by_role("button", name="Generate").click()
    # Beside the image or in a toast: anywhere on the page, as long as a visitor sees it.
    expect(page.get_by_text(re.compile(r"\b300\b")).filter(visible=True).first).to_be_visible()
    expect(status(tab)).to_contain_text(re.compile(r"Not sent.*\b300\b"))  # repeated where the eye is
    expect(tab.locator("video[src]")).to_have_count(0)

    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("x" * 2600)
    expect(count(tab)).to_have_text("⚠️ 2600 / 2500 characters: 100 over the limit")
    tab.get_by_role("button", name="Generate").click()
    limit = page.get_by_text(re.compile(r"2500")).filter(visible=True)
    # ...other than the live counter, which shows 2500 all the time.
    expect(limit.filter(has_not_text=re.compile(r"/ 2500 characters")).first).to_be_visible()
    expect(status(tab)).to_contain_text(re.compile(r"Not sent.*2500"))

    page.wait_for_timeout(1000)  # anything sent late would show in the log by now
    assert len(simulator.log) == before, [(r.method, r.path) for r in list(simulator.log)[before:]]
    # The refusals are HTTP 422 answers from the app, which Chromium logs as failed loads; nothing else.
    unexpected = [e for e in opened.console.errors if "422" not in e]
    assert unexpected == [], unexpected


# -- 5. Stop waiting -----------------------------------------------------------------------------


def test_stop_waiting_leaves_one_task_and_names_it(live_app, open_page):
    simulator = live_app.simulator
    submits_before = len(simulator.submits())
    saved = simulator.config.process_s
    simulator.config.process_s = 600.0  # a task that will not finish during the test
    try:
        page = open_page(live_app).page
        tab = open_tab(page, "Text to Video")
        prompt_box(tab).fill("A long, slow sunrise over the sea. Camera slowly pushes in.")
        tab.get_by_role("button", name="Generate").click()
        expect(status(tab)).to_contain_text(TASK_ID, timeout=30_000)
        task_id = TASK_ID.search(status(tab).inner_text()).group(1)

        tab.get_by_role("button", name="Stop waiting").click()
        expect(status(tab)).to_contain_text("Stopped waiting")
        expect(status(tab)).to_contain_text(task_id)
        page.wait_for_timeout(2500)  # the stream is cancelled: no later update paints over it
        expect(status(tab)).to_contain_text("Stopped waiting")
        expect(tab.locator("video[src]")).to_have_count(0)
        expect(tab.get_by_role("button", name="Generate")).to_be_enabled()
    finally:
        simulator.config.process_s = saved
    submits = simulator.submits()[submits_before:]
    assert len(submits) == 1, [(r.method, r.path) for r in submits]
    assert task_id in set(simulator.tasks), "the task id shown is not the one the API made"


# -- 6. a phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tab_name", ["Image to Video", "Text to Video"])
def test_phone_has_no_sideways_overflow_and_generate_is_reachable(preview_app, open_page, tab_name):
    page = open_page(preview_app, viewport=PHONE, is_mobile=True, has_touch=True).page
    tab = open_tab(page, tab_name)
    page.wait_for_timeout(300)  # let the layout settle after the tab switch
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    # With mobile emulation (the page's viewport meta is honoured) content wider than the screen
    # widens the layout viewport instead of scrolling, so innerWidth grows past 390: overflow too.
    assert inner_width == PHONE["width"], f"content wider than the phone widened the page to {inner_width}px"
    assert scroll_width <= inner_width + 1, f"the page scrolls sideways: {scroll_width} > {inner_width}"

    expect(tab.get_by_role("button", name="Stop waiting")).to_be_hidden()  # shown only during a run
    for name in ("Generate",):
        button = tab.get_by_role("button", name=name)
        button.scroll_into_view_if_needed()
        expect(button).to_be_visible()
        expect(button).to_be_enabled()
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner_width + 1, (name, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (name, box)


# -- 7. the showcase: a real clip beside its example, free, with no request ----------------------

VIDEO_BYTES = """async (src) => {
    const bytes = await (await fetch(src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    return {size: bytes.byteLength, sha256: hex};
}"""


@pytest.fixture(scope="module")
def showcase_app(tmp_path_factory) -> Iterator[tuple[LaunchedApp, Path, Served]]:
    """`python app.py` in preview mode with KLING_SHOWCASE_DIR set to a showcase made here (one
    starter and one Text to Video example rendered locally), and WAVESPEED_BASE_URL pointing at a
    served simulator, which therefore sees any request that would have gone to the API."""
    tmp = tmp_path_factory.mktemp("showcase")
    show = tmp / "show"
    make_showcase_dir(show, [STARTERS[0], T2V_EXAMPLES[2]])
    simulator = Simulator(SimConfig())
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    url = f"http://127.0.0.1:{port}"
    app = launch_app(tmp, {"KLING_SHOWCASE_DIR": str(show), "WAVESPEED_BASE_URL": url})
    try:
        yield app, show, Served(simulator, url)
    finally:
        stop(app)
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


def test_clicking_an_example_with_a_showcase_clip_shows_that_clip_free_without_generate(showcase_app, open_page):
    app, show, api = showcase_app
    opened = open_page(app)
    page = opened.page
    expect(page.locator("#mode-banner")).to_contain_text("Preview")
    tab = open_tab(page, "Image to Video")
    note = tab.locator(".prose.kling-showcase-note")
    expect(note).to_contain_text("the only real Kling clips on this page")
    gallery = tab.locator(".kling-examples")
    cat = gallery.get_by_alt_text(f"{STARTERS[0].title} · 🎬 Kling clip", exact=True)
    expect(cat).to_be_visible()  # its poster frame, not the photo
    assert cat.evaluate("img => img.complete && img.naturalWidth === 320"), "the poster frame did not load"
    expect(cat).to_have_attribute("src", re.compile(rf"{STARTERS[0].key}\.jpg$"))

    cat.click()
    expect(status(tab)).to_contain_text("Kling's output for this example, made 2026-11-20: free to watch")
    expect(prompt_box(tab)).to_have_value(STARTERS[0].prompt)
    expect(tab.locator('[data-testid="image"]').first.locator("img")).to_have_attribute("src", re.compile("chelsea"))
    clip = show / f"{STARTERS[0].key}.mp4"
    manifest = json.loads((show / "manifest.json").read_text())["clips"][STARTERS[0].key]
    expect(tab.get_by_text(manifest["task_id"])).to_be_visible()
    video = tab.locator("video[src]")
    expect(video).to_have_count(1)
    served = page.evaluate(VIDEO_BYTES, video.get_attribute("src"))
    assert served == {"size": clip.stat().st_size, "sha256": hashlib.sha256(clip.read_bytes()).hexdigest()}

    # An example without a clip only fills the form: the panel keeps the clip it was showing.
    gallery.get_by_alt_text("Espresso", exact=True).click()
    expect(prompt_box(tab)).to_have_value(STARTERS[2].prompt)
    expect(status(tab)).to_contain_text(STARTERS[0].title)

    tab = open_tab(page, "Text to Video")
    tab.locator(".kling-examples").get_by_alt_text(f"{T2V_EXAMPLES[2].title} (1:1) · 🎬 Kling clip").click()
    expect(status(tab)).to_contain_text("free to watch")
    expect(tab.get_by_label("1:1")).to_be_checked()
    t2v_clip = show / f"{T2V_EXAMPLES[2].key}.mp4"
    served = page.evaluate(VIDEO_BYTES, tab.locator("video[src]").get_attribute("src"))
    assert served["sha256"] == hashlib.sha256(t2v_clip.read_bytes()).hexdigest()

    page.wait_for_timeout(1000)  # anything sent late would show by now
    assert len(api.simulator.log) == 0, [(r.method, r.path) for r in api.simulator.log]
    assert Journal(app.data_dir / "jobs.sqlite3").all() == [], "a click started a task"


# -- 8. continue a clip, then stitch the two -----------------------------------------------------


def test_continue_a_preview_clip_into_image_to_video_then_stitch_both_in_history(preview_app, open_page):
    opened = open_page(preview_app)
    page = opened.page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper kite climbs over the dunes. Camera slowly pushes in.")
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    first = TASK_ID.search(status(tab).inner_text()).group(1)
    first_seconds = clip_metadata(tab)["duration"]

    tab.get_by_role("button", name="Continue from the last frame").click()
    expect(page.get_by_role("tab", name="Image to Video", selected=True)).to_be_visible()
    tab = panel(page)
    expect(tab.locator('[data-testid="image"]').first.locator("img")).to_have_attribute(
        "src", re.compile(rf"{first}\.png")
    )
    expect(prompt_box(tab)).to_have_value("A paper kite climbs over the dunes. Camera slowly pushes in.")
    expect(status(tab)).to_contain_text(f"Continuing task {first}")
    prompt_box(tab).fill("The kite dips and lands on the sand. Camera holds.")
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    second = TASK_ID.search(status(tab).inner_text()).group(1)
    second_seconds = clip_metadata(tab)["duration"]
    assert second != first

    tab = open_tab(page, "History")
    picker = tab.get_by_label("Clips, in the order they play")
    for task in (first, second):
        picker.click()
        page.get_by_role("option", name=re.compile(task[:8])).click()
    page.keyboard.press("Escape")
    tab.get_by_role("button", name="Stitch", exact=True).click()
    film = page.locator("#kling-film video[src]")
    expect(film).to_be_visible(timeout=CLIP_TIMEOUT)
    meta = film.evaluate(VIDEO_METADATA)
    assert abs(meta["duration"] - (first_seconds + second_seconds)) < 0.15, (meta, first_seconds, second_seconds)
    expect(tab.get_by_text("made from simulated clips")).to_be_visible()  # a preview film says so
    expect(tab.get_by_label("Your films")).to_have_value(re.compile(r"2 clips · 10\.0 s · PREVIEW"))

    with sqlite3.connect(preview_app.data_dir / "jobs.sqlite3") as db:
        (continues,) = db.execute("SELECT continues FROM tasks WHERE id = ?", (second,)).fetchone()
    assert continues == first
    assert opened.console.errors == [], opened.console.errors
