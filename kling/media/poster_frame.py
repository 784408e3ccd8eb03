"""A clip's poster frame and size, for a shared link's preview card (og:image, og:video sizes)."""

from __future__ import annotations

from pathlib import Path

import av

from kling.errors import NotAVideoError
from kling.files import replacing

POSTER_MAX_WIDTH = 640


def video_size(clip: Path) -> tuple[int, int]:
    """Width and height of the clip's first video stream, read without decoding."""
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            return stream.codec_context.width, stream.codec_context.height
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise NotAVideoError(f"{Path(clip).name} could not be read as a video: {exc}") from None


def write_poster(clip: Path, out: Path, max_width: int = POSTER_MAX_WIDTH) -> tuple[int, int]:
    """The clip's first frame as a JPEG at most `max_width` wide (aspect kept); its width and height."""
    try:
        with av.open(str(clip)) as container:
            image = next(container.decode(video=0)).to_image().convert("RGB")
    except (av.FFmpegError, StopIteration, IndexError, OSError) as exc:
        raise NotAVideoError(f"no frame could be read from {Path(clip).name}: {exc}") from None
    if image.width > max_width:
        image = image.resize((max_width, max(1, round(image.height * max_width / image.width))))
    with replacing(out) as tmp:
        image.save(tmp, format="JPEG", quality=85)
    return image.width, image.height
