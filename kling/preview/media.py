"""The simulator's media: the image rules a submit's images must meet, the files uploaded to it,
and the clips it serves, rendered through kling.media.render (PREVIEW-marked stand-ins, never
Kling output) once per distinct request and kept on disk up to a limit.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import secrets
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from kling.preview.models import I2V_MODEL

# "jpg/jpeg/png, at most 10MB, at least 300*300px, aspect ratio between 1:2.5 ~ 2.5:1" (the
# aspect rule is stated for `image` only).
IMAGE_FORMATS = {"JPEG", "PNG"}
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MIN_SIDE = 300
IMAGE_MAX_RATIO = 2.5


def check_image(name: str, data: bytes) -> str | None:
    """The image rule `data` breaks, or None."""
    if len(data) > IMAGE_MAX_BYTES:
        return f"{name} is larger than 10MB"
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
    except (UnidentifiedImageError, OSError):
        return f"{name} is not a jpg/jpeg/png image"
    if fmt not in IMAGE_FORMATS:
        return f"{name} must be jpg/jpeg/png, not {fmt}"
    if width < IMAGE_MIN_SIDE or height < IMAGE_MIN_SIDE:
        return f"{name} must be at least 300*300px, not {width}*{height}"
    if name == "image" and not 1 / IMAGE_MAX_RATIO <= width / height <= IMAGE_MAX_RATIO:
        return f"{name} aspect ratio must be between 1:2.5 and 2.5:1"
    return None


IMAGE_FIELDS = ("image", "end_image")


class Uploads:
    """Files uploaded to the simulator (binary or through a ticket), served at /media/<name>."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}  # name: (bytes, content type)
        self._tickets: dict[str, str] = {}

    def store(self, data: bytes, filename: str, content_type: str) -> str:
        name = f"{uuid.uuid4().hex[:12]}-{Path(filename).name}"
        self.files[name] = (data, content_type)
        return name

    def ticket(self, filename: str, content_type: str) -> tuple[str, str]:
        """(token, name): an empty file now, filled by one PUT to the token's URL."""
        name = self.store(b"", filename, content_type)
        token = secrets.token_urlsafe(16)
        self._tickets[token] = name
        return token, name

    def put(self, token: str, data: bytes) -> bool:
        """Fill a ticket's file; False for an unknown or used ticket."""
        name = self._tickets.pop(token, None)
        if name is None:
            return False
        self.files[name] = (data, self.files[name][1])
        return True

    def get(self, name: str) -> tuple[bytes, str] | None:
        return self.files.get(name)

    def bytes_of(self, ref: str) -> bytes | None:
        """An image a submit names: a data URI, or a file uploaded here; None for anything else."""
        if ref.startswith("data:"):
            try:
                return base64.b64decode(ref.split(",", 1)[1], validate=True)
            except (IndexError, binascii.Error):
                return None
        name = ref.rstrip("/").rsplit("/", 1)[-1]
        stored = self.files.get(name)
        return stored[0] if stored and "/media/" in ref else None


def read_images(values: dict[str, Any], uploads: Uploads) -> tuple[dict[str, bytes | None], str, str | None]:
    """(the submit's images, the media error that fails its task, the image rule that refuses the
    submit). Like WaveSpeed, a URL it cannot read fails the task (1402), not the submit."""
    images: dict[str, bytes | None] = dict.fromkeys(IMAGE_FIELDS)
    media_error = ""
    for name in IMAGE_FIELDS:
        ref = values.get(name)
        if ref is None:
            continue
        data = images[name] = uploads.bytes_of(ref)
        if data is None:
            media_error = (
                f"Failed to fetch {name} from {ref[:100]}: the preview simulator reads only images "
                "uploaded to it or sent as data URIs."
            )
            continue
        problem = check_image(name, data)
        if problem:
            return images, media_error, problem
    return images, media_error, None


class Renders:
    """The clips, rendered in worker threads: identical requests share one file, and only the newest
    `limit` stay on disk (older outputs answer 404, as expired ones do)."""

    def __init__(self, clip_dir: Path | None, workers: int, limit: int) -> None:
        self.workdir = clip_dir or Path(tempfile.mkdtemp(prefix="kling-sim-"))
        self._owns_workdir = clip_dir is None  # a shared clip_dir is the caller's to clean
        self._limit = limit
        self._renders: dict[str, Future[Path]] = {}
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kling-render")

    def start(self, model: str, values: dict[str, Any], images: dict[str, bytes | None]) -> Future[Path]:
        """Start (or reuse) the clip's render."""
        prompt, duration, aspect_ratio = values["prompt"], values["duration"], values.get("aspect_ratio", "")
        key = _render_key(model, prompt, duration, aspect_ratio, images)
        if key not in self._renders:
            from kling.media import render  # PyAV is imported on the first clip, not at start-up

            out = self.workdir / f"{key}.mp4"
            if out.exists():  # rendered before, into a shared clip_dir (written whole or not at all)
                done: Future[Path] = Future()
                done.set_result(out)
                self._renders[key] = done
                return done
            if model == I2V_MODEL:
                start = images["image"]
                if start is None:  # a task renders only when its start image was found and read
                    raise ValueError("an image-to-video render needs its start image")
                job = functools.partial(render.render_i2v, start, images["end_image"], prompt, duration, out)
            else:
                job = functools.partial(render.render_t2v, prompt, aspect_ratio, duration, out)
            self._renders[key] = self._executor.submit(_render_file, job, out)
            self._prune()
        return self._renders[key]

    def _prune(self) -> None:
        """Keep the newest `limit` clips on disk (dicts keep insertion order); a shared clip_dir is
        only forgotten, never emptied."""
        while len(self._renders) > self._limit:
            oldest = next(iter(self._renders))
            future = self._renders.pop(oldest)
            if self._owns_workdir and future.done() and not future.exception():
                future.result().unlink(missing_ok=True)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _render_key(model: str, prompt: str, duration: int, aspect_ratio: str, images: dict[str, bytes | None]) -> str:
    digest = hashlib.sha256()
    for part in (model, prompt, str(duration), str(aspect_ratio)):
        digest.update(part.encode() + b"\0")
    for data in images.values():
        digest.update(hashlib.sha256(data or b"").digest())
    return digest.hexdigest()[:24]


def _render_file(render: Callable[[], object], out: Path) -> Path:
    render()
    return out
