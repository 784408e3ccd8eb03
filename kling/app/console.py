"""What `python app.py` prints at start, beside Gradio's own lines: which mode the app runs in and
why, and how to get a public link the way this app takes it (`--share`), in place of Gradio's
advice to edit `launch()` (there is no `launch()` call for a reader of README to edit)."""

from __future__ import annotations

from kling.config import Settings


def mode_line(settings: Settings) -> str:
    """The mode and the reason for it, as the first thing the console says."""
    if settings.preview:
        return (
            "Kling Studio runs in PREVIEW mode: WAVESPEED_API_KEY is not set, so clips are simulated "
            "locally (free, marked PREVIEW, never Kling output). Set WAVESPEED_API_KEY to make real clips."
        )
    return "Kling Studio runs in LIVE mode: WAVESPEED_API_KEY is set; each clip is made by Kling and billed to it."


def local_lines(local_url: str | None, settings: Settings) -> str:
    """Gradio's local-address line, and how to ask for a public link with this app's own flag (not
    said on a Space, which is public already)."""
    lines = [f"* Running on local URL:  {local_url}"]
    if not settings.space_host:
        lines.append("* For a public link, start it with `python app.py --share` (or set KLING_SHARE=1).")
    return "\n".join(lines)
