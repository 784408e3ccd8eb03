"""The finished clips the page serves, in one folder of bounded size.

The data folder stays blocked from Gradio's file routes (the journal, other browsers' clips), so a
clip is shown through a link in a folder inside Gradio's own cache: Gradio serves files there as
they are, without copying each one again. The folder keeps the most recently shown clips and
removes the least recently shown ones past a fixed number of bytes, so a Space that runs for months
keeps its temp space bounded whatever it generates.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

DEFAULT_CAP_BYTES = 1 << 30  # 1 GiB: ~100 ten-second Kling clips, thousands of previews


def gradio_cache() -> Path:
    """Gradio's upload and cache folder (GRADIO_TEMP_DIR, else the system temp dir's `gradio`)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


class ClipShelf:
    def __init__(self, folder: Path, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        self.folder = Path(folder)
        self.cap_bytes = cap_bytes
        self._lock = threading.Lock()

    @classmethod
    def in_gradio_cache(cls, cap_bytes: int = DEFAULT_CAP_BYTES) -> ClipShelf:
        return cls(gradio_cache() / "kling-clips", cap_bytes)

    def servable(self, path: Path, name: str | None = None) -> str:
        """A path Gradio may serve for the clip at `path`: a hard link (a copy across file systems,
        as on Spaces' /data) in the shelf, marked as just shown; older clips go past the cap.
        `name`: the file name a download gets (default: the clip's own)."""
        link = self.folder / Path(name or Path(path).name).name
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            if link.exists():
                os.utime(link)
            else:
                try:
                    os.link(path, link)
                except OSError:
                    partial = link.with_name(link.name + ".part")
                    shutil.copyfile(path, partial)
                    partial.replace(link)
                os.utime(link)  # a hard link keeps the clip's own times: mark it as shown now
            self._evict(keep=link)
        return str(link)

    def size(self) -> int:
        return sum(entry.stat().st_size for entry in self._entries())

    def _entries(self) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.folder) as entries:
                return [entry for entry in entries if entry.is_file()]
        except FileNotFoundError:
            return []

    def _evict(self, keep: Path) -> None:
        """Remove the least recently shown clips until the shelf fits the cap (never `keep`)."""
        entries = sorted(self._entries(), key=lambda entry: entry.stat().st_mtime)
        total = sum(entry.stat().st_size for entry in entries)
        for entry in entries:
            if total <= self.cap_bytes:
                break
            if entry.path == str(keep):
                continue
            total -= entry.stat().st_size
            Path(entry.path).unlink(missing_ok=True)
