"""Time to interactive: Kling Studio's page against a bare Gradio page of the same components,
opened alternately in Debian's Chromium at 1280x900 and at 390x844, each time in a fresh browser
context (an empty cache: a first visit).

    python -m bench page [--repeat 10]      # or python -m bench.page

Time to interactive (TTI), as measured here: from navigation start (the page's `performance`
time origin) to the first moment a click on the primary button of the first tab (Generate; the
small page's Go) has visibly been handled. A script added before the page's own runs on every
animation frame; as soon as the button is rendered (a non-empty box, not disabled) it clicks it,
as a visitor's first tap would, and then waits for that click's answer in the status panel above
the player: ours refuses the empty form ("Not sent, nothing was charged ..."), the bare pages'
button is wired here to put "Clicked." there (both answered at once, not queued, like ours). A
click the page could not handle yet (nothing answers within 500 ms) is made again: TTI counts
until one is answered. So TTI includes everything that stands between a first visit and a working
form: the HTML, Gradio's config and scripts, the components' modules, and any load event whose
answer the form waits for.

Three pages are opened in turn:
- ours: app.py, as a visitor gets it;
- same: the bare Gradio page of the same components, the yardstick of the target. It is built
  from ours (so it never drifts): the same components, layout and words, with everything the
  page adds to them taken away: every event (the opening answer and the page's scripts with
  them), the style sheet and the theme (Gradio's default). Only its Generate is wired, as above;
- small: tests/helpers/bare_page.py, one component of each kind the page uses (44 in all, where ours
  has about 300), shown for scale: it tells what the number of components costs, which no
  event or script of ours can remove.

Also shown, as of the answered click: how many requests the page had made and the bytes they
moved (`performance` resource entries), and how many of them were Gradio API calls (load events).
Figures are medians and p90s of `--repeat` opens of each page per size, and the ratios of ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .common import ROOT, clean_env, free_port, machine, start, verdict

if TYPE_CHECKING:
    import gradio as gr

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SIZES = {
    "1280x900": {"viewport": {"width": 1280, "height": 900}},
    "390x844": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
TARGET = 1.2


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    button: str  # the primary button's text
    status: str  # a CSS selector for the status panel in the shown tab
    answered: str  # a regular expression the status matches once the click is handled


# Runs before the page's own scripts, in every document of the context. It must not slow the page:
# one query per frame until the button shows, then one read of the status per frame.
PROBE = """(() => {
  const want = __PAGE__;
  const r = window.__tti = {clicks: 0};
  const shown = () => [...document.querySelectorAll('[role="tabpanel"]')].find((el) => el.offsetParent) || document;
  const frame = () => {
    const tab = shown();
    if (!r.visible) {
      const button = [...tab.querySelectorAll("button")].find((b) => b.innerText.trim() === want.button);
      const box = button && button.getBoundingClientRect();
      if (button && !button.disabled && box.width > 0 && box.height > 0) r.visible = performance.now();
    }
    if (r.visible) {
      const status = tab.querySelector(want.status);
      if (status && new RegExp(want.answered).test(status.innerText)) {
        r.handled = performance.now();
        const entries = performance.getEntriesByType("resource");
        r.requests = entries.length;
        r.bytes = entries.reduce((sum, e) => sum + (e.transferSize || 0), 0);
        r.api = entries.filter((e) => e.name.includes("/gradio_api/")).map((e) => new URL(e.name).pathname);
        return;
      }
      if (!r.clicked || performance.now() - r.clicked > 500) {
        const button = [...tab.querySelectorAll("button")].find((b) => b.innerText.trim() === want.button);
        if (button) { r.clicked = performance.now(); r.clicks += 1; button.click(); }
      }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})()"""


def serve_small(port: int) -> None:
    """tests/helpers/bare_page.py's page, its Go wired to answer in the status panel above its player."""
    import gradio as gr

    sys.path.insert(0, str(ROOT))
    from tests.helpers.bare_page import bare_page

    demo = bare_page()
    blocks = list(demo.blocks.values())
    go = next(b for b in blocks if isinstance(b, gr.Button) and b.value == "Go")
    ready = next(b for b in blocks if isinstance(b, gr.Markdown) and b.value == "Ready.")
    answer_clicks(demo, go, ready)
    demo.launch(server_name="127.0.0.1", server_port=port, quiet=True)


def serve_same(port: int) -> None:
    """Our page's components and nothing else of ours: built as app.py builds it, then every
    event taken away (Gradio keeps them in the Blocks' config; there is no public way to remove
    one), launched with Gradio's default theme, no style sheet and no script, its words still
    translated. Its first Generate (Image to Video's) answers in the status panel above its player."""
    import gradio as gr

    from kling.app.studio import Studio
    from kling.strings import i18n

    demo = Studio.from_env().build()
    demo.default_config.fns.clear()
    blocks = list(demo.blocks.values())  # in the order built: Image to Video's come first
    generate = next(b for b in blocks if isinstance(b, gr.Button) and "run.generate" in str(b.value))
    status = next(b for b in blocks if isinstance(b, gr.Markdown) and "kling-status" in (b.elem_classes or []))
    answer_clicks(demo, generate, status)
    demo.launch(server_name="127.0.0.1", server_port=port, quiet=True, i18n=i18n())


def answer_clicks(demo: gr.Blocks, button: gr.Button, status: gr.Markdown) -> None:
    """`button` puts "Clicked." in `status` at once (not queued, as ours refuses an empty form)."""
    status.elem_classes = ["bench-status"]
    with demo:
        button.click(lambda: "Clicked.", None, status, queue=False)


def open_once(browser, page: Page, size: dict) -> dict:
    context = browser.new_context(**size)
    try:
        context.add_init_script(PROBE.replace("__PAGE__", json.dumps(page.__dict__)))
        tab = context.new_page()
        tab.goto(page.url, wait_until="commit", timeout=120_000)
        tab.wait_for_function("() => window.__tti && window.__tti.handled", timeout=120_000, polling=100)
        return tab.evaluate("() => window.__tti")
    finally:
        context.close()


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def summary(runs: list[dict]) -> str:
    tti = [r["handled"] for r in runs]
    shown = [r["visible"] for r in runs]
    return (
        f"TTI median {statistics.median(tti):.0f} ms, p90 {p90(tti):.0f} ms (button shown at "
        f"{statistics.median(shown):.0f} ms); {statistics.median(r['requests'] for r in runs):.0f} requests, "
        f"{statistics.median(r['bytes'] for r in runs) / 1024:.0f} KiB, "
        f"{statistics.median(len(r['api']) for r in runs):.0f} API calls, "
        f"{max(r['clicks'] for r in runs)} click(s) at most"
    )


def measure(ours: Page, same: Page, small: Page, repeat: int) -> bool:
    from playwright.sync_api import sync_playwright

    pages, met = (ours, same, small), True
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for label, size in SIZES.items():
                for page in pages:  # warm the servers
                    open_once(browser, page, size)
                runs: dict[str, list[dict]] = {page.name: [] for page in pages}
                for _ in range(repeat):  # in turn, so drift in the machine's load hits all alike
                    for page in pages:
                        runs[page.name].append(open_once(browser, page, size))
                tti = {name: statistics.median(r["handled"] for r in found) for name, found in runs.items()}
                ratio, scale = tti["ours"] / tti["same"], tti["ours"] / tti["small"]
                met = met and ratio <= TARGET
                for page in pages:
                    print(f"page {label} {page.name}: {summary(runs[page.name])}", flush=True)
                print(f"page {label} ours API calls: {', '.join(runs['ours'][-1]['api'])}", flush=True)
                print(
                    f"page {label}: time to interactive ours / same components {ratio:.2f} (medians of {repeat}; "
                    f"target <= {TARGET}: {verdict(ratio <= TARGET)}); ours / small page {scale:.2f}",
                    flush=True,
                )
        finally:
            browser.close()
    return met


# name: (command, primary button, status panel, its answer to the first click)
PAGES = {
    "ours": ([sys.executable, str(ROOT / "app.py")], "Generate", ".block.kling-status", "Not sent"),
    "same": ([sys.executable, "-m", "bench.page", "--serve", "same"], "Generate", ".bench-status", "Clicked"),
    "small": ([sys.executable, "-m", "bench.page", "--serve", "small"], "Go", ".bench-status", "Clicked"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--serve", nargs=2, metavar=("PAGE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        {"same": serve_same, "small": serve_small}[args.serve[0]](int(args.serve[1]))
        return 0
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        apps, pages = [], []
        try:
            for name, (cmd, button, status, answered) in PAGES.items():
                port, data = free_port(), Path(tmp) / name
                data.mkdir()
                env = clean_env(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), KLING_DATA_DIR=str(data))
                served = cmd if name == "ours" else [*cmd, str(port)]
                apps.append(start(served, port, env, log=Path(tmp) / f"{name}.log"))
                pages.append(Page(name, apps[-1].url, button, status, answered))
            measure(*pages, args.repeat)
        finally:
            for app in apps:
                app.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
