"""The empty player's poster: before a visitor's first run, each generate tab's player shows the
still of its first example (that example's showcase clip's poster where the Space has one, else its
committed thumbnail or poster), captioned as an example, not a result, in the page's language.

The still is the same cached file the tab's example gallery shows, so its address is the gallery's
and a browser fetches it once. It is drawn as the empty player's background (style.css): the frame
keeps its shape, so nothing moves when a run starts or its clip replaces the frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from kling.app.scripts import script
from kling.app.widgets import thumbnails
from kling.examples import STARTERS, T2V_EXAMPLES, Generable
from kling.store.showcase import ShowcaseClip


def poster_file(example: Generable, showcase: dict[str, ShowcaseClip]) -> Path | None:
    """The file the example's gallery tile shows; None when the tile is a drawn card (no file)."""
    image = thumbnails([example], showcase)[0][0]
    return Path(image) if isinstance(image, str) and Path(image).is_file() else None


def poster_url(example: Generable, showcase: dict[str, ShowcaseClip], gallery: gr.Gallery) -> str | None:
    """The poster's address relative to the page: the gallery's cached copy of the same file
    (Gradio serves a block's cached files; the gallery keeps its own for as long as the server runs)."""
    found = poster_file(example, showcase)
    cached = gallery.move_resource_to_block_cache(found) if found is not None else None
    if cached is None:
        return None
    gallery.keep_in_cache.add(cached)
    # Quoted as Gradio's page quotes its files' addresses (encodeURIComponent, part by part).
    return "gradio_api/file=" + "/".join(quote(part, safe="!*'()") for part in cached.split("/"))


def posters_script(showcase: dict[str, ShowcaseClip], i2v_gallery: gr.Gallery, t2v_gallery: gr.Gallery) -> str:
    """The page's script (run as it opens, no request to the server) that sets each tab's poster
    and its caption as CSS variables, which style.css draws in the empty players."""
    posters = {
        "i2v": poster_url(STARTERS[0], showcase, i2v_gallery),
        "t2v": poster_url(T2V_EXAMPLES[0], showcase, t2v_gallery),
    }
    found = {tab: url for tab, url in posters.items() if url}
    return script("posters").replace("__POSTERS__", json.dumps(found))
