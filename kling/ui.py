"""The Space: Image to Video and Text to Video tabs over `kling.runner`.

Constants and copy first, then the page in one `gr.Blocks`, then the wiring. Handlers stay short:
validation lives in `kling.params`, the API in `kling.client`, the background job in `kling.runner`.
"""

from __future__ import annotations

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

HISTORY_COLUMNS = ["When", "Mode", "Model", "Prompt", "Status", "Price", "Task id"]
HISTORY_HELP = "This browser's tasks, newest first. Select a row to see its clip and settings."
MODEL_SHORT = {"kwaivgi/kling-v2.0-i2v-master": "Image to Video", "kwaivgi/kling-v2.0-t2v-master": "Text to Video"}

COUNT_JS = f"(text) => `${{(text || '').length}} / {PROMPT_MAX_CHARS} characters`"
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
        limits += f"; {format_price(budget_left_cents)} of today's {format_price(settings.daily_budget_cents)} budget left"
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
    mine = "Your key is saved in this browser and is used for your generations." if user_key else "No key saved in this browser."
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
        if state.stage == "retrying" and state.message:
            lines.append(state.message)
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
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


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


def job_status(job: Job) -> str:
    if job.clip_saved:
        return "clip saved"
    if job.status == "completed":
        return "done, clip not downloaded: resume"
    if job.status in ("created", "processing"):
        return "interrupted (preview)" if job.preview else f"{job.status}: resume"
    return job.status + (f" ({job.error_code})" if job.error_code else "")


def history_rows(jobs: list[Job]) -> list[list[str]]:
    return [
        [datetime.fromtimestamp(job.created).strftime("%Y-%m-%d %H:%M"), "Preview" if job.preview else "Live",
         MODEL_SHORT.get(job.model, job.model), (job.params.get("prompt") or "")[:90], job_status(job),
         "free" if job.preview else format_price(job.price_cents), job.id]
        for job in jobs
    ]


def history_total(jobs: list[Job]) -> str:
    live = [job for job in jobs if not job.preview]
    spent = format_price(sum(job.price_cents for job in live))
    return f"{HISTORY_HELP}\n\n**{len(jobs)} tasks** · spent on live clips: **{spent}** ({len(live)} live, {len(jobs) - len(live)} preview)"


def job_markdown(job: Job) -> str:
    settings = ", ".join(f"{k}: {v}" for k, v in job.params.items() if k not in ("prompt", "image", "end_image") and v != "")
    lines = [f"**{MODEL_SHORT.get(job.model, job.model)}** · {'preview (simulated)' if job.preview else 'live'} · "
             f"task `{job.id}`", f"> {job.params.get('prompt', '')}", settings, f"Status: **{job_status(job)}**"]
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

    async def image_to_video(self, image, prompt, negative_prompt, guidance_scale, duration, end_image,
                             session=None, request: gr.Request = None):
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
        request_ = I2VRequest(image=image, prompt=prompt or "", negative_prompt=negative_prompt or "",
                              guidance_scale=guidance_scale, duration=duration, end_image=end_image or None)
        async for outputs in self._generate(request_, session, request):
            yield outputs

    async def text_to_video(self, prompt, negative_prompt, aspect_ratio, duration, session=None,
                            request: gr.Request = None):
        """Generate a Kling v2.0 master clip from a text prompt and stream its progress.

        Args:
            prompt: the scene, the action and the camera, at most 2500 characters.
            negative_prompt: what to avoid, e.g. "watermark, logo, subtitles, text artifacts".
            aspect_ratio: "16:9", "9:16" or "1:1".
            duration: clip length in seconds, 5 or 10.
        Returns:
            Status updates, then the MP4 clip.
        """
        request_ = T2VRequest(prompt=prompt or "", negative_prompt=negative_prompt or "",
                              aspect_ratio=aspect_ratio, duration=duration)
        async for outputs in self._generate(request_, session, request):
            yield outputs

    async def _generate(self, request_, session, request):
        try:
            checked = request_.validate()
        except ValidationError as exc:
            raise gr.Error(refusal_text(exc), title="Check the input") from None
        try:
            run = self.runner.start(checked, owner=self._owner(session, request), user_key=self._key(session, request),
                                    ip=client_address(request))
        except SpendRefused as exc:
            raise gr.Error(str(exc), title="Limit reached") from None
        async for state in run.watch(tick=1.0):
            yield self._outputs(state)
        if state.error is not None:
            raise gr.Error(str(state.error), title="The generation failed")

    def _outputs(self, state: RunState) -> tuple[str, str | None, str, str]:
        video = servable(state.path) if state.stage == "done" and state.path is not None else None
        return status_markdown(state), video, details_markdown(state), state.task_id or ""

    # Validators run before anything is queued: the refusal shows beside the input at fault.

    def check_i2v(self, image, prompt, negative_prompt, guidance_scale, duration, end_image, session=None):
        return _field_checks(
            I2VRequest(image=image, prompt=prompt or "", negative_prompt=negative_prompt or "",
                       guidance_scale=guidance_scale, duration=duration, end_image=end_image or None),
            ["image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image", "session"],
        )

    def check_t2v(self, prompt, negative_prompt, aspect_ratio, duration, session=None):
        return _field_checks(
            T2VRequest(prompt=prompt or "", negative_prompt=negative_prompt or "", aspect_ratio=aspect_ratio,
                       duration=duration),
            ["prompt", "negative_prompt", "aspect_ratio", "duration", "session"],
        )

    # Private helpers for the page.

    def stop_waiting(self, task_id: str, session: dict | None) -> str:
        if not task_id:
            return "Stopped. No task had been created yet, so nothing was sent or charged."
        billed = "It is a free preview." if self._preview(session) else "It is still billed."
        return (f"### ⏹ Stopped waiting\n\nTask `{task_id}` keeps running at WaveSpeed. {billed} "
                f"Its clip is still downloaded when it finishes; its id: `{task_id}`.")

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
        return (mode_banner(self.settings, key, budget), key_status(self.settings, key), price_text(i2v_duration, preview),
                price_text(t2v_duration, preview), gr.Video(label=label), gr.Video(label=label))

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
            return (gr.Tabs(selected="i2v"), image, p.get("prompt", ""), p.get("negative_prompt", ""),
                    p.get("guidance_scale", 0.5), p.get("duration", 5), end, *skip_t2v)
        return (gr.Tabs(selected="t2v"), *skip_i2v, p.get("prompt", ""), p.get("negative_prompt", ""),
                p.get("aspect_ratio", "16:9"), p.get("duration", 5))

    async def resume(self, task_id: str, session: dict | None, request: gr.Request = None):
        task_id = (task_id or "").strip()
        if not is_task_id(task_id):
            raise gr.Error(f"{task_id[:60]!r} is not a task id (letters, digits, - and _).", title="Check the id")
        job = self.h.journal.get(task_id)
        if job is not None and job.owner != (session or {}).get("owner"):
            raise gr.Error("That task belongs to another browser.", title="Not yours")
        if job is not None and job.preview and job.unfinished:
            raise gr.Error("Preview tasks live only as long as the app that made them; this one cannot be resumed.")
        run = self.h.runner.resume(task_id, owner=self.h._owner(session, request), user_key=self.h._key(session, request))
        async for state in run.watch(tick=1.0):
            video = servable(state.path) if state.stage == "done" and state.path else None
            yield status_markdown(state), video
        if state.error is not None:
            raise gr.Error(str(state.error), title="Could not resume")


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
        backend = Backend(settings)
        journal = Journal(settings.journal_path)
        return cls(settings, backend, journal, Runner(backend, journal, SpendGuard(settings, journal)))

    def build(self) -> gr.Blocks:
        return build_app(self)

    def launch_kwargs(self) -> dict[str, Any]:
        """What `launch()` needs: theme and css (Gradio 6 takes them here), no run history, no file
        route into the data folder, and a start-up hook that resumes unfinished paid tasks."""
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
            "app_kwargs": {"lifespan": resume_on_start},
        }


def build_app(studio: Studio | None = None) -> gr.Blocks:
    studio = studio or Studio.from_env()
    settings = studio.settings
    handlers = Handlers(settings, studio.runner, studio.journal)
    history = HistoryHandlers(handlers)
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
                            i2v_image = gr.Image(label="Start image", type="filepath", sources=["upload", "clipboard"], height=260)
                            i2v_end = gr.Image(label="End image (optional)", type="filepath", sources=["upload", "clipboard"], height=260)
                        i2v_prompt = gr.Textbox(label="Prompt", lines=4, placeholder="What happens, and how the camera moves")
                        i2v_count = gr.Markdown(f"0 / {PROMPT_MAX_CHARS} characters", elem_classes="kling-count")
                        with gr.Row():
                            i2v_moves = [gr.Button(name, size="sm") for name in CAMERA_MOVES]
                        i2v_negative = gr.Textbox(label="Negative prompt", placeholder="What to avoid")
                        with gr.Accordion("Advanced", open=False):
                            i2v_guidance = gr.Slider(GUIDANCE_MIN, GUIDANCE_MAX, value=DEFAULT_GUIDANCE, step=0.05,
                                                     label="Guidance scale", info=GUIDANCE_HELP)
                            i2v_duration = gr.Radio(list(DURATIONS), value=DURATIONS[0], label="Duration (seconds)")
                        with gr.Row():
                            i2v_price = gr.Markdown(elem_classes="kling-price")
                            i2v_go = gr.Button("Generate", variant="primary")
                            i2v_stop = gr.Button("Stop waiting", variant="stop")
                    with gr.Column(scale=1, min_width=320):
                        i2v_status = gr.Markdown("Ready.", elem_classes="kling-status")
                        i2v_video = gr.Video(label="Clip", autoplay=True, loop=True, buttons=["download"], interactive=False)
                        i2v_details = gr.Markdown()
                        i2v_task = gr.State("")
                gr.Examples(I2V_EXAMPLES, inputs=[i2v_image, i2v_prompt, i2v_negative], cache_examples=False,
                            label="Examples from the model page (click to fill the form)")

            with gr.Tab("Text to Video", id="t2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        t2v_prompt = gr.Textbox(label="Prompt", lines=4, placeholder="The scene, the action and the camera")
                        t2v_count = gr.Markdown(f"0 / {PROMPT_MAX_CHARS} characters", elem_classes="kling-count")
                        with gr.Row():
                            t2v_moves = [gr.Button(name, size="sm") for name in CAMERA_MOVES]
                        t2v_negative = gr.Textbox(label="Negative prompt", placeholder="What to avoid")
                        t2v_aspect = gr.Radio(list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label="Aspect ratio")
                        t2v_duration = gr.Radio(list(DURATIONS), value=DURATIONS[0], label="Duration (seconds)")
                        with gr.Row():
                            t2v_price = gr.Markdown(elem_classes="kling-price")
                            t2v_go = gr.Button("Generate", variant="primary")
                            t2v_stop = gr.Button("Stop waiting", variant="stop")
                    with gr.Column(scale=1, min_width=320):
                        t2v_status = gr.Markdown("Ready.", elem_classes="kling-status")
                        t2v_video = gr.Video(label="Clip", autoplay=True, loop=True, buttons=["download"], interactive=False)
                        t2v_details = gr.Markdown()
                        t2v_task = gr.State("")
                gr.Examples(T2V_EXAMPLES, inputs=[t2v_prompt, t2v_negative], cache_examples=False,
                            label="Examples from the model page (click to fill the form)")

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
                        resume_id = gr.Textbox(label="Resume any task id",
                                               placeholder="an id from the CLI or WaveSpeed's dashboard")
                        resume_typed = gr.Button("Resume this id", size="sm")
                selected_id = gr.State("")

        with gr.Accordion("How to prompt", open=False):
            gr.Markdown(HOW_TO_PROMPT)

        # -- wiring ------------------------------------------------------------------------------
        private = {"api_visibility": "private", "queue": False}
        generation = {"concurrency_limit": settings.concurrency, "concurrency_id": "generation"}
        durations = [i2v_duration, t2v_duration]
        mode_view = [banner, key_info, i2v_price, t2v_price, i2v_video, t2v_video]

        demo.load(handlers.restore, [owner_store, key_store, *durations], [owner_store, session, *mode_view], **private)
        save_key.click(handlers.save_key, [key_box, session, *durations], [key_store, session, key_box, *mode_view], **private)
        clear_key.click(handlers.clear_key, [session, *durations], [key_store, session, key_box, *mode_view], **private)

        for prompt, count, moves in ((i2v_prompt, i2v_count, i2v_moves), (t2v_prompt, t2v_count, t2v_moves)):
            prompt.change(None, prompt, count, js=COUNT_JS)
            for button, phrase in zip(moves, CAMERA_MOVES.values()):
                button.click(None, prompt, prompt, js=f"(p) => (p && p.trim() ? p.trim() + ' ' : '') + {phrase!r}")
        i2v_duration.change(handlers.price, [i2v_duration, session], i2v_price, **private)
        t2v_duration.change(handlers.price, [t2v_duration, session], t2v_price, **private)

        i2v_inputs = [i2v_image, i2v_prompt, i2v_negative, i2v_guidance, i2v_duration, i2v_end, session]
        i2v_run = i2v_go.click(handlers.image_to_video, i2v_inputs, [i2v_status, i2v_video, i2v_details, i2v_task],
                               validator=handlers.check_i2v, api_name="image_to_video", **generation)
        i2v_stop.click(handlers.stop_waiting, [i2v_task, session], i2v_status, cancels=[i2v_run], **private)

        t2v_inputs = [t2v_prompt, t2v_negative, t2v_aspect, t2v_duration, session]
        t2v_run = t2v_go.click(handlers.text_to_video, t2v_inputs, [t2v_status, t2v_video, t2v_details, t2v_task],
                               validator=handlers.check_t2v, api_name="text_to_video", **generation)
        t2v_stop.click(handlers.stop_waiting, [t2v_task, session], t2v_status, cancels=[t2v_run], **private)

        listing = [history_info, history_table]
        history_tab.select(history.list, session, listing, **private)
        refresh.click(history.list, session, listing, **private)
        history_table.select(history.select, session, [selected_id, history_video, history_job], **private)
        use_settings.click(history.use_settings, [selected_id, session],
                           [tabs, i2v_image, i2v_prompt, i2v_negative, i2v_guidance, i2v_duration, i2v_end,
                            t2v_prompt, t2v_negative, t2v_aspect, t2v_duration], **private)
        for trigger, source in ((resume_selected, selected_id), (resume_typed, resume_id)):
            trigger.click(history.resume, [source, session], [history_job, history_video],
                          api_visibility="private", **generation).then(history.list, session, listing, **private)

    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo
