"""The Space: Image to Video and Text to Video tabs over `kling.runner`.

Constants and copy first, then the page in one `gr.Blocks`, then the wiring. Handlers stay short:
validation lives in `kling.params`, the API in `kling.client`, the background job in `kling.runner`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from . import lab
from .backend import Backend
from .client import is_task_id
from .config import Settings
from .errors import ValidationError
from .guard import SpendGuard, SpendRefused
from .journal import Job, Journal
from .params import (
    ASPECT_RATIOS,
    DEFAULT_GUIDANCE,
    DURATIONS,
    GUIDANCE_MAX,
    GUIDANCE_MIN,
    PROMPT_MAX_CHARS,
    I2VRequest,
    T2VRequest,
    format_price,
    price_cents,
)
from .runner import Runner, RunState
from .webhooks import WEBHOOK_PATH

# -- copy --------------------------------------------------------------------------------------

TITLE = "Kling Studio"
TAGLINE = "Kling v2.0 master image-to-video and text-to-video through the WaveSpeed API."
MODE_LIVE = "🟢 **Live (WaveSpeed API)**: every clip is a paid Kling v2.0 master generation."
MODE_OWN_KEY = "🟢 **Live (WaveSpeed API), with your own key**: clips are billed to your WaveSpeed account."
MODE_PREVIEW = (
    "🟡 **Preview: clips are simulated locally, no API key set.** They are stand-ins marked PREVIEW, "
    "not Kling output. Add your own WaveSpeed key below to generate for real."
)
KEY_HELP = "Kept in this browser only (local storage); sent to this server only while a generation runs."
GUIDANCE_HELP = "How literally the clip follows the prompt: lower is more natural, higher is more literal."
PREVIEW_VIDEO_LABEL = "Preview clip (simulated, not Kling output)"
HEADER_KEY = "x-wavespeed-key"  # lets scripts using gradio_client bring their own key

HOW_TO_PROMPT = """
Write the prompt like a director's brief:
- **Subject action**: what the main subject does over time (smile, turn, wave, stand up, walk)
- **Environment motion**: wind in trees, dust, rain, fog, drifting particles
- **Camera motion**: slow push-in, orbit, gentle pan, steady handheld feel
- **Continuity rules**: keep identity, outfit, and scene layout consistent; if using end_image, ensure the motion "lands" on that end frame naturally
"""

CAMERA_MOVES = {
    "Slow push-in": "Camera slowly pushes in.",
    "Orbit": "Camera slow orbit.",
    "Gentle pan": "Gentle pan.",
    "Handheld micro-shake": "Gentle handheld micro-sway.",
}

# The seed pages' example prompts and negative prompts, word for word.
EXAMPLE_PROMPTS = [
    "A warm, serene park scene. An elderly couple sits on a bench; the wife gently pats her husband’s back, "
    "both smiling. Sunlight filters through leaves with soft dappled shadows. Camera slowly pushes in, subtle "
    "breeze moves their hair and clothing, natural motion, 5 seconds.",
    "Portrait outdoors at golden hour. The subject smiles and looks toward the camera, hair sways slightly in "
    "the wind. Gentle handheld micro-sway, shallow depth of field, 5 seconds.",
    "Cozy indoor scene. The subject turns a page in a book, warm lamp lighting, floating dust motes, camera "
    "slow orbit, 5 seconds.",
]
EXAMPLE_NEGATIVES = [
    "blur, distort, low quality",
    "jitter, warping, flicker, melted details",
    "watermark, logo, subtitles, text artifacts",
]
ASSETS = Path(__file__).resolve().parent.parent / "assets"
I2V_EXAMPLES = [
    [str(ASSETS / "chelsea.png"), EXAMPLE_PROMPTS[0], EXAMPLE_NEGATIVES[0]],
    [str(ASSETS / "astronaut.png"), EXAMPLE_PROMPTS[1], EXAMPLE_NEGATIVES[1]],
    [str(ASSETS / "coffee.png"), EXAMPLE_PROMPTS[2], EXAMPLE_NEGATIVES[2]],
]
T2V_EXAMPLES = [[p, n] for p, n in zip(EXAMPLE_PROMPTS, EXAMPLE_NEGATIVES)]

BRIEF_FIELDS = {
    "Subject action": "what the main subject does over time (smile, turn, wave, stand up, walk)",
    "Environment motion": "wind in trees, dust, rain, fog, drifting particles",
    "Camera motion": "slow push-in, orbit, gentle pan, steady handheld feel",
    "Continuity": "keep identity, outfit and scene layout consistent; land on the end frame",
}
LINK_JS = """(tab, prompt, negative, third, duration) => {
  const url = new URL(window.location.href);
  url.search = "";
  const params = new URLSearchParams({tab, prompt: prompt || "", duration: String(duration)});
  if (negative) params.set("negative_prompt", negative);
  params.set(tab === "i2v" ? "guidance_scale" : "aspect_ratio", String(third));
  url.search = params.toString();
  try { navigator.clipboard.writeText(url.toString()); } catch (e) {}
  return url.toString();
}"""
QUERY_TABS = ("i2v", "t2v", "lab", "history")
LAB_I2V, LAB_T2V = "Image to Video", "Text to Video"
LAB_HELP = (
    "Run 2 to 4 variants of one idea at once and compare them side by side. Each variant is a "
    "normal task (it is in History, and it is billed like any other)."
)

HISTORY_COLUMNS = ["When", "Mode", "Model", "Prompt", "Status", "Price", "Task id"]
HISTORY_HELP = "This browser's tasks, newest first. Select a row to see its clip and settings."
MODEL_SHORT = {"kwaivgi/kling-v2.0-i2v-master": "Image to Video", "kwaivgi/kling-v2.0-t2v-master": "Text to Video"}

COUNT_JS = (
    f"(text) => {{ const n = (text || '').length; return n > {PROMPT_MAX_CHARS} "
    f"? `⚠️ ${{n}} / {PROMPT_MAX_CHARS} characters: ${{n - {PROMPT_MAX_CHARS}}} over the limit` "
    f": `${{n}} / {PROMPT_MAX_CHARS} characters`; }}"
)
CSS = """
.kling-count { opacity: .7; font-size: .85em; margin-top: -.5em; }
.kling-price { text-align: right; align-self: center; }
.kling-status { min-height: 4.5em; }
"""

# -- what the page shows ------------------------------------------------------------------------


def mode_banner(settings: Settings, user_key: str, budget_left_cents: int | None = None) -> str:
    if user_key:
        return MODE_OWN_KEY
    if not settings.api_key:
        return MODE_PREVIEW
    if settings.require_user_key:
        return MODE_LIVE + " This Space asks you to bring your own key (below)."
    limits = f" Limits for this Space's key: {settings.tasks_per_hour_per_browser} clips per hour per visitor"
    if budget_left_cents is not None:
        limits += (
            f"; {format_price(budget_left_cents)} of today's {format_price(settings.daily_budget_cents)} budget left"
        )
    return MODE_LIVE + limits + "."


def client_address(request: gr.Request | None) -> str:
    """The visitor's address; behind the Spaces proxy, the first X-Forwarded-For hop."""
    if request is None:
        return ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else ""


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


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def status_markdown(state: RunState, now: float | None = None) -> str:
    elapsed = _clock(state.elapsed(now))
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


def servable(path: Path) -> str:
    """A temp-dir link to the clip for Gradio to serve: the data folder itself stays blocked from
    the file routes (journal, other browsers' clips)."""
    link = Path(tempfile.gettempdir()) / "kling-clips" / path.name
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        try:
            os.link(path, link)
        except OSError:  # another filesystem (Spaces' /data): copy instead
            shutil.copyfile(path, link)
    return str(link)


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
    return f"{HISTORY_HELP}\n\n**{len(jobs)} tasks** · spent on live clips: **{spent}** ({len(live)} live, {len(jobs) - len(live)} preview)"


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
    if job.error:
        lines.append(job.error)
    if job.output_url and not job.preview:
        lines.append(f"Output URL: {job.output_url}")
    return "\n\n".join(line for line in lines if line)


# -- handlers -----------------------------------------------------------------------------------


@dataclass
class Handlers:
    settings: Settings
    runner: Runner
    journal: Journal

    def _key(self, session: dict | None, request: gr.Request | None) -> str | None:
        own = (session or {}).get("key") or ""
        header = request.headers.get(HEADER_KEY, "") if request is not None else ""
        return own.strip() or header.strip() or None

    def _owner(self, session: dict | None, request: gr.Request | None) -> str:
        owner = (session or {}).get("owner") or ""
        if not owner and request is not None and request.session_hash:
            owner = f"api-{request.session_hash}"  # a script via gradio_client: no browser storage
        return owner

    def _preview(self, session: dict | None) -> bool:
        return self.runner.backend.is_preview((session or {}).get("key"))

    # The public endpoints. Their docstrings are the API's (and the MCP tools') documentation.

    async def image_to_video(
        self,
        image,
        prompt,
        negative_prompt,
        guidance_scale,
        duration,
        end_image,
        session=None,
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        """Animate a start image into a Kling v2.0 master clip (5 or 10 s) and stream its progress.

        Args:
            image: the start image (JPEG/PNG/WebP..., at least 300x300 px, aspect between 1:2.5 and 2.5:1), a file or an http(s) URL.
            prompt: what happens and how the camera moves, at most 2500 characters.
            negative_prompt: what to avoid, e.g. "blur, distort, low quality".
            guidance_scale: 0.0 to 1.0 (default 0.5); lower is more natural, higher follows the prompt more literally.
            duration: clip length in seconds, 5 or 10.
            end_image: optional end frame the motion should land on (same rules as image).
        Returns:
            Status updates, then the MP4 clip.
        """
        request_ = I2VRequest(
            image=image,
            prompt=prompt or "",
            negative_prompt=negative_prompt or "",
            guidance_scale=guidance_scale,
            duration=duration,
            end_image=end_image or None,
        )
        async for outputs in self._generate(request_, session, request, progress):
            yield outputs

    async def text_to_video(
        self,
        prompt,
        negative_prompt,
        aspect_ratio,
        duration,
        session=None,
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        """Generate a Kling v2.0 master clip from a text prompt and stream its progress.

        Args:
            prompt: the scene, the action and the camera, at most 2500 characters.
            negative_prompt: what to avoid, e.g. "watermark, logo, subtitles, text artifacts".
            aspect_ratio: "16:9", "9:16" or "1:1".
            duration: clip length in seconds, 5 or 10.
        Returns:
            Status updates, then the MP4 clip.
        """
        request_ = T2VRequest(
            prompt=prompt or "", negative_prompt=negative_prompt or "", aspect_ratio=aspect_ratio, duration=duration
        )
        async for outputs in self._generate(request_, session, request, progress):
            yield outputs

    async def _generate(self, request_, session, request, progress=None):
        try:
            # In a thread: decoding and re-encoding a 12 MP photo takes ~0.2 s, and the event loop
            # is every other visitor's progress stream.
            checked = await asyncio.to_thread(request_.validate)
        except ValidationError as exc:
            raise gr.Error(refusal_text(exc), title="Check the input") from None
        try:
            run = self.runner.start(
                checked,
                owner=self._owner(session, request),
                user_key=self._key(session, request),
                ip=client_address(request),
            )
        except SpendRefused as exc:
            raise gr.Error(str(exc), title="Limit reached") from None
        async for state in run.watch(tick=1.0):
            if progress is not None:  # MCP clients receive these as progress notifications
                progress((state.polls, None), desc=f"{state.status_words} ({_clock(state.elapsed())})")
            yield self._outputs(state)
        if state.error is not None:
            raise gr.Error(str(state.error), title="The generation failed")

    def _outputs(self, state: RunState) -> tuple[str, str | None, str, str]:
        video = servable(state.path) if state.stage == "done" and state.path is not None else None
        return status_markdown(state), video, details_markdown(state), state.task_id or ""

    # Validators run before anything is queued: the refusal shows beside the input at fault.

    def check_i2v(self, image, prompt, negative_prompt, guidance_scale, duration, end_image, session=None):
        return _field_checks(
            I2VRequest(
                image=image,
                prompt=prompt or "",
                negative_prompt=negative_prompt or "",
                guidance_scale=guidance_scale,
                duration=duration,
                end_image=end_image or None,
            ),
            ["image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image", "session"],
        )

    def check_t2v(self, prompt, negative_prompt, aspect_ratio, duration, session=None):
        return _field_checks(
            T2VRequest(
                prompt=prompt or "", negative_prompt=negative_prompt or "", aspect_ratio=aspect_ratio, duration=duration
            ),
            ["prompt", "negative_prompt", "aspect_ratio", "duration", "session"],
        )

    # Private helpers for the page.

    def prefill(self, request: gr.Request = None):
        """Fill the form from a shared link's query parameters."""
        found = settings_from_query(dict(request.query_params) if request is not None else {})
        tab = found["tab"] or ("t2v" if "aspect_ratio" in found else "i2v" if len(found) > 1 else None)

        def value(name: str, on_tab: str) -> Any:
            return found[name] if name in found and tab == on_tab else gr.skip()

        return (
            gr.Tabs(selected=tab) if tab else gr.skip(),
            value("prompt", "i2v"),
            value("negative_prompt", "i2v"),
            value("guidance_scale", "i2v"),
            value("duration", "i2v"),
            value("prompt", "t2v"),
            value("negative_prompt", "t2v"),
            value("aspect_ratio", "t2v"),
            value("duration", "t2v"),
        )

    def stop_waiting(self, task_id: str, session: dict | None) -> str:
        if not task_id:
            return "Stopped. No task had been created yet, so nothing was sent or charged."
        billed = "It is a free preview." if self._preview(session) else "It is still billed."
        return (
            f"### ⏹ Stopped waiting\n\nTask `{task_id}` keeps running at WaveSpeed. {billed} "
            "Its clip is still saved when it finishes: find it in the History tab."
        )

    async def restore(self, owner: str | None, saved_key: str | None, i2v_duration: Any, t2v_duration: Any):
        owner = owner or uuid.uuid4().hex
        session = {"owner": owner, "key": (saved_key or "").strip()}
        if session["key"]:
            # Tasks paid with this browser's own key can only resume now that the key is back.
            self.runner.resume_unfinished(owner=owner, user_key=session["key"])
        return owner, session, *self._mode_view(session, i2v_duration, t2v_duration)

    def save_key(self, typed: str, session: dict | None, i2v_duration: Any, t2v_duration: Any):
        key = (typed or "").strip()
        if not key:
            gr.Warning("Paste a WaveSpeed API key first.")
        session = {**(session or {}), "key": key}
        return key, session, "", *self._mode_view(session, i2v_duration, t2v_duration)

    def clear_key(self, session: dict | None, i2v_duration: Any, t2v_duration: Any):
        session = {**(session or {}), "key": ""}
        return "", session, "", *self._mode_view(session, i2v_duration, t2v_duration)

    def _mode_view(self, session: dict, i2v_duration: Any, t2v_duration: Any) -> tuple:
        """Everything on the page that depends on live or preview: banner, key note, prices, labels."""
        key, preview = session.get("key", ""), self._preview(session)
        label = PREVIEW_VIDEO_LABEL if preview else "Kling v2.0 master clip"
        guard = self.runner.guard
        budget = guard.budget_left_cents() if guard else None
        return (
            mode_banner(self.settings, key, budget),
            key_status(self.settings, key),
            price_text(i2v_duration, preview),
            price_text(t2v_duration, preview),
            gr.Video(label=label),
            gr.Video(label=label),
        )

    def price(self, duration: Any, session: dict | None) -> str:
        return price_text(duration, self._preview(session))


class HistoryHandlers:
    """The History tab: a browser sees only its own rows."""

    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers

    def _job(self, task_id: str, session: dict | None) -> Job | None:
        job = self.h.journal.get(task_id) if task_id else None
        return job if job is not None and job.owner == (session or {}).get("owner") else None

    def list(self, session: dict | None):
        jobs = self.h.journal.for_owner((session or {}).get("owner") or "-")
        return history_total(jobs), history_rows(jobs)

    def select(self, session: dict | None, evt: gr.SelectData):
        row = evt.row_value or []
        job = self._job(str(row[-1]) if row else "", session)
        if job is None:
            return "", None, "Select a row to see its clip and settings."
        return job.id, (servable(Path(job.local_path)) if job.clip_saved else None), job_markdown(job)

    def use_settings(self, task_id: str, session: dict | None):
        """Fill the form of the job's tab with its settings and switch to that tab."""
        job = self._job(task_id, session)
        skip_i2v, skip_t2v = [gr.skip()] * 6, [gr.skip()] * 4
        if job is None:
            gr.Warning("Select one of your tasks first.")
            return gr.skip(), *skip_i2v, *skip_t2v
        p = job.params
        if job.model.endswith("i2v-master"):
            image, end = p.get("image") or None, p.get("end_image") or None
            return (
                gr.Tabs(selected="i2v"),
                image,
                p.get("prompt", ""),
                p.get("negative_prompt", ""),
                p.get("guidance_scale", 0.5),
                p.get("duration", 5),
                end,
                *skip_t2v,
            )
        return (
            gr.Tabs(selected="t2v"),
            *skip_i2v,
            p.get("prompt", ""),
            p.get("negative_prompt", ""),
            p.get("aspect_ratio", "16:9"),
            p.get("duration", 5),
        )

    async def resume(self, task_id: str, session: dict | None, request: gr.Request = None):
        task_id = (task_id or "").strip()
        if not is_task_id(task_id):
            raise gr.Error(f"{task_id[:60]!r} is not a task id (letters, digits, - and _).", title="Check the id")
        job = self.h.journal.get(task_id)
        if job is not None and job.owner != (session or {}).get("owner"):
            raise gr.Error("That task belongs to another browser.", title="Not yours")
        if job is not None and job.preview and job.unfinished:
            raise gr.Error("Preview tasks live only as long as the app that made them; this one cannot be resumed.")
        run = self.h.runner.resume(
            task_id, owner=self.h._owner(session, request), user_key=self.h._key(session, request)
        )
        async for state in run.watch(tick=1.0):
            video = servable(state.path) if state.stage == "done" and state.path else None
            yield status_markdown(state), video
        if state.error is not None:
            raise gr.Error(str(state.error), title="Could not resume")


class LabHandlers:
    """The Prompt Lab: variants validated together, started together, watched together."""

    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers

    @staticmethod
    def _variants(count: Any, values: tuple) -> list[lab.Variant]:
        return [
            lab.Variant(
                prompt=values[i] or "",
                negative_prompt=values[i + 1] or "",
                guidance_scale=values[i + 2],
                duration=values[i + 3],
            )
            for i in range(0, 4 * int(count), 4)
        ]

    async def run(
        self,
        mode,
        image,
        aspect_ratio,
        count,
        session,
        p1,
        n1,
        g1,
        d1,
        p2,
        n2,
        g2,
        d2,
        p3,
        n3,
        g3,
        d3,
        p4,
        n4,
        g4,
        d4,
        request: gr.Request = None,
    ):
        variants = self._variants(count, (p1, n1, g1, d1, p2, n2, g2, d2, p3, n3, g3, d3, p4, n4, g4, d4))
        i2v = mode == LAB_I2V
        if i2v and not image:
            raise gr.Error("Image to Video needs a start image: add one above, or switch to Text to Video.")
        try:
            requests = lab.validated(variants, image=image if i2v else None, aspect_ratio=aspect_ratio)
        except ValidationError as exc:
            raise gr.Error(refusal_text(exc), title="Check the variants") from None
        labels, runs, refused = lab.differences(variants, i2v=i2v), [], ""
        for request_ in requests:
            try:
                runs.append(
                    self.h.runner.start(
                        request_,
                        owner=self.h._owner(session, request),
                        user_key=self.h._key(session, request),
                        ip=client_address(request),
                    )
                )
            except SpendRefused as exc:
                refused = f"Variants from {lab.LETTERS[len(runs)]} on were not started: {exc}"
                break
        while True:
            states = [run.state for run in runs]
            yield self._outputs(labels, states, refused)
            if all(state.finished for state in states):
                return
            await asyncio.sleep(0.5)

    @staticmethod
    def _outputs(labels: list[str], states: list[RunState], refused: str) -> list[Any]:
        statuses: list[Any] = [gr.skip()] * lab.MAX_VARIANTS
        videos: list[Any] = [gr.skip()] * lab.MAX_VARIANTS
        for i, state in enumerate(states):
            statuses[i] = f"**{labels[i]}**\n\n{status_markdown(state)}"
            videos[i] = servable(state.path) if state.stage == "done" and state.path else None
        done = sum(state.stage == "done" for state in states)
        summary = f"{done} of {len(states)} variants done." + (f"\n\n{refused}" if refused else "")
        return [*statuses, *videos, summary]

    def layout(self, mode: str, count: Any):
        """Show the slots in use, the image or the aspect ratio, and guidance only for I2V."""
        i2v = mode == LAB_I2V
        slots = [gr.Column(visible=i < int(count)) for i in range(lab.MAX_VARIANTS)]
        guidance = [gr.Slider(visible=i2v) for _ in range(lab.MAX_VARIANTS)]
        return gr.Image(visible=i2v), gr.Radio(visible=not i2v), *slots, *guidance

    def price(self, count: Any, session: dict | None, d1, d2, d3, d4) -> str:
        return lab.total_price_text([d1, d2, d3, d4][: int(count)], preview=self.h._preview(session))

    @staticmethod
    def use(mode, image, aspect_ratio, prompt, negative, guidance, duration):
        """Copy one variant's settings to the main tab of its model."""
        if mode == LAB_I2V:
            return (
                gr.Tabs(selected="i2v"),
                image,
                prompt,
                negative,
                guidance,
                duration,
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
        return (
            gr.Tabs(selected="t2v"),
            gr.skip(),
            gr.skip(),
            gr.skip(),
            gr.skip(),
            gr.skip(),
            prompt,
            negative,
            aspect_ratio,
            duration,
        )


# Pieces both generate tabs have, built in place (inside the page's `with gr.Blocks()`).


@dataclass
class PromptInputs:
    prompt: gr.Textbox
    count: gr.Markdown
    moves: list[gr.Button]
    negative: gr.Textbox
    brief: list[gr.Textbox]
    compose: gr.Button


def prompt_inputs(placeholder: str) -> PromptInputs:
    """Prompt with its live count and camera-move buttons, negative prompt, and the director's
    brief (the prompting guide as four fields that compose the prompt, which stays editable)."""
    prompt = gr.Textbox(label="Prompt", lines=4, placeholder=placeholder)
    count = gr.Markdown(f"0 / {PROMPT_MAX_CHARS} characters", elem_classes="kling-count")
    with gr.Row():
        moves = [gr.Button(name, size="sm") for name in CAMERA_MOVES]
    negative = gr.Textbox(label="Negative prompt", placeholder="What to avoid")
    with gr.Accordion("Director's brief", open=False):
        brief = [gr.Textbox(label=name, placeholder=hint, lines=1) for name, hint in BRIEF_FIELDS.items()]
        compose = gr.Button("Compose the prompt", size="sm")
    return PromptInputs(prompt, count, moves, negative, brief, compose)


def duration_radio() -> gr.Radio:
    """5 or 10 s. Gradio describes every Radio to API and MCP clients as a string, which made an
    agent that sent the integer 5 fail schema validation: this one says what the API field is."""
    radio = gr.Radio(list(DURATIONS), value=DURATIONS[0], label="Duration (seconds)")
    radio.api_info = lambda: {"enum": list(DURATIONS), "title": "Duration", "type": "integer"}
    return radio


@dataclass
class RunButtons:
    price: gr.Markdown
    go: gr.Button
    stop: gr.Button


def run_buttons() -> RunButtons:
    with gr.Row():
        return RunButtons(
            gr.Markdown(elem_classes="kling-price"),
            gr.Button("Generate", variant="primary"),
            gr.Button("Stop waiting", variant="stop"),
        )


@dataclass
class ResultPanel:
    status: gr.Markdown
    video: gr.Video
    details: gr.Markdown
    link_button: gr.Button
    link: gr.Textbox
    task: gr.State  # the current task id, for "Stop waiting"


def result_panel() -> ResultPanel:
    status = gr.Markdown("Ready.", elem_classes="kling-status")
    video = gr.Video(
        label="Clip", show_label=False, autoplay=True, loop=True, buttons=["download"], interactive=False, height=480
    )
    details = gr.Markdown()
    with gr.Row():
        link_button = gr.Button("Copy link to these settings", size="sm", scale=1)
        link = gr.Textbox(
            show_label=False, placeholder="the link (no key, no images) appears here", interactive=False, scale=2
        )
    return ResultPanel(status, video, details, link_button, link, gr.State(""))


def _field_checks(request_: I2VRequest | T2VRequest, names: list[str]) -> list[dict]:
    try:
        request_.validate()
    except ValidationError as exc:
        by_field: dict[str, list[str]] = {}
        for problem in exc.problems:
            by_field.setdefault(problem.field, []).append(problem.message)
        return [gr.validate(name not in by_field, "; ".join(by_field.get(name, []))) for name in names]
    return [gr.validate(True, "") for _ in names]


# -- the page -----------------------------------------------------------------------------------


@dataclass
class Studio:
    """Everything the app holds for its lifetime: configuration and the services built from it."""

    settings: Settings
    backend: Backend
    journal: Journal
    runner: Runner

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> Studio:
        settings = settings or Settings.from_env()
        backend = Backend(settings, webhooks=True)  # launch_kwargs() serves the route
        journal = Journal(settings.journal_path)
        return cls(settings, backend, journal, Runner(backend, journal, SpendGuard(settings, journal)))

    def build(self) -> gr.Blocks:
        return build_app(self)

    def launch_kwargs(self, *, share: bool | None = None) -> dict[str, Any]:
        """What `launch()` needs: theme and css (Gradio 6 takes them here), no run history, no file
        route into the data folder, a start-up hook that resumes unfinished paid tasks, the webhook
        route when KLING_PUBLIC_URL is set, and the optional share link and MCP server."""
        runner = self.runner

        @asynccontextmanager
        async def resume_on_start(app):
            resumed = runner.resume_unfinished()
            if resumed:
                print(f"Resuming {len(resumed)} unfinished task(s) paid with this Space's key.", flush=True)
            yield

        return {
            "auth": list(self.settings.auth) or None,
            "theme": gr.themes.Soft(),
            "css": CSS,
            "run_history": False,
            "footer_links": ["api", "gradio"],
            "blocked_paths": [str(self.settings.data_dir.resolve()), str(Path(".env").resolve())],
            "app_kwargs": {"lifespan": resume_on_start, "routes": self.webhook_routes()},
            # Gradio runs at most `max_threads` events at once whatever their concurrency_limit
            # (its queue has that many worker slots), async or not: 40 would make the 41st visitor
            # wait a whole generation. Handlers are async, so a slot costs a coroutine, not a thread.
            "max_threads": max(40, self.settings.concurrency),
            "state_session_capacity": self.settings.session_capacity,
            "share": self.settings.share if share is None else share,
            "mcp_server": self.settings.mcp,
        }

    def webhook_routes(self) -> list[Route]:
        """WaveSpeed's webhook, as a plain route on Gradio's own FastAPI app (`app_kwargs["routes"]`
        are registered before Gradio's, so `python app.py` stays the entry point). Outside Gradio's
        login: WaveSpeed cannot log in; the signature is the authentication."""
        if not self.settings.public_url:
            return []
        backend = self.backend

        async def webhook(request: Request) -> PlainTextResponse:
            status, text = await backend.receive_webhook(request.headers, await request.body())
            return PlainTextResponse(text, status_code=status)

        return [Route(WEBHOOK_PATH, webhook, methods=["POST"])]


def build_app(studio: Studio | None = None) -> gr.Blocks:
    studio = studio or Studio.from_env()
    settings = studio.settings
    handlers = Handlers(settings, studio.runner, studio.journal)
    history = HistoryHandlers(handlers)
    lab_handlers = LabHandlers(handlers)
    secret = os.environ.get("KLING_STATE_SECRET") or None

    with gr.Blocks(title=TITLE) as demo:
        owner_store = gr.BrowserState(None, storage_key="kling-studio-owner", secret=secret)
        key_store = gr.BrowserState("", storage_key="kling-studio-key", secret=secret)
        session = gr.State({"owner": "", "key": ""})

        gr.Markdown(f"# 🎬 {TITLE}\n{TAGLINE}")
        banner = gr.Markdown(mode_banner(settings, ""), elem_id="mode-banner")

        with gr.Accordion("Your API key", open=False):
            key_box = gr.Textbox(label="WaveSpeed API key", type="password", info=KEY_HELP, placeholder="wsk_...")
            with gr.Row():
                save_key = gr.Button("Save in this browser", size="sm")
                clear_key = gr.Button("Clear", size="sm")
            key_info = gr.Markdown(key_status(settings, ""))

        with gr.Tabs() as tabs:
            with gr.Tab("Image to Video", id="i2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        with gr.Row():
                            i2v_image = gr.Image(
                                label="Start image", type="filepath", sources=["upload", "clipboard"], height=220
                            )
                            i2v_end = gr.Image(
                                label="End image (optional)",
                                type="filepath",
                                sources=["upload", "clipboard"],
                                height=220,
                            )
                        i2v_text = prompt_inputs("What happens, and how the camera moves")
                        with gr.Accordion("Advanced", open=False):
                            i2v_guidance = gr.Slider(
                                GUIDANCE_MIN,
                                GUIDANCE_MAX,
                                value=DEFAULT_GUIDANCE,
                                step=0.05,
                                label="Guidance scale",
                                info=GUIDANCE_HELP,
                            )
                            i2v_duration = duration_radio()
                        i2v_buttons = run_buttons()
                    with gr.Column(scale=1, min_width=320):
                        i2v_out = result_panel()
                gr.Examples(
                    I2V_EXAMPLES,
                    inputs=[i2v_image, i2v_text.prompt, i2v_text.negative],
                    cache_examples=False,
                    label="Examples from the model page (click to fill the form)",
                )

            with gr.Tab("Text to Video", id="t2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        t2v_text = prompt_inputs("The scene, the action and the camera")
                        t2v_aspect = gr.Radio(list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label="Aspect ratio")
                        t2v_duration = duration_radio()
                        t2v_buttons = run_buttons()
                    with gr.Column(scale=1, min_width=320):
                        t2v_out = result_panel()
                gr.Examples(
                    T2V_EXAMPLES,
                    inputs=[t2v_text.prompt, t2v_text.negative],
                    cache_examples=False,
                    label="Examples from the model page (click to fill the form)",
                )

            with gr.Tab("Prompt Lab", id="lab"):
                gr.Markdown(LAB_HELP)
                with gr.Row():
                    lab_mode = gr.Radio([LAB_I2V, LAB_T2V], value=LAB_I2V, label="Model")
                    lab_count = gr.Radio([2, 3, 4], value=2, label="Variants")
                with gr.Row():
                    lab_image = gr.Image(
                        label="Start image (shared by every variant)",
                        type="filepath",
                        sources=["upload", "clipboard"],
                        height=220,
                    )
                    lab_aspect = gr.Radio(
                        list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label="Aspect ratio", visible=False
                    )
                lab_slots, lab_fields, lab_statuses, lab_videos, lab_uses = [], [], [], [], []
                for row in range(2):
                    with gr.Row(equal_height=False):
                        for letter in lab.LETTERS[2 * row : 2 * row + 2]:
                            with gr.Column(visible=row == 0, min_width=300) as slot:
                                lab_fields += [
                                    gr.Textbox(label=f"Variant {letter}: prompt", lines=3),
                                    gr.Textbox(label="Negative prompt"),
                                    gr.Slider(
                                        GUIDANCE_MIN,
                                        GUIDANCE_MAX,
                                        value=DEFAULT_GUIDANCE,
                                        step=0.05,
                                        label="Guidance scale",
                                    ),
                                    gr.Radio(list(DURATIONS), value=DURATIONS[0], label="Duration (seconds)"),
                                ]
                                lab_statuses.append(gr.Markdown())
                                lab_videos.append(
                                    gr.Video(
                                        label=f"Variant {letter}", loop=True, buttons=["download"], interactive=False
                                    )
                                )
                                lab_uses.append(gr.Button("Use this one", size="sm"))
                            lab_slots.append(slot)
                with gr.Row():
                    lab_price = gr.Markdown(elem_classes="kling-price")
                    lab_run = gr.Button("Run all variants", variant="primary")
                    lab_stop = gr.Button("Stop waiting", variant="stop")
                lab_summary = gr.Markdown()

            with gr.Tab("History", id="history") as history_tab:
                history_info = gr.Markdown(HISTORY_HELP)
                history_table = gr.Dataframe(headers=HISTORY_COLUMNS, interactive=False, wrap=True, max_height=420)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        history_video = gr.Video(label="Clip", loop=True, buttons=["download"], interactive=False)
                    with gr.Column(scale=1, min_width=320):
                        history_job = gr.Markdown("Select a row to see its clip and settings.")
                        with gr.Row():
                            use_settings = gr.Button("Use these settings", size="sm")
                            resume_selected = gr.Button("Resume", size="sm")
                            refresh = gr.Button("Refresh", size="sm")
                        resume_id = gr.Textbox(
                            label="Resume any task id", placeholder="an id from the CLI or WaveSpeed's dashboard"
                        )
                        resume_typed = gr.Button("Resume this id", size="sm")
                selected_id = gr.State("")

        with gr.Accordion("How to prompt", open=False):
            gr.Markdown(HOW_TO_PROMPT)

        # -- wiring ------------------------------------------------------------------------------
        private = {"api_visibility": "private", "queue": False}
        generation = {"concurrency_limit": settings.concurrency, "concurrency_id": "generation"}
        durations = [i2v_duration, t2v_duration]
        mode_view = [banner, key_info, i2v_buttons.price, t2v_buttons.price, i2v_out.video, t2v_out.video]

        demo.load(handlers.restore, [owner_store, key_store, *durations], [owner_store, session, *mode_view], **private)
        save_key.click(
            handlers.save_key, [key_box, session, *durations], [key_store, session, key_box, *mode_view], **private
        )
        clear_key.click(handlers.clear_key, [session, *durations], [key_store, session, key_box, *mode_view], **private)

        for text in (i2v_text, t2v_text):
            text.prompt.change(None, text.prompt, text.count, js=COUNT_JS)
            for button, phrase in zip(text.moves, CAMERA_MOVES.values()):
                button.click(
                    None, text.prompt, text.prompt, js=f"(p) => (p && p.trim() ? p.trim() + ' ' : '') + {phrase!r}"
                )
            text.compose.click(compose_brief, text.brief, text.prompt, **private)
        i2v_duration.change(handlers.price, [i2v_duration, session], i2v_buttons.price, **private)
        t2v_duration.change(handlers.price, [t2v_duration, session], t2v_buttons.price, **private)

        i2v_inputs = [i2v_image, i2v_text.prompt, i2v_text.negative, i2v_guidance, i2v_duration, i2v_end, session]
        i2v_run = i2v_buttons.go.click(
            handlers.image_to_video,
            i2v_inputs,
            [i2v_out.status, i2v_out.video, i2v_out.details, i2v_out.task],
            validator=handlers.check_i2v,
            api_name="image_to_video",
            show_progress_on=i2v_out.video,
            **generation,
        )
        i2v_buttons.stop.click(
            handlers.stop_waiting, [i2v_out.task, session], i2v_out.status, cancels=[i2v_run], **private
        )

        t2v_inputs = [t2v_text.prompt, t2v_text.negative, t2v_aspect, t2v_duration, session]
        t2v_run = t2v_buttons.go.click(
            handlers.text_to_video,
            t2v_inputs,
            [t2v_out.status, t2v_out.video, t2v_out.details, t2v_out.task],
            validator=handlers.check_t2v,
            api_name="text_to_video",
            show_progress_on=t2v_out.video,
            **generation,
        )
        t2v_buttons.stop.click(
            handlers.stop_waiting, [t2v_out.task, session], t2v_out.status, cancels=[t2v_run], **private
        )

        i2v_out.link_button.click(
            None,
            [gr.State("i2v"), i2v_text.prompt, i2v_text.negative, i2v_guidance, i2v_duration],
            i2v_out.link,
            js=LINK_JS,
        )
        t2v_out.link_button.click(
            None,
            [gr.State("t2v"), t2v_text.prompt, t2v_text.negative, t2v_aspect, t2v_duration],
            t2v_out.link,
            js=LINK_JS,
        )
        demo.load(
            handlers.prefill,
            None,
            [
                tabs,
                i2v_text.prompt,
                i2v_text.negative,
                i2v_guidance,
                i2v_duration,
                t2v_text.prompt,
                t2v_text.negative,
                t2v_aspect,
                t2v_duration,
            ],
            **private,
        )

        lab_durations = lab_fields[3::4]
        lab_guidance = lab_fields[2::4]
        for trigger in (lab_mode, lab_count):
            trigger.change(
                lab_handlers.layout,
                [lab_mode, lab_count],
                [lab_image, lab_aspect, *lab_slots, *lab_guidance],
                **private,
            )
        for trigger in (lab_count, *lab_durations):
            trigger.change(lab_handlers.price, [lab_count, session, *lab_durations], lab_price, **private)
        demo.load(lab_handlers.price, [lab_count, session, *lab_durations], lab_price, **private)
        lab_event = lab_run.click(
            lab_handlers.run,
            [lab_mode, lab_image, lab_aspect, lab_count, session, *lab_fields],
            [*lab_statuses, *lab_videos, lab_summary],
            api_visibility="private",
            **generation,
        )
        lab_stop.click(
            lambda: "Stopped waiting. The variants keep running (and are billed); their clips land in History.",
            None,
            lab_summary,
            cancels=[lab_event],
            **private,
        )
        to_main_tabs = [
            tabs,
            i2v_image,
            i2v_text.prompt,
            i2v_text.negative,
            i2v_guidance,
            i2v_duration,
            t2v_text.prompt,
            t2v_text.negative,
            t2v_aspect,
            t2v_duration,
        ]
        for i, use in enumerate(lab_uses):
            use.click(
                lab_handlers.use,
                [lab_mode, lab_image, lab_aspect, *lab_fields[4 * i : 4 * i + 4]],
                to_main_tabs,
                **private,
            )

        listing = [history_info, history_table]
        history_tab.select(history.list, session, listing, **private)
        refresh.click(history.list, session, listing, **private)
        history_table.select(history.select, session, [selected_id, history_video, history_job], **private)
        use_settings.click(
            history.use_settings,
            [selected_id, session],
            [
                tabs,
                i2v_image,
                i2v_text.prompt,
                i2v_text.negative,
                i2v_guidance,
                i2v_duration,
                i2v_end,
                t2v_text.prompt,
                t2v_text.negative,
                t2v_aspect,
                t2v_duration,
            ],
            **private,
        )
        for trigger, source in ((resume_selected, selected_id), (resume_typed, resume_id)):
            trigger.click(
                history.resume, [source, session], [history_job, history_video], api_visibility="private", **generation
            ).then(history.list, session, listing, **private)

    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def launch(
    demo: gr.Blocks, studio: Studio, *, host: str | None = None, port: int | None = None, share: bool | None = None
) -> None:
    """`python app.py`: serve the page; `--host`/`--port` override Gradio's own variables."""
    kwargs = studio.launch_kwargs(share=share)
    reason = share_unavailable() if kwargs["share"] else None
    if host:
        kwargs["server_name"] = host
    if port:
        kwargs["server_port"] = port
    if not reason:
        demo.launch(**kwargs)
        return
    # Gradio would print a page of download instructions, then advise share=True: one line instead.
    demo.launch(**{**kwargs, "share": False, "quiet": True, "prevent_thread_lock": True})
    print(
        f"* Running on local URL:  {demo.local_url}\nNo public share link: {reason}. Serving locally only.", flush=True
    )
    demo.block_thread()


def share_unavailable(timeout: float = 5.0) -> str | None:
    """Why Gradio cannot make a share link here, in a few words; None when it can try. Asked only
    when a link was requested: Gradio's own failure is a page of download instructions."""
    import httpx
    from gradio import networking

    if os.environ.get("GRADIO_SHARE_SERVER_ADDRESS"):
        return None
    try:
        httpx.get(networking.GRADIO_API_SERVER, timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        return f"Gradio's share service is out of reach ({type(exc).__name__}; no internet here?)"
    return None
