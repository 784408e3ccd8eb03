"""A first visit in a real browser: what a newcomer sees and gets, at 1280x900 and on a 390x844
phone. Same browser, app fixtures and rules as tests/browser/test_page.py (Debian's Chromium, never
`playwright install`; wait for elements, never for network idle: Gradio keeps a stream open)."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import (
    CLIP_TIMEOUT,
    IN_CI,
    LAPTOP,
    PHONE,
    SIZES,
    count,
    in_view,
    open_tab,
    panel,
    prompt_box,
    run_two_lab_variants,
    status,
)
from tests.helpers.fakes import KEY
from tests.helpers.paths import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

# -- a link from each tab round-trips every setting it carries ------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_an_i2v_link_round_trips_tab_prompt_negative_guidance_and_duration(preview_app, open_page, size):
    opened = open_page(preview_app, permissions=["clipboard-read", "clipboard-write"], **SIZES[size])
    page = opened.page
    tab = open_tab(page, "Image to Video")
    prompt_box(tab).fill("The cat blinks & turns 🐱? 100%")
    tab.get_by_label("Negative prompt").fill("blur, flicker")
    tab.get_by_text("Advanced").click()
    guidance = tab.get_by_label("number input for Guidance scale")
    expect(guidance).to_be_editable()
    # On a loaded machine the page's load events (the visitor restored, a link's settings) can land
    # after the first keystrokes and put the default back: type again until the value holds.
    for _ in range(3):
        guidance.fill("0.8")
        page.wait_for_timeout(300)
        if guidance.input_value() == "0.8":
            break
    expect(guidance).to_have_value("0.8")
    # Tab out, as a visitor would: the slider takes the typed number when the box loses focus, and
    # a click racing that could send 0.5 (seen on a loaded machine).
    guidance.press("Tab")
    expect(tab.get_by_label("range slider for Guidance scale")).to_have_value("0.8")
    tab.get_by_label("10").check()

    tab.get_by_role("button", name="Copy link to these settings").click()
    expect(tab.get_by_role("button", name="✓ Link copied")).to_be_visible()
    link = tab.get_by_placeholder(re.compile("the link")).input_value()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert "tab=i2v" in link and "guidance_scale=0.8" in link and "aspect_ratio" not in link, link

    fresh = open_page(preview_app, **SIZES[size]).page
    fresh.goto(link)
    expect(fresh.get_by_role("tab", name="Image to Video", selected=True)).to_be_visible()
    shared = panel(fresh)
    expect(prompt_box(shared)).to_have_value("The cat blinks & turns 🐱? 100%")
    expect(shared.get_by_label("Negative prompt")).to_have_value("blur, flicker")
    expect(shared.get_by_label("10")).to_be_checked()
    shared.get_by_text("Advanced").click()
    expect(shared.get_by_label("number input for Guidance scale")).to_have_value("0.8")
    assert opened.console.errors == [], opened.console.errors


@pytest.mark.parametrize("size", SIZES)
def test_a_t2v_link_round_trips_its_aspect_ratio_and_lands_on_its_tab(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A kite over a beach")
    tab.get_by_label("9:16").check()
    tab.get_by_label("10").check()
    tab.get_by_role("button", name="Copy link to these settings").click()
    link_box = tab.get_by_placeholder(re.compile("the link"))
    expect(link_box).to_have_value(re.compile("tab=t2v"))
    link = link_box.input_value()

    fresh = open_page(preview_app, **SIZES[size]).page
    fresh.goto(link)
    expect(fresh.get_by_role("tab", name="Text to Video", selected=True)).to_be_visible()
    shared = panel(fresh)
    expect(prompt_box(shared)).to_have_value("A kite over a beach")
    expect(shared.get_by_label("9:16")).to_be_checked()
    expect(shared.get_by_label("10")).to_be_checked()


# -- price, time and key beside Generate, in sight --------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_price_wait_and_key_link_sit_beside_generate_and_follow_the_duration(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    viewport = SIZES[size]["viewport"]
    for name in ("Image to Video", "Text to Video"):
        tab = open_tab(page, name)
        price = tab.locator(".prose.kling-price")
        expect(price).to_contain_text("$1.30 for 5 s")
        expect(price).to_contain_text("minutes")
        expect(price.get_by_role("link", name="Get a WaveSpeed key")).to_have_attribute("href", re.compile("wavespeed"))
        duration = tab.get_by_label("10")
        expect(duration).to_be_visible()  # never under "Advanced"
        duration.check()
        expect(price).to_contain_text("$2.60 for 10 s")
        generate = tab.get_by_role("button", name="Generate")
        generate.evaluate("button => button.scrollIntoView({block: 'center'})")
        # Beside Generate: the two are on screen together.
        assert in_view(price, viewport) and in_view(generate, viewport), (size, name, price.bounding_box())


@pytest.mark.parametrize("size", SIZES)
def test_first_load_shows_generate_on_a_laptop_and_every_tab_on_a_phone_with_no_empty_player(
    preview_app, open_page, size
):
    page = open_page(preview_app, **SIZES[size]).page
    viewport = SIZES[size]["viewport"]
    for name in ("Image to Video", "Text to Video", "Prompt Lab", "History"):
        tab = page.get_by_role("tab", name=name)
        expect(tab).to_be_visible()
        assert in_view(tab, viewport), name
    expect(page.get_by_role("button", name="More tabs")).to_have_count(0)
    tab = panel(page)
    if size == "laptop":
        assert in_view(tab.get_by_role("button", name="Generate"), viewport), "Generate is below the fold"
    # Before any clip the player is already the clip's frame (16:9 until a run says otherwise), not
    # Gradio's 236-480 px empty box.
    frame = tab.locator(".kling-player .empty").bounding_box()
    assert frame is not None and abs(frame["width"] * 9 / 16 - frame["height"]) <= 2, frame


# -- a busy state ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_a_run_disables_generate_counts_time_shows_stop_and_an_estimate_then_renames_the_tab(
    preview_app, open_page, size
):
    opened = open_page(preview_app, **SIZES[size])
    page = opened.page
    tab = open_tab(page, "Text to Video")
    stop = tab.get_by_role("button", name="Stop waiting")
    expect(stop).to_be_hidden()
    prompt_box(tab).fill("A paper lantern rising over a night harbour.")
    tab.get_by_role("button", name="Generate").click()

    busy = tab.get_by_role("button", name=re.compile(r"^Generating… \d+:\d\d$"))
    expect(busy).to_be_visible()
    expect(busy).to_be_disabled()
    expect(stop).to_be_visible()
    expect(status(tab)).to_contain_text(re.compile(r"Estimated progress [▰▱]{10} \d+%"))
    expect(status(tab)).to_contain_text("an estimate, not a measurement")
    # Gradio's own overlay ("1 steps | 0.7s", an ETA) is not on the page: the status panel says it.
    overlay = page.locator(".progress-text, .eta-bar, .meta-text-center, .meta-text").filter(visible=True)
    assert overlay.count() == 0, overlay.evaluate_all(
        "els => els.map(e => e.closest('.block').className + ' | ' + e.closest('.block').innerText.slice(0, 200))"
    )
    expect(page).to_have_title(re.compile("Generating"))

    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    expect(tab.get_by_role("button", name="Generate")).to_be_enabled()
    expect(stop).to_be_hidden()
    expect(page).to_have_title(re.compile("Clip ready"))
    player = tab.locator(".kling-player video[src]")
    expect(player).to_be_visible()
    page.wait_for_function("(v) => v.videoWidth > 0", arg=player.element_handle())
    box = player.bounding_box()  # the player takes the clip's shape (16:9), not a fixed 480 px box
    assert box is not None and abs(box["width"] / box["height"] - 16 / 9) < 0.05, box
    assert box["width"] <= SIZES[size]["viewport"]["width"], box
    assert opened.console.errors == [], opened.console.errors


# -- refusals where the eye is ---------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_a_refusal_shows_in_the_status_panel_and_clears_the_previous_clip(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper lantern rising over a night harbour.")
    tab.get_by_role("button", name="Generate").click()
    expect(tab.locator("video[src]")).to_be_visible(timeout=CLIP_TIMEOUT)

    prompt_box(tab).fill("x" * 2600)
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text(re.compile(r"Not sent, nothing was charged.*2500"))
    expect(tab.locator("video[src]")).to_have_count(0)
    expect(tab.get_by_role("button", name="Generate")).to_be_enabled()


@pytest.mark.parametrize("size", SIZES)
def test_the_counter_counts_an_emoji_as_one_character_like_the_validator(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("🐱" * 2500)
    expect(count(tab)).to_have_text("2500 / 2500 characters")  # UTF-16 would say 5000
    tab.get_by_role("button", name="Generate").click()  # and the server agrees: it runs
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)


# -- the brief asks, camera moves replace ----------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_brief_asks_before_replacing_a_typed_prompt(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("my own careful words")
    tab.get_by_text("Director's brief").click()
    tab.get_by_label("Subject action").fill("the fox turns its head")
    asked = []

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    tab.get_by_role("button", name="Compose the prompt").click()
    page.wait_for_timeout(1000)  # a handler that ignored the answer would have replaced it by now
    expect(prompt_box(tab)).to_have_value("my own careful words")
    assert asked and "Replace" in asked[0]

    page.once("dialog", lambda dialog: dialog.accept())
    tab.get_by_role("button", name="Compose the prompt").click()
    expect(prompt_box(tab)).to_have_value("The fox turns its head.")

    prompt_box(tab).fill("")
    tab.get_by_role("button", name="Compose the prompt").click()  # nothing to lose: no question
    expect(prompt_box(tab)).to_have_value("The fox turns its head.")


@pytest.mark.parametrize("size", SIZES)
def test_camera_moves_are_one_choice(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Image to Video")
    prompt_box(tab).fill("The cat blinks.")
    for move in ("Slow push-in", "Orbit", "Gentle pan"):
        tab.get_by_role("button", name=move).click()
    expect(prompt_box(tab)).to_have_value("The cat blinks. Gentle pan.")


# -- keys that are checked -------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_key_leaves_the_banner_true_and_an_accepted_one_shows_its_end_and_balance(live_app, open_page, size):
    page = open_page(live_app, **SIZES[size]).page
    banner = page.locator("#mode-banner")
    page.get_by_text("Your API key").click()
    box = page.get_by_label("WaveSpeed API key")
    save = page.get_by_role("button", name="Save in this browser")

    box.fill("abc")
    save.click()
    expect(page.get_by_text("WaveSpeed refused that key (401)")).to_be_visible()
    expect(banner).not_to_contain_text("your own key")
    page.reload()  # and nothing was kept in the browser
    expect(panel(page).locator(".prose.kling-price")).to_contain_text("$")
    expect(banner).not_to_contain_text("your own key")

    page.get_by_text("Your API key").click()
    page.get_by_label("WaveSpeed API key").fill(KEY)
    page.get_by_role("button", name="Save in this browser").click()
    expect(page.get_by_text(re.compile(rf"ending in {KEY[-4:]}.*balance \$100\.00"))).to_be_visible()
    expect(banner).to_contain_text("your own key")
    assert KEY not in page.content()


# -- Stop waiting and History tell the truth -------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_after_stop_the_tab_and_history_follow_the_task_until_its_clip_is_saved(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A slow sunrise over the sea.")
    # A 10 s clip: twice the time for Stop to be answered before the task ends, on a loaded machine.
    tab.get_by_label("10").check()
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text(re.compile(r"Task\s+[0-9a-f]{16,}"), timeout=CLIP_TIMEOUT)
    tab.get_by_role("button", name="Stop waiting").click()
    expect(status(tab)).to_contain_text("running in the background")
    expect(status(tab)).not_to_contain_text("WaveSpeed")  # a preview runs here, not there
    expect(tab.get_by_role("button", name="Stop waiting")).to_be_hidden()

    history = open_tab(page, "History")
    table = history.get_by_role("grid")
    expect(table.get_by_test_id("header-2")).to_contain_text("Status")  # after the thumbnail and the time
    first_status = table.get_by_test_id("cell-0-2")
    expect(first_status).to_have_text("running in the background")
    # No Refresh click: the tab refreshes itself while a task runs.
    expect(first_status).to_have_text("clip saved", timeout=CLIP_TIMEOUT)

    tab = open_tab(page, "Text to Video")
    expect(status(tab)).to_contain_text("Done in the background")
    expect(tab.locator("video[src]")).to_be_visible()


# -- accessible ------------------------------------------------------------------------------------

AXE = ROOT / "tests" / ".npm" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
    const result = await axe.run(document, {resultTypes: ["violations"]});
    return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({id: v.id, nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.html.slice(0, 120))}));
}"""


def serious_violations(page) -> dict[str, list[str]]:
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"{AXE} is missing: .ci/run installs it", pytrace=False)
        pytest.skip(f"axe-core is not installed: npm install --prefix tests/.npm axe-core@4 (looked for {AXE})")
    # Gradio sizes its upload boxes (and picks their wording) after the first paint: let it settle.
    expect(page.locator('[data-testid="upload-text"]').first).to_be_visible()
    page.wait_for_timeout(1000)
    page.add_script_tag(path=str(AXE))
    return {v["id"]: v["nodes"] for v in page.evaluate(AXE_RUN)}


@pytest.mark.parametrize("size", SIZES)
def test_axe_finds_no_serious_violation_a_bare_gradio_page_does_not_have(
    preview_app, open_page, browser, bare_url, size
):
    ours = serious_violations(open_page(preview_app, **SIZES[size]).page)
    theirs: dict[str, list[str]] = {}
    # axe does not always see Gradio's own upload-box label mismatch on the bare page: the reference
    # is what two loads of it show.
    for _ in range(2):
        context = browser.new_context(**SIZES[size])
        try:
            bare = context.new_page()
            bare.goto(bare_url)
            expect(bare.get_by_role("button", name="Go", exact=True)).to_be_visible()
            theirs |= serious_violations(bare)
        finally:
            context.close()
    extra = {rule: nodes for rule, nodes in ours.items() if rule not in theirs}
    assert extra == {}, extra


@pytest.mark.parametrize("size", SIZES)
def test_the_status_panel_is_a_live_region(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    for name in ("Image to Video", "Text to Video"):
        expect(open_tab(page, name).locator(".block.kling-status")).to_have_attribute("aria-live", "polite")


# A touch phone has no Tab key to journey with, so the phone's touch emulation is left out; but a
# keyboard user on a desktop zoomed to 300-400% gets the same narrow layout (WCAG 1.4.10, reflow),
# so the journey runs at the phone's width too.
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone-width keyboard"])
def test_the_keyboard_reaches_generate_and_the_examples(preview_app, open_page, viewport):
    page = open_page(preview_app, viewport=viewport).page
    reached = {"Generate": False, "examples": False}
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.innerText || '', !!document.activeElement.closest('.gallery, table')]"
        )
        if focused[0].strip() == "Generate":
            reached["Generate"] = True
            page.keyboard.press("Enter")  # a keyboard user can run it: the refusal (no image) says so
            expect(status(panel(page))).to_contain_text("Not sent")
        if focused[1]:
            reached["examples"] = True
        if all(reached.values()):
            break
    assert reached == {"Generate": True, "examples": True}


# -- Prompt Lab compares side by side -------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_lab_shows_its_results_in_one_grid_of_equal_size_and_plays_them_all_from_the_start(
    preview_app, open_page, size
):
    page = open_page(preview_app, **SIZES[size]).page
    lab = run_two_lab_variants(page)
    videos = lab.locator(".kling-lab-grid video[src]")
    boxes = [videos.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["width"] == boxes[1]["width"] and boxes[0]["height"] == boxes[1]["height"], boxes  # one size
    if size == "laptop":
        assert boxes[0]["y"] == boxes[1]["y"], boxes  # one row
    else:
        # Side by side on a phone each would be a thumbnail: they stack full width, and both fit one
        # screen, so they can still be watched together.
        assert boxes[0]["x"] == boxes[1]["x"], boxes
        assert boxes[1]["y"] + boxes[1]["height"] - boxes[0]["y"] <= SIZES[size]["viewport"]["height"], boxes
    for i in range(2):  # paused near the end of the 5 s clips (they loop only after it)
        videos.nth(i).evaluate("(v) => { v.pause(); v.currentTime = 4; }")
        expect(videos.nth(i)).to_have_js_property("currentTime", 4)
        # Where each one is sent by the next seek: read as it happens, not some time after the
        # click (on a loaded machine seconds can pass before a later read).
        videos.nth(i).evaluate("(v) => v.addEventListener('seeking', () => { v.dataset.sentTo = v.currentTime; })")
    lab.get_by_role("button", name="Play all from the start").click()
    for i in range(2):
        expect(videos.nth(i)).to_have_attribute("data-sent-to", "0")  # back to the start
        expect(videos.nth(i)).to_have_js_property("paused", False)  # and playing
