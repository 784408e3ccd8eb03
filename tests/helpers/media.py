"""Images and clips made on the fly, and clips read back independently of kling.media."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image


def image_bytes(width: int, height: int, fmt: str = "PNG", color=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    img = Image.new("RGB", (width, height), color)
    # A little structure so renders and encoders have something to move.
    for x in range(0, width, max(1, width // 8)):
        img.paste((40, 80, 200), (x, 0, x + max(1, width // 16), height))
    img.save(buffer, format=fmt)
    return buffer.getvalue()


@dataclass(frozen=True)
class Probe:
    codec: str
    pix_fmt: str
    width: int
    height: int
    frames: int
    fps: float

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def probe(path_or_bytes: Any) -> Probe:
    """Decode a clip fully: codec, size, frame count. Fails on anything that is not a real video."""
    import av

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    with av.open(source) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return Probe(
            stream.codec_context.name,
            stream.codec_context.pix_fmt or "",
            stream.codec_context.width,
            stream.codec_context.height,
            frames,
            float(stream.average_rate),
        )


def moving_bar(i: int, width: int, height: int, colour: tuple[int, int, int]) -> np.ndarray:
    """A flat colour with a white bar that moves 6 px a frame: every frame differs from the last."""
    picture = np.empty((height, width, 3), np.uint8)
    picture[:] = colour
    x = (i * 6) % (width - 8)
    picture[:, x : x + 8] = 255
    return picture


def write_clip(
    path: Path,
    *,
    size: tuple[int, int] = (320, 180),
    frames: int = 24,
    fps: int = 24,
    codec: str = "libx264",
    colour: tuple[int, int, int] = (40, 90, 160),
    picture=None,
    bframes: bool = False,
    x264: dict[str, str] | None = None,
) -> Path:
    """An MP4 encoded here with PyAV. `bframes` makes decode order differ from display order."""
    width, height = size
    draw = picture or (lambda i: moving_bar(i, width, height, colour))
    options = {"preset": "veryfast", "crf": "20"} if bframes else {"preset": "ultrafast", "crf": "20"}
    options.update(x264 or {})
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps, options=options if codec == "libx264" else {})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(draw(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def decoded_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def index_first(path: Path) -> bool:
    """faststart: the moov atom (the index) comes before the media data, so playback starts at once."""
    data = path.read_bytes()
    return 0 < data.find(b"moov") < data.find(b"mdat")


SIDE = 13000  # 169 megapixels: under Pillow's hard refusal (2 x 89 MP), so only our check stops it


def bomb_png(side: int = SIDE) -> bytes:
    """A complete, valid greyscale PNG of side x side black pixels, ~164 KB for 13000: built row by
    row so the test never holds the pixels either."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte 0, then the row
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
