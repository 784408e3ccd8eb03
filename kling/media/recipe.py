"""A clip's recipe in its own MP4: how it was made travels with the file, wherever it goes.

The recipe (prompt, negative prompt, model, duration, guidance, aspect ratio, task id, date made, and
whether it is a simulated preview) is written as MP4 metadata by remuxing: every packet is copied as
it is, so the frames do not change; only the container's tags do. Players show the `title` (the
prompt) and the `comment` (one readable line); `kling_recipe` holds the whole recipe as JSON for a
program to read back (`read_recipe`). A stitched film carries its clips' task ids and prompts.

PyAV only; nothing here knows the journal or the API.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import av

from kling.errors import NotAVideoError
from kling.files import replacing

RECIPE_TAG = "kling_recipe"
PREVIEW_NOTE = "preview (simulated)"
# Custom keys (kling_recipe) are written only with use_metadata_tags; faststart puts the index first
# so a shared link starts playing before the whole file has arrived.
_MUXER_OPTIONS = {"movflags": "use_metadata_tags+faststart"}


@dataclass(frozen=True)
class Recipe:
    """How one clip was made, or (with `clips`) which clips a film joins."""

    prompt: str = ""
    negative_prompt: str = ""
    model: str = ""
    duration: int | None = None
    guidance_scale: float | None = None
    aspect_ratio: str = ""
    task_id: str = ""
    made: str = ""  # ISO 8601, UTC
    preview: bool = False
    clips: tuple[dict[str, str], ...] = field(default=())  # a film's clips: task_id and prompt each

    def to_json(self) -> dict[str, Any]:
        data = {name: value for name, value in asdict(self).items() if value not in ("", None, ())}
        data["preview"] = self.preview
        if self.preview:
            data["note"] = PREVIEW_NOTE
        if self.clips:
            data["clips"] = [{name: value for name, value in clip.items() if value} for clip in self.clips]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recipe:
        def string_of(name: str) -> str:
            value = data.get(name)
            return value if isinstance(value, str) else ""

        duration, guidance = data.get("duration"), data.get("guidance_scale")
        numeric = isinstance(guidance, (int, float)) and not isinstance(guidance, bool)
        listed = data.get("clips")
        clips: list[Any] = listed if isinstance(listed, list) else []
        return cls(
            prompt=string_of("prompt"),
            negative_prompt=string_of("negative_prompt"),
            model=string_of("model"),
            duration=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
            guidance_scale=float(guidance) if numeric and guidance is not None else None,
            aspect_ratio=string_of("aspect_ratio"),
            task_id=string_of("task_id"),
            made=string_of("made"),
            preview=data.get("preview") is True,
            clips=tuple(
                {"task_id": str(clip.get("task_id", "")), "prompt": str(clip.get("prompt", ""))}
                for clip in clips
                if isinstance(clip, dict)
            ),
        )

    def without_ids(self) -> Recipe:
        """The recipe a shared link serves: prompt, settings, model and date, no task id (a film keeps
        its clips' prompts only). A link must name nothing but itself."""
        return replace(self, task_id="", clips=tuple({"prompt": clip.get("prompt", "")} for clip in self.clips))

    def settings_line(self) -> str:
        """One readable line: "kwaivgi/kling-v2.0-t2v-master, 5 s, 16:9, negative: blur"."""
        parts = [self.model] if self.model else []
        if self.duration:
            parts.append(f"{self.duration} s")
        if self.aspect_ratio:
            parts.append(self.aspect_ratio)
        if self.guidance_scale is not None:
            parts.append(f"guidance {self.guidance_scale:g}")
        if self.negative_prompt:
            parts.append(f"negative: {self.negative_prompt}")
        if self.preview:
            parts.append(PREVIEW_NOTE)
        return ", ".join(parts)

    def comment(self) -> str:
        if self.clips:
            listed = (": ".join(filter(None, (clip.get("task_id"), clip.get("prompt", "")))) for clip in self.clips)
            return "Film of " + "; ".join(listed)
        task = f"task {self.task_id}" if self.task_id else ""
        return " · ".join(part for part in (self.settings_line(), task, self.made) if part)

    def tags(self) -> dict[str, str]:
        """The MP4 tags this recipe is written as (text without NUL: FFmpeg cuts a tag there)."""
        title = self.prompt or ("Film: " + " / ".join(clip.get("prompt", "") for clip in self.clips))
        tags = {"title": title, "comment": self.comment(), RECIPE_TAG: json.dumps(self.to_json(), ensure_ascii=False)}
        return {name: value.replace("\x00", "") for name, value in tags.items()}


def film_recipe(clips: Sequence[tuple[str, str]], *, made: str = "", preview: bool = False) -> Recipe:
    """A film's recipe: (task id, prompt) of each clip in the order they play."""
    return Recipe(made=made, preview=preview, clips=tuple({"task_id": t, "prompt": p} for t, p in clips))


def read_recipe(clip: Path) -> Recipe | None:
    """The recipe written into `clip`, or None when it carries none (or is not a video)."""
    try:
        with av.open(str(clip)) as container:
            raw = dict(container.metadata).get(RECIPE_TAG)
    except (av.FFmpegError, OSError):
        return None
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return Recipe.from_json(data) if isinstance(data, dict) else None


def write_recipe(clip: Path, recipe: Recipe) -> bool:
    """Put `recipe` into `clip`'s metadata by copying its packets into a new MP4 that replaces it
    (atomically: a reader sees the old file or the new one). False when it already carries exactly
    this recipe (the file is left untouched). NotAVideoError when `clip` cannot be read as one."""
    clip = Path(clip)
    if read_recipe(clip) == recipe:
        return False
    copy_with_recipe(clip, clip, recipe)
    return True


def copy_with_recipe(clip: Path, out: Path, recipe: Recipe) -> None:
    """A copy of `clip` at `out` (written atomically, so `out` may be `clip` itself) carrying `recipe`
    in place of its own tags: the same packets, so the same frames. NotAVideoError when `clip`
    cannot be read as one."""
    try:
        with replacing(Path(out)) as tmp:
            _remux_with_tags(Path(clip), tmp, recipe.tags())
    except av.FFmpegError as exc:
        raise NotAVideoError(f"{Path(clip).name} could not be read as a video: {exc}") from None


def _remux_with_tags(source: Path, out: Path, tags: dict[str, str]) -> None:
    """Every audio and video packet of `source` copied unchanged into `out`, with `tags` set."""
    with contextlib.ExitStack() as stack:
        src = stack.enter_context(av.open(str(source)))
        dst = stack.enter_context(av.open(str(out), "w", format="mp4", options=_MUXER_OPTIONS))
        for name, value in tags.items():
            dst.metadata[name] = value
        streams = [stream for stream in src.streams if stream.type in ("video", "audio")]
        tracks = {stream.index: dst.add_stream_from_template(stream) for stream in streams}
        for stream in streams:
            tracks[stream.index].time_base = stream.time_base
        for packet in src.demux(streams):
            if packet.dts is None and packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            packet.stream = tracks[packet.stream.index]
            dst.mux(packet)
