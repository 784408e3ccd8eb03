"""The page's image field: a gr.Image that gives handlers the uploaded file's path, undecoded.

A plain `gr.Image(type="filepath")` still decodes an upload before the handler runs whenever the
file's mode differs from `image_mode` (default "RGB": a greyscale or RGBA PNG is converted), and
always when the payload is a `data:` URL (decoded, then re-encoded to WebP). A 164 KB PNG that
declares 13000x13000 pixels then costs 0.8-1.6 GB before our check. `ImageInput` reads the header
only, refuses an image declaring more than `images.IMAGE_MAX_PIXELS` with one sentence, and passes
the path on; `prepare_image` then decodes it, at most `images.DECODE_SLOTS` at a time.

The browser shows it exactly as gr.Image (`is_template`: same front-end component, same API schema).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import gradio as gr
from gradio import processing_utils
from gradio.blocks import Block
from gradio.data_classes import ImageData

from kling.errors import ValidationError
from kling.media.images import INPUT_MAX_BYTES, check_declared_size, guard_pillow
from kling.strings import english


class ImageInput(gr.Image):
    """gr.Image(type="filepath") that never decodes in preprocess. Takes gr.Image's arguments;
    `type` and `image_mode` are fixed."""

    is_template = True  # rendered by gr.Image's front end

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["type"] = "filepath"
        kwargs["image_mode"] = None  # None: Gradio returns the path instead of converting the pixels
        guard_pillow()  # Gradio's own Image.open in other components gets Pillow's bomb check too
        super().__init__(*args, **kwargs)

    def get_config(self, cls: type[Block] | None = None) -> dict[str, Any]:
        # Gradio sends the props named in the class's __init__ signature; ours is (*args, **kwargs),
        # which would send none and break gr.Image's front end ("buttons" undefined).
        return super().get_config(cls or gr.Image)

    def preprocess(self, payload: ImageData | None) -> str | None:
        """The path of the file as uploaded, or gr.Error naming the limit it breaks."""
        if payload is None:
            return None
        if payload.url and payload.url.startswith("data:"):
            path = processing_utils.save_bytes_to_cache(_data_uri_bytes(payload.url), "image", self.GRADIO_CACHE)
        elif payload.path:
            path = payload.path
        else:
            raise gr.Error("No image file was received.", title="Image refused")
        try:
            check_declared_size(path, field=english(self.label) or "image")
        except ValidationError as exc:
            raise gr.Error(str(exc), title="Image refused") from None
        return str(path)


def _data_uri_bytes(uri: str) -> bytes:
    """The bytes of a base64 data URI, refused (gr.Error) when larger than images.INPUT_MAX_BYTES."""
    header, _, payload = uri.partition(",")
    if not header.lower().endswith(";base64") or len(payload) * 3 // 4 > INPUT_MAX_BYTES:
        raise gr.Error(
            f"The image must be a base64 data URI of at most {INPUT_MAX_BYTES // 2**20} MB.", title="Image refused"
        )
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise gr.Error("The image data URI is not valid base64.", title="Image refused") from None
