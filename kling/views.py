"""What the page says: the words for a run, a task, the mode and the price, and the form values a
shared link carries. Pure functions over states and settings; no Gradio here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .config import Settings
from .errors import ValidationError
from .films import Film
from .journal import Job
from .params import ASPECT_RATIOS, DURATIONS, GUIDANCE_MAX, GUIDANCE_MIN, PROMPT_MAX_CHARS, format_price, price_cents
from .runner import RunState

MODE_LIVE = "🟢 **Live (WaveSpeed API)**: every clip is a paid Kling v2.0 master generation."
MODE_OWN_KEY = "🟢 **Live (WaveSpeed API), with your own key**: clips are billed to your WaveSpeed account."
MODE_PREVIEW = (
    "🟡 **Preview: clips are simulated locally, no API key set.** They are stand-ins marked PREVIEW, "
    "not Kling output. Add your own WaveSpeed key below to generate for real."
)
PREVIEW_VIDEO_LABEL = "Preview clip (simulated, not Kling output)"
LIVE_VIDEO_LABEL = "Kling v2.0 master clip"
HISTORY_HELP = "This browser's tasks, newest first. Select a row to see its clip and settings."
HISTORY_COLUMNS = ["When", "Mode", "Model", "Prompt", "Status", "Price", "Task id"]
MODEL_SHORT = {"kwaivgi/kling-v2.0-i2v-master": "Image to Video", "kwaivgi/kling-v2.0-t2v-master": "Text to Video"}
QUERY_TABS = ("i2v", "t2v", "lab", "history")
LAB_I2V, LAB_T2V = "Image to Video", "Text to Video"


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


def key_status(settings: Settings, user_key: str) -> str:
    server = "This Space has its own key (never shown)." if settings.api_key else "This Space has no key of its own."
    mine = (
        "Your key is saved in this browser and is used for your generations."
        if user_key
        else "No key saved in this browser."
    )
    return f"{mine} {server}"


def price_text(duration: Any, preview: bool) -> str:
    if preview:
        return "Free preview (simulated clip)"
    try:
        seconds = int(duration)
        return f"{seconds} s clip: {format_price(price_cents(seconds))}"
    except (TypeError, ValueError):
        return ""


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def status_markdown(state: RunState, now: float | None = None) -> str:
    elapsed = clock(state.elapsed(now))
    if state.stage == "error":
        lines = [f"### ❌ Failed after {elapsed}", state.message]
    elif state.stage == "done":
        lines = [f"### ✅ Done in {elapsed}"]
    else:
        lines = [f"### ⏳ {state.status_words} · {elapsed}"]
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


def job_status(job: Job) -> str:
    if job.clip_saved:
        return "clip saved"
    if job.status == "completed":
        return "done, clip not downloaded: resume"
    if job.unfinished:  # created, processing, or a status WaveSpeed does not document ("pending")
        return "interrupted (preview)" if job.preview else f"{job.status}: resume"
    return job.status + (f" ({job.error_code})" if job.error_code else "")


def history_rows(jobs: list[Job]) -> list[list[str]]:
    return [
        [
            datetime.fromtimestamp(job.created).strftime("%Y-%m-%d %H:%M"),
            "Preview" if job.preview else "Live",
            MODEL_SHORT.get(job.model, job.model),
            (job.params.get("prompt") or "")[:90],
            job_status(job),
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
