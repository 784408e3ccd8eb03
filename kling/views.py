"""What the page says: the words for a run, a task, the mode and the price, and the form values a
shared link carries. Pure functions over states and settings; no Gradio here."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from .config import Settings
from .errors import ValidationError
from .films import Film
from .journal import Job
from .params import ASPECT_RATIOS, DURATIONS, GUIDANCE_MAX, GUIDANCE_MIN, PROMPT_MAX_CHARS, format_price, price_cents
from .runner import RunState
from .showcase import ShowcaseClip

MODE_LIVE = "🟢 **Live (WaveSpeed API)**: every clip is a paid Kling v2.0 master generation."
MODE_OWN_KEY = "🟢 **Live (WaveSpeed API), with your own key**: clips are billed to your WaveSpeed account."
MODE_PREVIEW = (
    "🟡 **Preview: clips are simulated locally, no API key set.** They are stand-ins marked PREVIEW, "
    "not Kling output. Add your own WaveSpeed key below to generate for real."
)
PREVIEW_VIDEO_LABEL = "Preview clip (simulated, not Kling output)"
LIVE_VIDEO_LABEL = "Kling v2.0 master clip"
HISTORY_HELP = "This browser's tasks, newest first. Select a row to see its clip and settings."
# Status second, so it stays in sight on a phone; the task id last (a selected row is read by it).
HISTORY_COLUMNS = ["When", "Status", "Prompt", "Mode", "Model", "Price", "Task id"]
MODEL_SHORT = {"kwaivgi/kling-v2.0-i2v-master": "Image to Video", "kwaivgi/kling-v2.0-t2v-master": "Text to Video"}
QUERY_TABS = ("i2v", "t2v", "lab", "history")
# What a shared link carries from each generate tab: the form's settings, never a key or an image.
SHARED_SETTINGS = {
    "i2v": ("prompt", "negative_prompt", "guidance_scale", "duration"),
    "t2v": ("prompt", "negative_prompt", "aspect_ratio", "duration"),
}
KEY_URL = "https://wavespeed.ai/accesskey"
TYPICAL_WAIT = "usually takes a few minutes"
LAB_I2V, LAB_T2V = "Image to Video", "Text to Video"
SHOWCASE_MARK = "🎬"
# The showcase's setting names as the details list shows them (the photo's hash is left out).
SHOWCASE_SETTINGS = {
    "image": "Photo",
    "prompt": "Prompt",
    "negative_prompt": "Negative prompt",
    "guidance_scale": "Guidance scale",
    "aspect_ratio": "Aspect ratio",
    "duration": "Duration (s)",
}


def mode_banner(settings: Settings, user_key: str, budget_left_cents: int | None = None) -> str:
    if user_key:
        return MODE_OWN_KEY
    if not settings.api_key:
        return MODE_PREVIEW
    if settings.require_user_key:
        return MODE_LIVE + " This Space asks you to bring your own key (below)."
    limits = f" Limits for this Space's key: {settings.tasks_per_hour_per_browser} clips per hour per visitor"
    if budget_left_cents is not None and settings.daily_budget_cents is not None:
        limits += (
            f"; {format_price(budget_left_cents)} of today's {format_price(settings.daily_budget_cents)} budget left"
        )
    return MODE_LIVE + limits + "."


def key_status(settings: Settings, user_key: str, balance: float | None = None, refused: bool = False) -> str:
    """The key panel's words. A saved key is named by its last 4 characters only; its balance is
    known only just after it was saved (checked then, never at start-up)."""
    server = "This Space has its own key (never shown)." if settings.api_key else "This Space has no key of its own."
    if user_key:
        mine = f"Your key ending in `{user_key[-4:]}` is saved in this browser and is used for your generations."
        if balance is not None:
            mine += f" WaveSpeed accepted it; balance **${balance:,.2f}**."
    else:
        mine = "No key saved in this browser."
    if refused:
        mine = "❌ **WaveSpeed refused that key (401)**, so it was not saved. " + mine
    return f"{mine} {server}"


def price_text(duration: Any, preview: bool) -> str:
    """Beside Generate, in both modes: what this clip costs live, how long it takes, where a key comes from."""
    try:
        seconds = int(duration)
        live = f"**{format_price(price_cents(seconds))}** for {seconds} s"
    except (TypeError, ValueError):
        return ""
    get_key = f"[Get a WaveSpeed key]({KEY_URL})"
    if preview:
        return f"Free preview here (simulated). Live: {live}, {TYPICAL_WAIT}. {get_key}"
    return f"Live: {live}, {TYPICAL_WAIT}. {get_key}"


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


# Typical waits, for the estimate beside a running clip: WaveSpeed publishes none for Kling 2.0
# master; other hosts report 1.5 to 5 minutes for 5 s. The preview simulator queues 1.5 s and
# renders 5 s per 5 s of clip.
TYPICAL_LIVE_S = {5: 180.0, 10: 360.0}
TYPICAL_PREVIEW_S = {5: 6.5, 10: 11.5}


def estimate_html(state: RunState, now: float | None = None) -> str:
    """An honest progress bar: elapsed over the typical wait, never full before the clip is. Drawn
    in characters: the status panel's Markdown drops <progress> and ARIA roles."""
    seconds = 10 if state.price_cents > price_cents(5) else 5
    typical = (TYPICAL_PREVIEW_S if state.preview else TYPICAL_LIVE_S)[seconds]
    percent = min(95, int(100 * state.elapsed(now) / typical))
    bar = "▰" * (percent // 10) + "▱" * (10 - percent // 10)
    about = f"{typical:.0f} s" if typical < 60 else f"{typical / 60:.0f} min"
    return (
        f"Estimated progress {bar} {percent}% (an estimate, not a measurement: "
        f"a {seconds} s clip typically takes about {about})"
    )


def busy_label(status: str) -> str | None:
    """Generate's label while a run is under way ("Generating… 0:42"), None when none is."""
    first = (status or "").strip().splitlines()[0] if (status or "").strip() else ""
    if not first.startswith("### ⏳"):
        return None
    elapsed = first.rsplit("·", 1)[-1].strip() if "·" in first else ""
    return f"Generating… {elapsed}".strip()


def status_markdown(state: RunState, now: float | None = None) -> str:
    elapsed = clock(state.elapsed(now))
    if state.stage == "error":
        lines = [f"### ❌ Failed after {elapsed}", state.message]
    elif state.stage == "done":
        lines = [f"### ✅ Done in {elapsed}"]
    else:
        lines = [f"### ⏳ {state.status_words} · {elapsed}", estimate_html(state, now)]
        if state.stage in ("retrying", "recovering") and state.message:
            lines.append(state.message)
    if state.note:
        lines.append(state.note)
    if state.task_id:
        status = f" · status **{state.task.status}**" if state.task and state.task.status else ""
        lines.append(f"Task `{state.task_id}`{status} · {state.polls} status checks")
    if state.preview:
        lines.append("_Preview: simulated locally, not Kling output._")
    return "\n\n".join(lines)


_STATUS_TASK = re.compile(r"^Task `([A-Za-z0-9_-]{1,128})`", re.MULTILINE)


def task_id_in_status(status: str | None) -> str | None:
    """The task id in a status written by `status_markdown`, or None (no task created yet)."""
    found = _STATUS_TASK.search(status or "")
    return found.group(1) if found else None


def details_markdown(state: RunState) -> str:
    task = state.task
    if task is None:
        return ""
    rows = [("Task id", f"`{task.id}`"), ("Model", task.model or state.model)]
    if task.inference_ms is not None and task.status == "completed":
        rows.append(("Inference time", f"{task.inference_ms / 1000:.1f} s"))
    if task.has_nsfw_contents:
        rows.append(("NSFW flag", "⚠️ flagged" if task.nsfw else "not flagged"))
    if task.video_url and state.preview:
        rows.append(("Output URL", "none: simulated locally"))
    elif task.video_url:
        rows.append(("Output URL", f"[{task.video_url}]({task.video_url}) (kept 7 days)"))
    rows.append(("Price", "free (preview)" if state.preview else format_price(state.price_cents)))
    return "\n".join(f"- **{k}**: {v}" for k, v in rows)


def refusal_text(error: ValidationError) -> str:
    return "Not sent, nothing was charged. " + " · ".join(str(p) for p in error.problems)


def compose_brief(subject: str, environment: str, camera: str, continuity: str) -> str:
    """The director's brief as one prompt: each part a sentence, in the guide's order."""
    parts = [part.strip().rstrip(".") for part in (subject, environment, camera, continuity) if part and part.strip()]
    return " ".join(part[0].upper() + part[1:] + "." for part in parts)


def settings_from_query(query: dict[str, str]) -> dict[str, Any]:
    """The form settings a shared link carries, each checked; anything else (a key, say) is ignored.
    A link only fills the form: it never starts a run."""
    found: dict[str, Any] = {"tab": query.get("tab") if query.get("tab") in QUERY_TABS else None}
    for name in ("prompt", "negative_prompt"):
        if isinstance(query.get(name), str):
            found[name] = query[name][: PROMPT_MAX_CHARS * 2]  # an over-long one is refused on Generate, visibly
    if query.get("duration") in {str(d) for d in DURATIONS}:
        found["duration"] = int(query["duration"])
    if query.get("aspect_ratio") in ASPECT_RATIOS:
        found["aspect_ratio"] = query["aspect_ratio"]
    try:
        guidance = float(query.get("guidance_scale", "x"))
        if GUIDANCE_MIN <= guidance <= GUIDANCE_MAX:
            found["guidance_scale"] = guidance
    except ValueError:
        pass
    return found


def share_link(page_url: str, tab: str, values: dict[str, Any]) -> str:
    """The page's address with `tab` and the settings a link from that tab carries; the reader is
    `settings_from_query`. Empty settings are left out, so the form keeps its defaults."""
    address = urlsplit(page_url or "")
    query = {"tab": tab}
    for name in SHARED_SETTINGS.get(tab, ()):
        value = values.get(name)
        if value is not None and value != "":
            query[name] = str(value)
    return urlunsplit((address.scheme, address.netloc, address.path, urlencode(query, quote_via=quote), ""))


def clip_filename(prompt: str, task_id: str) -> str:
    """What a downloaded clip is called: the prompt's first words and the task id, e.g.
    `a-paper-lantern-rising-over-3f2a9c1e.mp4`, so a folder of downloads reads like a list."""
    words = re.findall(r"[a-z0-9]+", (prompt or "").lower())[:6]
    slug = "-".join(words)[:48].strip("-") or "kling-clip"
    return f"{slug}-{re.sub(r'[^A-Za-z0-9]', '', task_id)[:12] or 'clip'}.mp4"


def job_status(job: Job, running: bool = False) -> str:
    if job.clip_saved:
        return "clip saved"
    if running:  # this app is still waiting for it: not interrupted, whatever the journal says
        return "running in the background"
    if job.status == "completed":
        return "done, clip not downloaded: resume"
    if job.unfinished:  # created, processing, or a status WaveSpeed does not document ("pending")
        return "interrupted (preview)" if job.preview else f"{job.status}: resume"
    return job.status + (f" ({job.error_code})" if job.error_code else "")


def history_rows(jobs: list[Job], running: set[str] | frozenset[str] = frozenset()) -> list[list[str]]:
    return [
        [
            datetime.fromtimestamp(job.created).strftime("%Y-%m-%d %H:%M"),
            job_status(job, job.id in running),
            (job.params.get("prompt") or "")[:90],
            "Preview" if job.preview else "Live",
            MODEL_SHORT.get(job.model, job.model),
            "free" if job.preview else format_price(job.price_cents),
            job.id,
        ]
        for job in jobs
    ]


def history_total(jobs: list[Job]) -> str:
    live = [job for job in jobs if not job.preview]
    spent = format_price(sum(job.price_cents for job in live))
    counts = f"({len(live)} live, {len(jobs) - len(live)} preview)"
    return f"{HISTORY_HELP}\n\n**{len(jobs)} tasks** · spent on live clips: **{spent}** {counts}"


def job_markdown(job: Job) -> str:
    settings = ", ".join(
        f"{k}: {v}" for k, v in job.params.items() if k not in ("prompt", "image", "end_image") and v != ""
    )
    lines = [
        f"**{MODEL_SHORT.get(job.model, job.model)}** · {'preview (simulated)' if job.preview else 'live'} · "
        f"task `{job.id}`",
        f"> {job.params.get('prompt', '')}",
        settings,
        f"Status: **{job_status(job)}**",
    ]
    if job.continues:
        lines.append(f"Continues task `{job.continues}` (from its last frame)")
    if job.error:
        lines.append(job.error)
    if job.output_url and not job.preview:
        lines.append(f"Output URL: {job.output_url}")
    return "\n\n".join(line for line in lines if line)


# -- the showcase: real clips of the examples --------------------------------------------------------


def showcase_label(clip: ShowcaseClip) -> str:
    """What a showcase clip is, in the words the page shows above it."""
    return f"Kling's output for this example, made {clip.made[:10]}: free to watch"


def showcase_status(title: str, clip: ShowcaseClip) -> str:
    return (
        f"### {SHOWCASE_MARK} {title}\n\n**{showcase_label(clip)}.**\n\n"
        "Made once by this Space's owner. Generate makes a new take at the usual price."
    )


def showcase_details(clip: ShowcaseClip) -> str:
    rows = [("Task id", f"`{clip.task_id}`"), ("Model", clip.model), ("Made", clip.made)]
    rows += [(name, str(clip.settings[key])) for key, name in SHOWCASE_SETTINGS.items() if key in clip.settings]
    rows.append(("Price", "free to watch (paid once by this Space's owner)"))
    return "\n".join(f"- **{k}**: {v}" for k, v in rows)


def showcase_note(clips: int, preview: bool) -> str:
    """The line beside the examples when some have a real clip; "" when none has."""
    if not clips:
        return ""
    note = (
        f"{SHOWCASE_MARK} Examples marked {SHOWCASE_MARK} come with the clip Kling made for them, "
        "paid for once by this Space's owner: click one to watch it, free."
    )
    if preview:
        note += (
            " This Space is in preview mode (no API key): these are the only real Kling clips on this page; "
            "what Generate makes here is simulated and marked PREVIEW."
        )
    return note


def example_caption(title: str, has_clip: bool) -> str:
    """A thumbnail's caption, which Gradio's gallery also uses as the image's alt text."""
    return f"{title} · {SHOWCASE_MARK} Kling clip" if has_clip else title


# -- continue and stitch -------------------------------------------------------------------------

CONTINUE_LABEL = "Continue from the last frame"
STITCH_HELP = (
    "### 🎞️ Stitch clips into a film\n\nPick this browser's clips in the order they should play, then "
    "Stitch: one MP4, saved here and listed below. Free: nothing is sent to WaveSpeed. Clips of one "
    "size and frame rate are joined as they are; otherwise (or with a cross-fade) they are re-encoded "
    "to the first clip's size, with black bars rather than stretching. Preview clips stay marked PREVIEW."
)
NO_FILMS = "No films yet."


def clip_choice(job: Job) -> tuple[str, str]:
    """A finished clip as the stitch picker shows it: (label, task id)."""
    kind = "I2V" if job.model.endswith("i2v-master") else "T2V"
    prompt = (job.params.get("prompt") or "").strip()
    prompt = prompt if len(prompt) <= 40 else prompt[:39] + "…"
    mode = "preview" if job.preview else "live"
    return f"{job.id[:8]} · {kind} {job.params.get('duration', '?')} s · {mode} · {prompt}", job.id


def film_choice(film: Film) -> tuple[str, str]:
    """A film as the films picker shows it: (label, file name)."""
    when = datetime.fromtimestamp(film.created).strftime("%Y-%m-%d %H:%M")
    preview = " · PREVIEW" if film.preview else ""
    return f"{when} · {len(film.tasks)} clips · {film.duration:.1f} s{preview}", film.name


def film_markdown(film: Film) -> str:
    fade = f" · cross-fade {film.crossfade:g} s" if film.crossfade else ""
    preview = " · **PREVIEW**: made from simulated clips" if film.preview else ""
    order = " → ".join(f"`{task}`" for task in film.tasks)
    return f"**{film.duration:.1f} s** · {film.width}×{film.height}{fade}{preview}\n\nClips: {order}"


def continuing_note(job: Job) -> str:
    return (
        f"### ↪ Continuing task `{job.id}`\n\nIts last frame is the start image and its prompt is in the box: "
        "edit it for the next shot, then Generate."
    )
