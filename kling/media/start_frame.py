"""A clip's last frame as the next start image, without the preview's PREVIEW band.

Every preview frame carries the band (kling/media/render.py), so a preview clip's last frame
used as a start image would carry it into the next clip, where the new band lands on the old one:
a ghosted double band. The band's pixels cannot be restored (its text and rule are opaque), so
the start image is the part of the frame below the band, widened to the frame's aspect ratio by
cropping the sides evenly and scaled back to the frame's size: a slight push-in, no band pixels,
the same size and ratio (so the next clip has the same shape). A live clip has no band and is
taken as it is.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from kling.files import replacing
from kling.media.render import banner_height
from kling.media.video import last_frame, save_last_frame


def without_band(frame: Image.Image) -> Image.Image:
    """The frame below a preview band, cropped to the frame's aspect ratio and scaled to its size."""
    w, h = frame.size
    # A few rows more: the encoder's 2x2 colour subsampling and block edges smear the band's
    # bottom rule into the rows just under it.
    band = banner_height(frame.size) + max(4, banner_height(frame.size) // 8)
    if band >= h:
        return frame
    keep_h = h - band
    keep_w = max(1, round(w * keep_h / h))
    left = (w - keep_w) // 2
    return frame.crop((left, band, left + keep_w, h)).resize((w, h), Image.Resampling.LANCZOS)


def save_start_frame(clip: Path, out_png: Path, preview: bool) -> Path:
    """The clip's last frame as a lossless PNG at `out_png`: as it is for a live clip, without
    the PREVIEW band for a preview one."""
    if not preview:
        return save_last_frame(clip, out_png)
    image = without_band(last_frame(clip))
    out_png = Path(out_png)
    with replacing(out_png) as tmp:
        image.save(tmp, format="PNG")
    return out_png
