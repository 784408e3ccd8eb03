"""What the page says: the words for a run, a task, the mode and the price, and the form values a
shared link carries. Pure functions over states and settings; no Gradio here."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from kling.api.params import (
    ASPECT_RATIOS,
    DURATIONS,
    GUIDANCE_MAX,
    GUIDANCE_MIN,
    PROMPT_MAX_CHARS,
    format_price,
    price_cents,
)
from kling.app.status_words import task_status_word
from kling.config import Settings
from kling.errors import Problem, TaskFailedError, ValidationError
from kling.jobs.run import RunState
from kling.store.films import Film
from kling.store.journal import REFUNDED, Job
from kling.store.showcase import ShowcaseClip
from kling.strings import SAY_EN, Lang, literal, say

# Status second, so it stays in sight on a phone; the task id last (a selected row is read by it).
HISTORY_COLUMNS = ("when", "status", "prompt", "mode", "model", "price", "task_id")
MODEL_SHORT = {"kwaivgi/kling-v2.0-i2v-master": "model.i2v", "kwaivgi/kling-v2.0-t2v-master": "model.t2v"}
QUERY_TABS = ("i2v", "t2v", "lab", "history")
# What a shared link carries from each generate tab: the form's settings, never a key or an image.
SHARED_SETTINGS = {
    "i2v": ("prompt", "negative_prompt", "guidance_scale", "duration"),
    "t2v": ("prompt", "negative_prompt", "aspect_ratio", "duration"),
}
KEY_URL = "https://wavespeed.ai/accesskey"
LAB_I2V, LAB_T2V = "Image to Video", "Text to Video"  # the Lab's model choices (values, not words)
SHOWCASE_MARK = "🎬"
# The showcase's settings the details list shows (the photo's hash is left out).
SHOWCASE_SETTINGS = ("image", "prompt", "negative_prompt", "guidance_scale", "aspect_ratio", "duration")


# Characters Markdown or HTML would read as markup, a link, an image, maths or an entity.
def mode_banner(settings: Settings, user_key: str, budget_left_cents: int | None = None, lang: Lang = "en") -> str:
    if user_key:
        return say(lang, "banner.own_key")
    if not settings.api_key:
        return say(lang, "banner.preview")
    if settings.require_user_key:
        return say(lang, "banner.bring_key")
    per_hour = settings.tasks_per_hour_per_browser
    if budget_left_cents is not None and settings.daily_budget_cents is not None:
        left, budget = format_price(budget_left_cents), format_price(settings.daily_budget_cents)
        return say(lang, "banner.limits_budget", per_hour=per_hour, left=left, budget=budget)
    return say(lang, "banner.limits", per_hour=per_hour)


def key_status(
    settings: Settings, user_key: str, balance: float | None = None, refused: bool = False, lang: Lang = "en"
) -> str:
    """The key panel's words. A saved key is named by its last 4 characters only; its balance is
    known only just after it was saved (checked then, never at start-up)."""
    server = say(lang, "key.server_has" if settings.api_key else "key.server_none")
    if user_key and balance is not None:
        mine = say(lang, "key.saved_balance", last4=user_key[-4:], balance=f"${balance:,.2f}")
    elif user_key:
        mine = say(lang, "key.saved", last4=user_key[-4:])
    else:
        mine = say(lang, "key.none")
    sentences = [say(lang, "key.refused")] if refused else []
    return " ".join([*sentences, mine, server])


def price_text(duration: Any, preview: bool, lang: Lang = "en") -> str:
    """Beside Generate, in both modes: what this clip costs live, how long it takes, where a key comes from."""
    try:
        seconds = int(duration)
        price = format_price(price_cents(seconds))
    except (TypeError, ValueError):
        return ""
    return say(lang, "price.preview" if preview else "price.live", price=price, seconds=seconds, url=KEY_URL)


def video_label(preview: bool, lang: Lang = "en") -> str:
    """The result player's label: a preview clip never passes for Kling's."""
    return say(lang, "video.preview" if preview else "video.live")


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


# Typical waits, for the estimate beside a running clip: WaveSpeed publishes none for Kling 2.0
# master; other hosts report 1.5 to 5 minutes for 5 s. The preview simulator queues 1.5 s and
# renders 5 s per 5 s of clip.
TYPICAL_LIVE_S = {5: 180.0, 10: 360.0}
TYPICAL_PREVIEW_S = {5: 6.5, 10: 11.5}


def estimate_html(state: RunState, now: float | None = None, lang: Lang = "en") -> str:
    """An honest progress bar: elapsed over the typical wait, never full before the clip is. Drawn
    in characters: the status panel's Markdown drops <progress> and ARIA roles."""
    seconds = 10 if state.price_cents > price_cents(5) else 5
    typical = (TYPICAL_PREVIEW_S if state.preview else TYPICAL_LIVE_S)[seconds]
    percent = min(95, int(100 * state.elapsed(now) / typical))
    bar = "▰" * (percent // 10) + "▱" * (10 - percent // 10)
    if typical < 60:
        about = say(lang, "estimate.seconds", n=f"{typical:.0f}")
    else:
        about = say(lang, "estimate.minutes", n=f"{typical / 60:.0f}")
    return say(lang, "estimate", bar=bar, percent=percent, seconds=seconds, about=about)


def busy_label(status: str, lang: Lang = "en") -> str | None:
    """Generate's label while a run is under way ("Generating… 0:42"), None when none is."""
    first = (status or "").strip().splitlines()[0] if (status or "").strip() else ""
    if not first.startswith("### ⏳"):
        return None
    elapsed = first.rsplit("·", 1)[-1].strip() if "·" in first else ""
    return say(lang, "busy", elapsed=elapsed).strip()


def status_markdown(state: RunState, now: float | None = None, lang: Lang = "en") -> str:
    elapsed = clock(state.elapsed(now))
    if state.stage == "error":
        lines = [say(lang, "status.failed", elapsed=elapsed), state.message, refund_note(state, lang)]
    elif state.stage == "done":
        lines = [say(lang, "status.done", elapsed=elapsed)]
    else:
        words = state.words(lang)
        lines = [say(lang, "status.running", words=words, elapsed=elapsed), estimate_html(state, now, lang)]
        if state.stage in ("retrying", "recovering") and state.message:
            lines.append(state.message)
    if state.note:
        lines.append(state.note)
    lines = [line for line in lines if line]
    if state.task_id and state.task and state.task.status:
        lines.append(
            say(
                lang,
                "status.task_status",
                task_id=state.task_id,
                status=task_status_word(state.task.status, lang),
                polls=state.polls,
            )
        )
    elif state.task_id:
        lines.append(say(lang, "status.task", task_id=state.task_id, polls=state.polls))
    if state.preview:
        lines.append(say(lang, "status.preview"))
    return "\n\n".join(lines)


def refund_note(state: RunState, lang: Lang = "en") -> str:
    """What a task that WaveSpeed failed cost: nothing in the end (it refunds failed tasks, usually
    within a few hours), or nothing at all in preview. Empty for any other error: a task that was
    never sent cost nothing and its refusal says so; one that finished may have been charged."""
    error = state.error
    if not isinstance(error, TaskFailedError) or error.status not in REFUNDED:
        return ""
    if state.preview:
        return say(lang, "status.failed_free")
    return say(lang, "status.refunded", price=format_price(state.price_cents))


# The task line of `status_markdown`, in either language (the page reads the task id from it).
_STATUS_TASK = re.compile(r"^(?:Task|任务) `([A-Za-z0-9_-]{1,128})`", re.MULTILINE)


def task_id_in_status(status: str | None) -> str | None:
    """The task id in a status written by `status_markdown`, or None (no task created yet)."""
    found = _STATUS_TASK.search(status or "")
    return found.group(1) if found else None


def details_markdown(state: RunState, lang: Lang = "en") -> str:
    task = state.task
    if task is None:
        return ""
    rows = [("details.task_id", f"`{task.id}`"), ("details.model", task.model or state.model)]
    if task.inference_ms is not None and task.status == "completed":
        rows.append(
            ("details.inference", say(lang, "details.inference_value", seconds=f"{task.inference_ms / 1000:.1f}"))
        )
    if task.has_nsfw_contents:
        rows.append(("details.nsfw", say(lang, "details.flagged" if task.nsfw else "details.not_flagged")))
    if task.video_url and state.preview:
        rows.append(("details.output_url", say(lang, "details.no_url")))
    elif task.video_url:
        rows.append(("details.output_url", say(lang, "details.url_kept", url=f"[{task.video_url}]({task.video_url})")))
    rows.append(("details.price", say(lang, "details.free") if state.preview else format_price(state.price_cents)))
    return "\n".join(f"- **{say(lang, k)}**: {v}" for k, v in rows)


def problem_text(problem: Problem, lang: Lang = "en", page: bool = False) -> str:
    """One reason for a refusal. In English it is kling.api.params' own sentence (the CLI's and the
    API's); in another language the reasons a visitor meets most are translated, the rest keep it.
    `page`: the field named as the page labels it ("Start image"), not as the API does ("image")."""
    names = [f"page_field.{problem.field}"] if page else []
    key = next((name for name in [*names, f"field.{problem.field}"] if name in SAY_EN), None)
    field = say(lang, key) if key else problem.field
    message = problem.message
    if lang != "en" and problem.code and f"problem.{problem.code}" in SAY_EN:
        message = say(lang, f"problem.{problem.code}", **dict(problem.values))
    return say(lang, "problem", field=field, message=message)


def field_problem(problem: Problem, lang: Lang = "en") -> str:
    """A reason as shown beside its own field (the field is named by where it shows)."""
    if lang != "en" and problem.code and f"problem.{problem.code}" in SAY_EN:
        return say(lang, f"problem.{problem.code}", **dict(problem.values))
    return problem.message


def refusal_text(error: ValidationError, lang: Lang = "en", page: bool = False) -> str:
    return say(lang, "refusal", problems=" · ".join(problem_text(p, lang, page) for p in error.problems))


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


def job_status(job: Job, running: bool = False, lang: Lang = "en") -> str:
    if job.clip_saved:
        return say(lang, "job.saved")
    if running:  # this app is still waiting for it: not interrupted, whatever the journal says
        return say(lang, "job.running")
    if job.pruned is not None:  # removed on purpose: nothing to resume
        return say(lang, "job.pruned")
    if job.status == "completed":
        return say(lang, "job.not_downloaded")
    if job.unfinished:  # created, processing, or a status WaveSpeed does not document ("pending")
        status = task_status_word(job.status, lang)
        return say(lang, "job.interrupted_preview") if job.preview else say(lang, "job.resume", status=status)
    status = task_status_word(job.status, lang)
    failed = say(lang, "job.failed_code", status=status, code=job.error_code) if job.error_code else status
    return say(lang, "job.refunded", status=failed) if refunded(job) else failed


def refunded(job: Job) -> bool:
    """A live task WaveSpeed failed: it refunds those, so it is not money spent."""
    return not job.preview and job.status in REFUNDED


def model_name(model: str, lang: Lang = "en") -> str:
    return say(lang, MODEL_SHORT[model]) if model in MODEL_SHORT else model


def history_headers(lang: Lang = "en") -> list[str]:
    return [say(lang, f"history.{column}") for column in HISTORY_COLUMNS]


def thumb_cell(url: str | None, lang: Lang = "en") -> str:
    """History's first cell (an HTML column): the row's clip as a small picture, or a neutral box
    when it has no saved clip (running, failed, pruned), never a broken image. `url`: where Gradio
    serves the thumbnail (a keyed-digest folder of the clip shelf), None for the box."""
    if url:
        return f'<img class="kling-thumb" src="{html.escape(url)}" alt="" loading="lazy">'
    words = html.escape(say(lang, "history.no_clip"))
    return f'<span class="kling-thumb kling-thumb-none" role="img" aria-label="{words}" title="{words}"></span>'


def history_rows(
    jobs: list[Job], running: set[str] | frozenset[str] = frozenset(), lang: Lang = "en"
) -> list[list[str]]:
    return [
        [
            datetime.fromtimestamp(job.created).strftime("%Y-%m-%d %H:%M"),
            job_status(job, job.id in running, lang),
            (job.params.get("prompt") or "")[:90],
            say(lang, "history.preview" if job.preview else "history.live"),
            model_name(job.model, lang),
            history_price(job, lang),
            job.id,
        ]
        for job in jobs
    ]


def history_price(job: Job, lang: Lang = "en") -> str:
    if job.preview:
        return say(lang, "history.free")
    price = format_price(job.price_cents)
    return say(lang, "history.refunded", price=price) if refunded(job) else price


def history_total(jobs: list[Job], lang: Lang = "en") -> str:
    """How many tasks, and what the live ones cost: failed ones are refunded, so not counted."""
    live = [job for job in jobs if not job.preview]
    spent = format_price(sum(job.price_cents for job in live if not refunded(job)))
    tasks = say(lang, "history.tasks_one" if len(jobs) == 1 else "history.tasks", count=len(jobs))
    failed = sum(map(refunded, live))
    refunds = say(lang, "history.refunds", failed=failed) if failed else ""
    return say(
        lang, "history.total", tasks=tasks, spent=spent, live=len(live), preview=len(jobs) - len(live), refunds=refunds
    )


def job_markdown(job: Job, lang: Lang = "en") -> str:
    settings = ", ".join(
        f"{k}: {literal(v)}" for k, v in job.params.items() if k not in ("prompt", "image", "end_image") and v != ""
    )
    head = "job.head_preview" if job.preview else "job.head_live"
    lines = [
        say(lang, head, model=model_name(job.model, lang), task_id=job.id),
        f"> {literal(job.params.get('prompt', ''))}",
        settings,
        say(lang, "job.status", status=job_status(job, lang=lang)),
    ]
    if job.continues:
        lines.append(say(lang, "job.continues", task_id=job.continues))
    if job.error:
        lines.append(job.error)
    if job.output_url and not job.preview:
        lines.append(say(lang, "job.output_url", url=job.output_url))
    return "\n\n".join(line for line in lines if line)


def following_status(state: RunState, lang: Lang = "en") -> str:
    """A run's status on a reloaded page: as its own stream said it, and that it was not sent again."""
    return status_markdown(state, lang=lang) + "\n\n" + say(lang, "comeback.note")


def ended_status(job: Job, lang: Lang = "en") -> str:
    """How a task a reloaded page brings back ended, from its journal row: its clip saved, or its
    failure (which WaveSpeed refunds) in the words the run's own stream used, or its status."""
    elapsed = clock(max(0.0, job.updated - job.created))
    if job.clip_saved:
        lines = [say(lang, "comeback.done", elapsed=elapsed, task_id=job.id)]
    elif job.status in REFUNDED:
        refund = (
            say(lang, "status.failed_free")
            if job.preview
            else say(lang, "status.refunded", price=format_price(job.price_cents))
        )
        task = say(lang, "comeback.task", task_id=job.id, status=task_status_word(job.status, lang))
        lines = [say(lang, "status.failed", elapsed=elapsed), job.error, refund, task]
    else:
        lines = [say(lang, "background.ended", task_id=job.id, status=job_status(job, lang=lang))]
    if job.preview:
        lines.append(say(lang, "status.preview"))
    return "\n\n".join([*(line for line in lines if line), say(lang, "comeback.note")])


# -- the showcase: real clips of the examples --------------------------------------------------------


def showcase_label(clip: ShowcaseClip, lang: Lang = "en") -> str:
    """What a showcase clip is, in the words the page shows above it."""
    return say(lang, "showcase.label", made=clip.made[:10])


def showcase_status(title: str, clip: ShowcaseClip, lang: Lang = "en") -> str:
    return say(lang, "showcase.status", title=title, made=clip.made[:10])


def showcase_details(clip: ShowcaseClip, lang: Lang = "en") -> str:
    rows = [
        (say(lang, "details.task_id"), f"`{clip.task_id}`"),
        (say(lang, "details.model"), clip.model),
        (say(lang, "showcase.made"), clip.made),
    ]
    rows += [
        (say(lang, f"showcase.{key}"), str(clip.settings[key])) for key in SHOWCASE_SETTINGS if key in clip.settings
    ]
    rows.append((say(lang, "details.price"), say(lang, "showcase.price")))
    return "\n".join(f"- **{k}**: {v}" for k, v in rows)


def showcase_note(clips: int, preview: bool) -> str:
    """The key of the line beside the examples when some have a real clip; "" when none has."""
    if not clips:
        return ""
    return "showcase.note_preview" if preview else "showcase.note"


def example_caption(title: str, has_clip: bool, lang: Lang = "en", aspect_ratio: str = "") -> str:
    """A thumbnail's caption, which Gradio's gallery also uses as the image's alt text: the title,
    a Text to Video example's aspect ratio, and whether the showcase has its clip."""
    caption = say(lang, "example.caption", title=title, aspect_ratio=aspect_ratio) if aspect_ratio else title
    return say(lang, "example.with_clip", caption=caption) if has_clip else caption


# -- continue and stitch -------------------------------------------------------------------------


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


def continuing_note(job: Job, lang: Lang = "en") -> str:
    return say(lang, "continue.note", task_id=job.id)
