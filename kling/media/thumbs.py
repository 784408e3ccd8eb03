"""Small JPEG thumbnails: of the sample photos in `assets/`, for the page's example gallery, and of
saved clips, for History's rows (`clip_thumb`, made once and kept beside the last frames).

The photos are full size (the request sends them); the gallery shows them a few hundred pixels
wide, so the page loads `assets/thumbs/<name>.jpg` instead and the full photo only when an example
is used. The thumbnails are committed; after changing a photo, remake them with
`python -m kling.media.thumbs` (tests/media/test_thumbs.py checks that they match their photos). The
same command draws the Text to Video examples' posters (kling/media/posters.py).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from kling.media.poster_frame import write_poster

THUMB_WIDTH = 320  # as wide as a showcase poster: sharp on a 2x screen at gallery size
THUMB_QUALITY = 82
CLIP_THUMB_WIDTH = 160  # History shows it 80 CSS px wide: sharp on a 2x screen, a few KB


def thumb_path(photo: Path) -> Path:
    """Where a photo's thumbnail lives: `thumbs/<stem>.jpg` beside it."""
    return photo.parent / "thumbs" / f"{photo.stem}.jpg"


def render_thumb(photo: Path, width: int = THUMB_WIDTH) -> Image.Image:
    """The photo scaled to `width` pixels wide (never up), its aspect ratio kept, as RGB."""
    with Image.open(photo) as opened:
        image = opened.convert("RGB")
    if image.width > width:
        image = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
    return image


def write_thumb(photo: Path, width: int = THUMB_WIDTH) -> Path:
    """Writes the photo's thumbnail to `thumb_path(photo)` and returns that path."""
    path = thumb_path(photo)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_thumb(photo, width).save(path, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return path


def gallery_image(photo: Path) -> Path:
    """What the gallery shows for a photo: its thumbnail, or the photo itself if it has none yet."""
    thumb = thumb_path(photo)
    return thumb if thumb.is_file() else photo


def clip_thumb(clip: Path, out: Path, width: int = CLIP_THUMB_WIDTH) -> bool:
    """The clip's first frame as a small JPEG at `out`, made only when `out` is missing (a task's
    clip never changes; the clip shelf's hard links touch both files' times, so times say nothing);
    True when it was written now. A clip with no readable frame raises NotAVideoError."""
    if out.is_file():
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    write_poster(clip, out, max_width=width)
    return True


def main() -> None:
    from kling.examples import STARTERS
    from kling.media import posters

    for starter in STARTERS:
        print(write_thumb(starter.image_path))
    posters.main()  # the Text to Video examples' posters, committed beside the thumbnails


if __name__ == "__main__":
    main()
