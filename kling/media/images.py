"""Reading and checking an image before any paid call: what the person gave (a file, bytes, a data
URI or an http(s) URL) becomes bytes WaveSpeed accepts, or a refusal that says why.

Images are checked by their content (with Pillow), never by their file name. Inputs WaveSpeed would
refuse after billing (too small, too narrow, unreadable) are refused here for free; inputs we can fix
without changing the picture (WebP, EXIF rotation, over 10 MB) are fixed, and each fix is reported in
plain words. A decompression bomb is refused from its header, and at most DECODE_SLOTS images are
decoded at once across the process. Pure: no network.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlsplit

from PIL import Image, ImageFile, ImageOps, JpegImagePlugin, UnidentifiedImageError

from kling.errors import Problem, ValidationError

# WaveSpeed's documented limits for an input image (docs/API.md).
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MIN_SIDE = 300
IMAGE_MAX_RATIO = 2.5
INPUT_MAX_BYTES = 50 * 1024 * 1024  # largest file we even try to decode (ours, not the API's)
# Largest image we decode, from its header: Pillow's default, kept here so that nobody changing
# Pillow's global (or a library that does) moves it. 89 MP of RGBA is ~360 MB once decoded.
IMAGE_MAX_PIXELS = 89_478_485
# Images decoded at once across the process; others wait up to DECODE_WAIT_S, then are refused.
# Each decode may hold a few hundred MB, so this bounds the memory a burst of uploads can take.
DECODE_SLOTS = 2
DECODE_WAIT_S = 60.0
_decoding = threading.BoundedSemaphore(DECODE_SLOTS)

# The formats we let Pillow open. A list rather than "anything": EPS would run Ghostscript, and
# formats without a signature (TGA...) turn random bytes into "images". Plugins that are not
# installed (AVIF, HEIF via pillow-heif) are skipped at call time.
_READABLE = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "ICO", "JPEG2000", "AVIF", "HEIF")
_AS_IS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}  # MPO: a phone's JPEG
_JPEG_QUALITIES = (85, 75, 65, 50)  # 85 first: it almost always fits, and each try costs ~0.1 s at 12 MP
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_CORRUPT = "the file is truncated or corrupt"


def is_url(value: str) -> bool:
    """True for an http:// or https:// URL with a host; nothing else (no file:, no data:)."""
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return parts is not None and parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class PreparedImage:
    """Image bytes that pass every documented limit, ready to upload or inline."""

    data: bytes
    mime_type: str
    width: int
    height: int
    notes: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return "image.png" if self.mime_type == "image/png" else "image.jpg"

    def data_uri(self) -> str:
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def __repr__(self) -> str:
        size = _size(len(self.data))
        return f"PreparedImage({self.mime_type}, {self.width}x{self.height} px, {size}, notes={self.notes!r})"


ImageSource = str | os.PathLike | bytes | PreparedImage
Preparer = Callable[[ImageSource, str], "PreparedImage | str"]  # prepare_image's signature


def prepare_image(source: ImageSource, field: str = "image") -> PreparedImage | str:
    """Turn what the person gave into something the API accepts, or refuse with a reason.

    http(s) URL: returned unchanged, never fetched. A "data:image/...;base64," URI: decoded and
    checked like bytes. Other str / PathLike: a local file path (missing -> refusal naming the path).
    bytes: the file content. PreparedImage: returned as is. Raises ValidationError([Problem(field, ...)]).
    """
    if isinstance(source, PreparedImage):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _prepare_bytes(bytes(source), field)
    if isinstance(source, str):
        text = source.strip()
        position = unencodable_at(text)
        if position is not None:  # a lone surrogate: no request could carry it
            raise _refuse(field, f"character {position + 1} (U+{ord(text[position]):04X}) is not valid text")
        if is_url(text):
            return text
        if not text:
            raise _refuse(field, "no image given")
        if text[:5].lower() == "data:":
            return _prepare_bytes(_decode_data_uri(text, field), field)
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", text):
            raise _refuse(field, f"{_short(text)} is not an http(s) URL; give an http(s) link or a file")
    if isinstance(source, (str, os.PathLike)):
        return _prepare_bytes(_read_file(source, field), field)
    raise _refuse(field, f"expected a file, image bytes or an http(s) URL, not {type(source).__name__}")


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError([Problem(field, message)])


def _decode_data_uri(uri: str, field: str) -> bytes:
    header, comma, payload = uri.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise _refuse(field, "only base64 data URIs are accepted (data:image/png;base64,...)")
    payload = "".join(payload.split())  # data URIs are often wrapped over several lines
    if len(payload) * 3 // 4 > INPUT_MAX_BYTES:
        raise _refuse(field, f"the data URI holds more than {_size(INPUT_MAX_BYTES)}; use a smaller image")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(field, "the data URI is not valid base64") from None


def _read_file(path: str | os.PathLike, field: str) -> bytes:
    # The file's name only: a refusal may reach a stranger (the API, MCP), and folders say where
    # the app, its data and its .env live.
    shown = _short(os.path.basename(os.fsdecode(path).rstrip("/\\")) or os.fsdecode(path))
    try:
        if os.path.isdir(path):
            problem = f"{shown} is a folder, not an image file"
        elif os.stat(path).st_size > INPUT_MAX_BYTES:
            problem = f"{shown} is larger than {_size(INPUT_MAX_BYTES)}; use a smaller image"
        else:
            with open(path, "rb") as f:
                # Its own size, not the cap: read(n) reserves n bytes up front. +1: a file that grew
                # since is caught as truncated or, past the cap, as too large.
                return f.read(min(os.fstat(f.fileno()).st_size, INPUT_MAX_BYTES) + 1)
    except FileNotFoundError:
        problem = f"file not found: {shown}"
    except (OSError, ValueError) as exc:  # permissions, name too long, embedded NUL...
        problem = f"cannot read {shown}: {getattr(exc, 'strerror', None) or exc}"
    raise _refuse(field, problem)


def _prepare_bytes(data: bytes, field: str) -> PreparedImage:
    if not data:
        raise _refuse(field, "the file is empty")
    if len(data) > INPUT_MAX_BYTES:
        raise _refuse(field, f"the file is {_size(len(data))}; the largest we accept is {_size(INPUT_MAX_BYTES)}")
    Image.init()  # registers every plugin (once), so the filter below sees them all
    try:  # reads the header only: nothing is decoded before the size check below
        im = Image.open(io.BytesIO(data), formats=[f for f in _READABLE if f in Image.OPEN])
    except UnidentifiedImageError:
        raise _refuse(field, _describe_unreadable(data)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, field) from None
    except Exception:  # Pillow's parsers raise a zoo of types on malformed headers
        raise _refuse(field, _CORRUPT) from None
    with im:
        if im.width * im.height > IMAGE_MAX_PIXELS:
            raise _refuse(field, too_many_pixels(im.size))
        if not _decoding.acquire(timeout=DECODE_WAIT_S):
            raise _refuse(field, "the server is busy reading other images; try again in a minute")
        try:
            return _decode_checked(im, data, field)
        finally:
            _decoding.release()


def too_many_pixels(size: tuple[int, int] | None, pixels: int | None = None) -> str:
    """The one-line refusal for an image whose header declares more than IMAGE_MAX_PIXELS."""
    limit = f"the limit is {IMAGE_MAX_PIXELS // 10**6} megapixels; resize it and try again"
    if size is not None:
        width, height = size
        return f"the image declares {width}x{height} px ({width * height / 10**6:.0f} megapixels); {limit}"
    if pixels is not None:
        return f"the image declares {pixels / 10**6:.0f} megapixels; {limit}"
    return f"the image declares too many pixels; {limit}"


def check_declared_size(source: str | os.PathLike | bytes, field: str = "image") -> None:
    """Refuse (ValidationError) an image whose header declares more than IMAGE_MAX_PIXELS, reading
    only the header: for a file that has not been read yet (an upload's path). Anything unreadable is
    left to prepare_image, which says why."""
    Image.init()
    try:
        opened = Image.open(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            formats=[f for f in _READABLE if f in Image.OPEN],
        )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, field) from None
    except Exception:  # noqa: BLE001 - not an image, or a broken one: prepare_image gives the reason
        return
    with opened:
        if opened.width * opened.height > IMAGE_MAX_PIXELS:
            raise _refuse(field, too_many_pixels(opened.size))


def _bomb(exc: Exception, field: str) -> ValidationError:
    """Pillow's own refusal (over twice its limit) names the pixel count, not the size."""
    declared = re.search(r"\(([0-9]+) pixels\)", str(exc))
    return _refuse(field, too_many_pixels(None, int(declared[1]) if declared else None))


def guard_pillow() -> None:
    """Make Pillow's own bomb check (used by Gradio and anyone else calling Image.open) at least as
    strict as ours: it refuses at twice MAX_IMAGE_PIXELS, and None would switch it off."""
    if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > IMAGE_MAX_PIXELS:
        Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS


def _decode_checked(im: ImageFile.ImageFile, data: bytes, field: str) -> PreparedImage:
    try:
        im.load()  # a full decode: headers alone do not reveal truncation
    except Exception:
        raise _refuse(field, _CORRUPT) from None
    if ImageFile.LOAD_TRUNCATED_IMAGES and not _looks_complete(im.format, data):
        raise _refuse(field, _CORRUPT)  # someone turned that flag on, so load() padded the gap with grey
    orientation = _orientation(im)
    width, height = (im.height, im.width) if orientation >= 5 else im.size
    problems = _geometry_problems(field, width, height)
    if problems:
        raise ValidationError(problems)
    if im.format in _AS_IS and orientation == 1 and len(data) <= IMAGE_MAX_BYTES:
        return PreparedImage(data, _AS_IS[im.format], width, height)
    return _convert(im, orientation, len(data) > IMAGE_MAX_BYTES, field)


def _geometry_problems(field: str, width: int, height: int) -> list[Problem]:
    problems = []
    if min(width, height) < IMAGE_MIN_SIDE:
        need = f"each side must be at least {IMAGE_MIN_SIDE} px"
        values: tuple[tuple[str, object], ...] = (("width", width), ("height", height), ("min", IMAGE_MIN_SIDE))
        problems.append(Problem(field, f"{width}x{height} px is too small; {need}", "image_small", values))
    long, short = max(width, height), max(1, min(width, height))
    limit = Fraction(IMAGE_MAX_RATIO)  # exact, so 750x300 (2.5:1 exactly) passes
    if Fraction(long, short) > limit:
        for digits in (2, 3, 4, 9):  # enough digits that 751x300 does not read as "2.50:1"
            ratio = f"{long / short:.{digits}f}"
            if Fraction(ratio) > limit:
                break
        shown = f"{ratio}:1" if width >= height else f"1:{ratio}"
        allowed = f"1:{IMAGE_MAX_RATIO:g} to {IMAGE_MAX_RATIO:g}:1"
        values = (
            ("ratio", shown),
            ("width", width),
            ("height", height),
            ("allowed", allowed),
        )
        message = f"aspect ratio {shown} ({width}x{height} px) is outside {allowed}"
        problems.append(Problem(field, message, "image_aspect", values))
    return problems


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is ignored, as image viewers do
        return 1
    return value if isinstance(value, int) and 2 <= value <= 8 else 1


def _convert(im: ImageFile.ImageFile, orientation: int, oversized: bool, field: str) -> PreparedImage:
    """Re-encode: JPEG stays JPEG, anything else becomes PNG; JPEG at falling quality if over 10 MB."""
    fmt, icc, notes = im.format, im.info.get("icc_profile"), []
    frame: Image.Image = im
    if orientation != 1:
        frame = ImageOps.exif_transpose(im)
        notes.append("applied EXIF rotation")
    rgb = _for_jpeg(frame, notes) if fmt in ("JPEG", "MPO") or oversized else None
    if fmt in ("JPEG", "MPO"):
        # Rotated only: the original's quantisation tables keep its quality and size. (Image.open gives
        # a JpegImageFile, or the MpoImageFile subclass, for these formats; rgb was made for them above.)
        if not oversized and isinstance(im, JpegImagePlugin.JpegImageFile) and rgb is not None:
            sampling = JpegImagePlugin.get_sampling(im)
            data = _encode(rgb, "JPEG", icc, qtables=im.quantization, subsampling=sampling)
            if len(data) <= IMAGE_MAX_BYTES:
                return PreparedImage(data, "image/jpeg", frame.width, frame.height, tuple(notes))
    elif not (fmt == "PNG" and oversized):  # a PNG over 10 MB will not shrink as a PNG
        # Level 1 is 2-3x faster than the default for a few % more bytes. The cap stops a noisy
        # photo's encode at 10 MB instead of finishing a PNG that can never be sent.
        data = _encode(_for_png(frame), "PNG", icc, cap=IMAGE_MAX_BYTES, compress_level=1)
        if data:
            notes += [f"converted {fmt} to PNG"] if fmt != "PNG" else []
            return PreparedImage(data, "image/png", frame.width, frame.height, tuple(notes))
    if rgb is None:
        rgb = _for_jpeg(frame, notes)
    done = "re-encoded as JPEG" if fmt in _AS_IS else f"converted {fmt} to JPEG"
    for quality in _JPEG_QUALITIES:
        data = _encode(rgb, "JPEG", icc, quality=quality)
        if len(data) <= IMAGE_MAX_BYTES:
            notes.append(f"{done} (quality {quality}) to fit {_size(IMAGE_MAX_BYTES)}")
            return PreparedImage(data, "image/jpeg", rgb.width, rgb.height, tuple(notes))
    small = rgb  # last resort: fewer pixels. Bytes scale with area, hence the square root.
    for _ in range(6):
        scale = math.sqrt(IMAGE_MAX_BYTES / len(data)) * 0.9
        size = (int(small.width * scale), int(small.height * scale))
        if min(size) < IMAGE_MIN_SIDE:
            break
        small = small.resize(size, Image.Resampling.LANCZOS)
        data = _encode(small, "JPEG", icc, quality=_JPEG_QUALITIES[0])
        if len(data) <= IMAGE_MAX_BYTES:
            notes.append(
                f"{done} (quality {_JPEG_QUALITIES[0]}) and downscaled from {rgb.width}x{rgb.height} "
                f"to {small.width}x{small.height} px to fit {_size(IMAGE_MAX_BYTES)}"
            )
            return PreparedImage(data, "image/jpeg", small.width, small.height, tuple(notes))
    raise _refuse(field, f"could not bring the image under {_size(IMAGE_MAX_BYTES)}; resize it and try again")


class _CappedBuffer(io.BytesIO):
    """A buffer that aborts the encode writing into it once `cap` bytes would be passed."""

    def __init__(self, cap: int | None) -> None:
        super().__init__()
        self.cap = cap

    def write(self, b: bytes) -> int:  # type: ignore[override]
        if self.cap is not None and self.tell() + len(b) > self.cap:
            raise OverflowError
        return super().write(b)


def _encode(im: Image.Image, fmt: str, icc: bytes | None, cap: int | None = None, **options: object) -> bytes:
    """The encoded bytes, or b"" when they would pass `cap`."""
    buf = _CappedBuffer(cap)
    try:
        im.save(buf, fmt, icc_profile=icc, **{k: v for k, v in options.items() if v is not None})
    except OverflowError:
        return b""
    return buf.getvalue()


def _band_extrema(im: Image.Image) -> tuple[float, float]:
    """(lowest, highest) value of a single-band image; getextrema() gives a pair per band for the others."""
    low, high = im.getextrema()
    if isinstance(low, tuple) or isinstance(high, tuple):
        raise ValueError(f"{im.mode} image has more than one band")
    return low, high


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and float greyscale to L, scaled (Pillow's own conversion clips at 255)."""
    high = _band_extrema(im)[1]
    scale = 255.0 if im.mode == "F" and high <= 1.0 else (1 / 256 if high > 255 else 1.0)
    return im.convert("F").point(lambda v: v * scale).convert("L")


def _for_png(im: Image.Image) -> Image.Image:
    if im.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):  # what PNG stores as is
        return im
    if im.mode in ("PA", "La", "RGBa"):
        return im.convert("RGBA")
    return _to_8bit(im) if im.mode.startswith(("I", "F")) else im.convert("RGB")  # CMYK, YCbCr, LAB...


def _for_jpeg(im: Image.Image, notes: list[str]) -> Image.Image:
    """RGB or L. Transparency goes onto white: JPEG has no alpha, and black would look broken."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "La", "RGBa", "P", "PA"):
        rgba = im.convert("RGBA")
        alpha = rgba.getchannel("A")
        if _band_extrema(alpha)[0] < 255:
            notes.append("flattened transparency onto white")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=alpha)
        return flat
    if im.mode.startswith(("I", "F")):
        return _to_8bit(im)
    return im.convert("L" if im.mode == "1" else "RGB")


def _looks_complete(fmt: str | None, data: bytes) -> bool:
    if fmt in ("JPEG", "MPO"):  # an end-of-image marker after the last start-of-scan
        return data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda")
    return data.rfind(b"IEND") > data.rfind(b"IDAT") if fmt == "PNG" else True


def _describe_unreadable(data: bytes) -> str:
    head = data[:64]
    if head[4:8] == b"ftyp":  # the ISO media family: HEIC, AVIF, MP4, MOV
        if head[8:12] in _HEIF_BRANDS:
            return "HEIC is not supported here; export as JPEG or PNG"
        if head[8:12] in (b"avif", b"avis"):
            return "AVIF is not supported here; export as JPEG or PNG"
        return "this is a video file, not an image; use a JPEG or PNG still"
    sample = data[:4096]
    try:
        text = b"\x00" not in sample and bool(sample.decode("utf-8"))
    except UnicodeDecodeError as exc:
        text = b"\x00" not in sample and exc.start >= len(sample) - 3  # a character cut by the sample's end
    if text:
        return "not a readable image (the file looks like text)"
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _CORRUPT  # an image signature, but a header Pillow cannot parse
    return "not a readable image (unknown format); use a JPEG or PNG file"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 2**20:.1f}".removesuffix(".0") + " MB"


def _short(value: str, limit: int = 120) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def unencodable_at(text: str) -> int | None:
    """Where `text` stops being encodable as UTF-8 (a lone surrogate), or None when it all is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None
