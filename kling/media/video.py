"""Continue and stitch: a clip's last frame as the next start image, and clips joined into one film.

PyAV and numpy only; nothing here touches the network, the journal or the API. Only each clip's
first video stream is read: Kling clips carry no audio, so a film has none either (an audio track
in some other file given to `stitch` is dropped).

Joining. When every clip is H.264 in 8-bit 4:2:0 with the same size, frame rate, pixel shape and
codec setup (extradata: an MP4 track holds H.264's SPS/PPS once, so they must be byte-equal) and no
cross-fade is asked for, the packets are copied unchanged and only their timestamps move: nothing
is lost and it takes a fraction of a second. Otherwise every frame is decoded, fitted into the first
clip's size with black bars (aspect kept, never stretched), sampled at the first clip's frame rate,
cross-faded where asked, and encoded to H.264. Either way the MP4 has its index first (faststart).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange
from PIL import Image

from kling.config import DataFolder
from kling.errors import ClipNotFoundError, CrossfadeError, NotAVideoError, TooFewClipsError
from kling.files import replacing

# veryfast at CRF 18 keeps Kling's detail (a re-encode is a second generation) at a few x real time.
_X264 = {"preset": "veryfast", "crf": "18"}
_JOINABLE_PIX_FMTS = ("yuv420p", "yuvj420p")  # what every browser plays
_IMAGE_FORMATS = ("image2", "image2pipe")  # FFmpeg opens a still picture as a one-frame "video"
_BLACK_Y, _NEUTRAL_UV = 16, 128  # limited-range YUV black

# Told (clip, clips) as each clip starts being cut, 1-based: a cross-faded film takes seconds a clip.
OnClip = Callable[[int, int], None]


def _quiet(clip: int, clips: int) -> None:
    """No one is listening to the stitch's progress."""


@dataclass(frozen=True)
class ClipInfo:
    """What a clip's video stream is, read from its packets without decoding."""

    path: Path
    codec: str
    width: int
    height: int
    pix_fmt: str
    frame_rate: Fraction
    sample_aspect: Fraction  # pixel shape: 1 for square pixels
    time_base: Fraction
    extradata: bytes
    start: int  # first presentation timestamp, in time_base
    end: int  # last presentation timestamp plus its duration
    reorder_delay: int  # start minus the first decode timestamp (B-frames), in time_base
    packets: int

    @property
    def duration(self) -> Fraction:
        return (self.end - self.start) * self.time_base

    def joinable_with(self, other: ClipInfo) -> bool:
        """Can `other`'s packets follow ours in one MP4 track, unchanged, and still play in a browser?"""
        return (
            self.codec == other.codec == "h264"
            and self.extradata[:1] == b"\x01"  # avcC, as MP4 stores it (not Annex B from a raw stream)
            and self.pix_fmt == other.pix_fmt
            and self.pix_fmt in _JOINABLE_PIX_FMTS
            and (self.width, self.height, self.sample_aspect) == (other.width, other.height, other.sample_aspect)
            and self.frame_rate == other.frame_rate
            and self.extradata == other.extradata
            and self.reorder_delay * self.time_base == other.reorder_delay * other.time_base
        )


@dataclass(frozen=True)
class StitchResult:
    path: Path
    duration: float  # seconds
    width: int
    height: int
    codec: str
    reencoded: bool  # False: the clips' packets were copied as they are


# --- opening and probing ---------------------------------------------------------------------------


def _open(clip: Path) -> av.container.InputContainer:
    path = Path(clip)
    if not path.is_file():
        raise ClipNotFoundError(f"no such clip: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError):
        raise NotAVideoError(f"{path} is not a video (FFmpeg cannot read it)") from None
    if container.format.name in _IMAGE_FORMATS or container.format.name.endswith("_pipe"):
        container.close()
        raise NotAVideoError(f"{path} is a still image, not a video")
    if not container.streams.video:
        container.close()
        raise NotAVideoError(f"{path} is not a video (no video stream)")
    return container


def probe(clip: Path) -> ClipInfo:
    """Read a clip's video stream: codec, size, rate and exact span. Raises ClipNotFoundError or NotAVideoError."""
    with _open(clip) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context
        start = end = first_dts = None
        packets = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                packets += 1
                start = packet.pts if start is None else min(start, packet.pts)
                end = max(end or packet.pts, packet.pts + (packet.duration or 0))
                if first_dts is None and packet.dts is not None:
                    first_dts = packet.dts
        except av.FFmpegError:
            raise NotAVideoError(f"{clip} is not a readable video (damaged)") from None
        if not packets or start is None or end is None or stream.time_base is None:
            raise NotAVideoError(f"{clip} is not a video (no frames)")
        rate = stream.guessed_rate or stream.average_rate or stream.base_rate or Fraction(24)
        if end == start:  # one frame, or packets without durations
            end = start + max(1, round(1 / (rate * stream.time_base)))
        return ClipInfo(
            path=Path(clip),
            codec=codec.name,
            width=stream.width,
            height=stream.height,
            pix_fmt=codec.pix_fmt or "",
            frame_rate=Fraction(rate),
            sample_aspect=Fraction(stream.sample_aspect_ratio or 1),
            time_base=Fraction(stream.time_base),
            extradata=bytes(codec.extradata or b""),
            start=start,
            end=end,
            reorder_delay=start - (first_dts if first_dts is not None else start),
            packets=packets,
        )


# --- the last frame --------------------------------------------------------------------------------


def _last_decoded(clip: Path) -> av.VideoFrame:
    """Decodes the whole clip: from the last keyframe alone would be faster, but an open GOP
    (frames referring back past it) would make that frame wrong, and exactness is the point."""
    with _open(clip) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        last = None
        try:
            for frame in container.decode(stream):
                last = frame
        except av.FFmpegError:
            raise NotAVideoError(f"{clip} is not a readable video (damaged)") from None
        if last is None:
            raise NotAVideoError(f"{clip} is not a video (no frames)")
        return last


def last_frame(clip: Path) -> Image.Image:
    """The clip's final decoded frame (the last one shown), full resolution, as RGB."""
    frame = _last_decoded(clip)
    return frame.to_image(src_color_range=frame.color_range or None)


def save_last_frame(clip: Path, out_png: Path) -> Path:
    """Write the clip's last frame as a lossless PNG at `out_png` (whatever its suffix)."""
    image = last_frame(clip)
    out_png = Path(out_png)
    with replacing(out_png) as tmp:
        image.save(tmp, format="PNG")
    return out_png


# --- stitching -----------------------------------------------------------------------------------


def films_dir(data_dir: Path) -> Path:
    """Where stitched films live: $KLING_DATA_DIR/films/."""
    return DataFolder(Path(data_dir)).films


def stitch_to_films(
    clips: Sequence[Path], data_dir: Path, crossfade: float = 0.0, on_clip: OnClip = _quiet
) -> StitchResult:
    """Stitch into a new, uniquely named file under films_dir(data_dir)."""
    name = f"film-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}.mp4"
    return stitch(list(clips), films_dir(data_dir) / name, crossfade=crossfade, on_clip=on_clip)


def stitch(clips: Sequence[Path], out: Path, *, crossfade: float = 0.0, on_clip: OnClip = _quiet) -> StitchResult:
    """Join clips, in order, into one H.264 MP4 at `out` (written whole or not at all).

    Copies packets when the clips allow it and no cross-fade is asked; re-encodes otherwise (see
    the module docstring). `crossfade` seconds overlap each clip with the next, rounded to whole
    frames of the first clip's rate (a fade under half a frame is a plain cut). `on_clip(k, n)` is
    called once per clip, in order, as the k-th of n starts being cut (from this thread).
    """
    if len(clips) < 2:
        raise TooFewClipsError(f"stitching needs at least two clips, got {len(clips)}")
    if not (math.isfinite(crossfade) and crossfade >= 0):
        raise CrossfadeError(f"the cross-fade must be zero or a positive number of seconds, not {crossfade:g}")
    infos = [probe(clip) for clip in clips]
    rate = infos[0].frame_rate
    fade_frames = round(Fraction(crossfade) * rate)
    if fade_frames:
        _check_crossfade(infos, crossfade, fade_frames, _frame_counts(infos, rate))
    out = Path(out)
    first = infos[0]
    if not fade_frames and all(first.joinable_with(info) for info in infos[1:]):
        with replacing(out) as tmp:
            duration = _remux(infos, tmp, on_clip)
        return StitchResult(out, float(duration), first.width, first.height, "h264", reencoded=False)
    size = (first.width // 2 * 2, first.height // 2 * 2)  # 4:2:0 needs even sides
    with replacing(out) as tmp:
        frames = _reencode(infos, tmp, size, rate, fade_frames, on_clip)
    return StitchResult(out, float(frames / rate), *size, "h264", reencoded=True)


def _check_crossfade(infos: list[ClipInfo], crossfade: float, fade_frames: int, counts: list[int]) -> None:
    for n, (info, count) in enumerate(zip(infos, counts)):
        fades = 1 if n in (0, len(infos) - 1) else 2  # a middle clip fades in and out
        if fades * crossfade >= info.duration or fades * fade_frames >= count:
            limit = float(info.duration) / fades
            raise CrossfadeError(
                f"a {crossfade:g} s cross-fade is too long for {info.path.name} ({float(info.duration):.2f} s):"
                f" it must be under {limit:.2f} s"
            )


def _remux(infos: list[ClipInfo], out: Path, on_clip: OnClip = _quiet) -> Fraction:
    """Copy every clip's packets into one track, each clip's timestamps moved to follow the last."""
    time_base = infos[0].time_base
    offset = 0  # in time_base
    with contextlib.ExitStack() as stack:
        dst = stack.enter_context(av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}))
        template = stack.enter_context(av.open(str(infos[0].path)))
        track = dst.add_stream_from_template(template.streams.video[0])
        track.time_base = time_base
        for n, info in enumerate(infos, start=1):
            on_clip(n, len(infos))
            scale = info.time_base / time_base
            with av.open(str(info.path)) as src:
                for packet in src.demux(src.streams.video[0]):
                    if packet.size == 0 or packet.pts is None:
                        continue
                    dts = packet.dts if packet.dts is not None else packet.pts
                    packet.pts = offset + round((packet.pts - info.start) * scale)
                    packet.dts = offset + round((dts - info.start) * scale)
                    packet.duration = round((packet.duration or 0) * scale)
                    packet.time_base = time_base
                    packet.stream = track
                    dst.mux(packet)
            offset += round((info.end - info.start) * scale)
    return offset * time_base


def _frame_counts(infos: list[ClipInfo], rate: Fraction) -> list[int]:
    """Frames each clip gets at `rate`, rounded on the running total so the film is never more
    than half a frame off the sum of the clips."""
    bounds, total = [0], Fraction(0)
    for info in infos:
        total += info.duration
        bounds.append(round(total * rate))
    return [max(1, b - a) for a, b in itertools.pairwise(bounds)]


def _reencode(
    infos: list[ClipInfo], out: Path, size: tuple[int, int], rate: Fraction, fade: int, on_clip: OnClip = _quiet
) -> int:
    counts = _frame_counts(infos, rate)
    first = infos[0]
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as dst:
        stream = dst.add_stream("libx264", rate=rate, options=_X264)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        with av.open(str(first.path)) as src:  # keep the first clip's colour tags (BT.709 for previews)
            tags = src.streams.video[0].codec_context
            colour = (tags.colorspace, tags.color_primaries, tags.color_trc)
        codec = stream.codec_context
        codec.colorspace, codec.color_primaries, codec.color_trc = colour
        codec.color_range = ColorRange.MPEG
        written = 0
        for planes in _timeline(infos, counts, size, rate, fade, on_clip):
            frame = av.VideoFrame.from_ndarray(planes.reshape(-1, size[0]), format="yuv420p")
            frame.pts, frame.time_base = written, 1 / rate
            dst.mux(stream.encode(frame))
            written += 1
        dst.mux(stream.encode())
    return written


def _timeline(
    infos: list[ClipInfo],
    counts: list[int],
    size: tuple[int, int],
    rate: Fraction,
    fade: int,
    on_clip: OnClip = _quiet,
) -> Iterator[np.ndarray]:
    """Every frame of the film in order: each clip's last `fade` frames blend into the next's first."""
    tail: list[np.ndarray] = []
    for n, (info, count) in enumerate(zip(infos, counts)):
        on_clip(n + 1, len(infos))
        frames = _fitted_frames(info, count, size, rate)
        with contextlib.closing(frames):
            for k, outgoing in enumerate(tail, start=1):
                yield _blend(outgoing, next(frames), k / (fade + 1))
            held: deque[np.ndarray] = deque()
            keep = fade if n < len(infos) - 1 else 0
            for planes in frames:
                held.append(planes)
                if len(held) > keep:
                    yield held.popleft()
            tail = list(held)


def _blend(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    mixed = a.astype(np.float32) * (1 - weight) + b.astype(np.float32) * weight
    return np.rint(mixed).astype(np.uint8)  # YUV is affine in RGB, so this is the RGB blend


def _fit(info: ClipInfo, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(width, height, x, y) of the clip scaled into `size` keeping its displayed aspect; all even."""
    width, height = size
    shown_width = info.width * info.sample_aspect
    scale = min(width / shown_width, Fraction(height, info.height))
    w = min(width, max(2, round(shown_width * scale / 2) * 2))
    h = min(height, max(2, round(info.height * scale / 2) * 2))
    return w, h, (width - w) // 4 * 2, (height - h) // 4 * 2


def _fitted_frames(
    info: ClipInfo, count: int, size: tuple[int, int], rate: Fraction
) -> Generator[np.ndarray, None, None]:
    """`count` frames of the clip at `rate` (each slot shows the latest frame due by then), each a flat
    yuv420p picture of `size` with the clip letterboxed in it."""
    width, height = size
    w, h, x, y = _fit(info, size)
    with _open(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        decoded = container.decode(stream)
        current = next(decoded, None)
        if current is None:
            raise NotAVideoError(f"{info.path} is not a video (no frames)")
        upcoming = next(decoded, None)
        origin = info.start * info.time_base
        picture: np.ndarray | None = None
        for slot in range(count):
            due = origin + slot / rate
            while upcoming is not None and upcoming.pts is not None and upcoming.pts * info.time_base <= due:
                current, upcoming, picture = upcoming, next(decoded, None), None
            if picture is None:
                picture = _letterbox(current, w, h, x, y, width, height)
            yield picture


def _letterbox(frame: av.VideoFrame, w: int, h: int, x: int, y: int, width: int, height: int) -> np.ndarray:
    scaled = frame.reformat(
        width=w,
        height=h,
        format="yuv420p",
        interpolation="BICUBIC",
        src_color_range=frame.color_range or None,
        dst_color_range=ColorRange.MPEG,
    )
    flat = scaled.to_ndarray().ravel()  # PyAV lays the three planes end to end
    luma, chroma = w * h, (w // 2) * (h // 2)
    if (w, h) == (width, height):
        return flat
    canvas = np.empty(width * height * 3 // 2, np.uint8)
    canvas[: width * height] = _BLACK_Y
    canvas[width * height :] = _NEUTRAL_UV
    planes = [
        (canvas[: width * height].reshape(height, width), flat[:luma].reshape(h, w), x, y),
        (
            canvas[width * height : width * height * 5 // 4].reshape(height // 2, width // 2),
            flat[luma : luma + chroma].reshape(h // 2, w // 2),
            x // 2,
            y // 2,
        ),
        (
            canvas[width * height * 5 // 4 :].reshape(height // 2, width // 2),
            flat[luma + chroma : luma + 2 * chroma].reshape(h // 2, w // 2),
            x // 2,
            y // 2,
        ),
    ]
    for target, source, left, top in planes:
        target[top : top + source.shape[0], left : left + source.shape[1]] = source
    return canvas
