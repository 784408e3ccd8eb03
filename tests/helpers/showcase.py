"""A showcase made in a test: the manifest, clips and posters `python -m kling showcase` would
write, with the clips rendered locally (kling.media.render) instead of paid for."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kling import examples as ex
from kling.cli.showcase import save_poster
from kling.media.render import render_i2v, render_t2v
from kling.store.showcase import ShowcaseClip, write_manifest


def showcase_entry(directory: Path, example: ex.Generable, content: bytes | None = None) -> ShowcaseClip:
    """One example's clip in `directory`: `content` as its MP4, else a clip rendered for it (with
    its poster); the entry records the example's current settings and the clip's SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    clip = directory / f"{example.key}.mp4"
    poster: str | None = None
    if content is not None:
        clip.write_bytes(content)
    else:
        if isinstance(example, ex.Starter):
            render_i2v(example.image_path.read_bytes(), None, example.prompt, example.duration, clip)
        else:
            render_t2v(example.prompt, example.aspect_ratio, example.duration, clip)
        save_poster(clip, directory / f"{example.key}.jpg")
        poster = f"{example.key}.jpg"
    return ShowcaseClip(
        key=example.key,
        settings=example.settings(),
        task_id=f"sc{hashlib.sha256(example.key.encode()).hexdigest()[:14]}",
        model=example.model,
        made="2026-11-20T09:30:00Z",
        clip=clip.name,
        sha256=hashlib.sha256(clip.read_bytes()).hexdigest(),
        poster=poster,
        root=directory,
    )


def make_showcase_dir(directory: Path, examples: list[ex.Generable], content: bytes | None = None) -> dict:
    clips = {example.key: showcase_entry(directory, example, content) for example in examples}
    write_manifest(directory, clips)
    return clips
