"""Screenshots of the page for the docs: `python scripts/screenshots.py` from the repository root.

Starts `python app.py` in preview mode (no API key: clips come from the in-process simulator)
on a free loopback port, drives Debian's Chromium at /usr/bin/chromium with Playwright (never
`playwright install`), and writes to docs/screenshots/:

  i2v.png    the Image to Video tab with the first example (a photo and its prompt) filled in
  t2v.png    the Text to Video tab with an example filled in (with a showcase, each shows its clip)
  clip.png   a finished preview clip with its status and details
  phone.png  the top of the page on a 390x844 phone (device scale 2, so 780x1688 pixels)
  zh-CN.png  the Text to Video tab for a browser set to Simplified Chinese, an example filled in

Options: --out DIR (default docs/screenshots), --url URL to shoot an app that is already running
instead of starting one; KLING_SHOWCASE_DIR, when set, is passed to the app it starts. Emoji in the
page need a colour emoji font (`apt-get install -y fonts-noto-color-emoji`), and zh-CN.png a Chinese
font (`apt-get install -y fonts-noto-cjk`), or they show as boxes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.launch import launch_app, stop  # noqa: E402 (after the path it needs)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}  # a laptop: what is in sight on first load
PHONE = {"width": 390, "height": 844}
CLIP_TIMEOUT = 90_000


def panel(page):
    return page.locator('[role="tabpanel"]:visible')


def open_page(browser, url: str, **options):
    context = browser.new_context(**options)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector(".gradio-container")
    # The load event fills the price beside Generate: then the page is wired up.
    from playwright.sync_api import expect

    expect(panel(page).locator(".prose.kling-price")).to_contain_text(re.compile(r"preview|\$"))
    page.evaluate("document.fonts.ready")
    return context, page


def open_tab(page, name: str):
    tab = page.get_by_role("tab", name=name)
    if tab.count():
        tab.click()
    else:  # a narrow screen: the tab is behind "More tabs"
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown").get_by_role("button", name=name).click()
    page.get_by_role("tab", name=name, selected=True).wait_for()
    return panel(page)


def settle(page) -> None:
    """No hover or focus rings in the picture, scrolled to the top, images decoded."""
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    # Lazy images below the fold (the example thumbnails, on a phone) load only when scrolled to.
    page.wait_for_function(
        "[...document.images].every(img => img.complete || (img.loading === 'lazy' && "
        "img.getBoundingClientRect().top > window.innerHeight))"
    )
    page.wait_for_timeout(400)


def shoot(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context, page = open_page(browser, url, viewport=DESKTOP)

            tab = open_tab(page, "Image to Video")
            # Thumbnails by their alt text (the example's title; with a showcase, it names the clip too).
            tab.locator(".kling-examples").get_by_alt_text(re.compile("^Chelsea the cat")).click()
            expect(tab.get_by_label("Prompt", exact=True)).to_have_value(re.compile("^Close-up of a tabby cat"))
            expect(tab.locator('[data-testid="image"]').first.locator("img")).to_have_attribute(
                "src", re.compile("chelsea")
            )
            settle(page)
            page.screenshot(path=out / "i2v.png")
            written.append(out / "i2v.png")

            tab = open_tab(page, "Text to Video")
            tab.locator(".kling-examples").get_by_alt_text(re.compile(r"^Cozy reading \(1:1\)")).click()
            expect(tab.get_by_label("Prompt", exact=True)).to_have_value(re.compile("^Cozy indoor scene"))
            settle(page)
            page.screenshot(path=out / "t2v.png")
            written.append(out / "t2v.png")

            # A finished clip: 16:9 keeps the clip beside the form without a very tall video.
            tab.get_by_label("16:9").check()
            tab.get_by_role("button", name="Generate").click()
            status = tab.locator(".prose.kling-status")
            expect(status).to_contain_text("Done", timeout=CLIP_TIMEOUT)
            video = tab.locator("video[src]")
            expect(video).to_be_visible()
            # A steady frame from the middle of the clip, not whatever autoplay shows at that moment.
            video.evaluate("""(v) => new Promise((resolve) => {
                const seek = () => {
                    v.pause(); v.addEventListener('seeked', resolve, {once: true}); v.currentTime = 2.5;
                };
                v.readyState >= 2 ? seek() : v.addEventListener('loadeddata', seek, {once: true});
            })""")
            settle(page)
            page.screenshot(path=out / "clip.png", full_page=True)
            written.append(out / "clip.png")
            context.close()

            context, page = open_page(
                browser, url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            open_tab(page, "Image to Video")
            settle(page)
            page.screenshot(path=out / "phone.png")
            written.append(out / "phone.png")
            context.close()

            context, page = open_page(browser, url, viewport=DESKTOP, locale="zh-CN")
            tab = open_tab(page, "文生视频")
            tab.locator(".kling-examples").get_by_alt_text(re.compile(r"^温馨阅读（1:1）")).click()
            expect(tab.get_by_label("提示词", exact=True)).to_have_value(re.compile("^Cozy indoor scene"))
            settle(page)
            page.screenshot(path=out / "zh-CN.png")
            written.append(out / "zh-CN.png")
            context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--url", help="an app that is already running (default: start one in preview mode)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)", file=sys.stderr)
        return 2
    if args.url:
        written = shoot(args.url, args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="kling-screenshots-") as tmp:
            showcase = {name: os.environ[name] for name in ("KLING_SHOWCASE_DIR",) if name in os.environ}
            app = launch_app(Path(tmp), showcase)  # no key: preview mode, own data folder
            try:
                written = shoot(app.url, args.out)
            finally:
                stop(app)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
