"""The finished clips the page serves, in one folder of bounded size.

The data folder stays blocked from Gradio's file routes (the journal, other browsers' clips), so a
clip is shown through a link in a folder inside Gradio's own cache: Gradio serves files there as
they are, without copying each one again. The folder keeps the most recently shown clips and
removes the least recently shown ones past a fixed number of bytes, so a Space that runs for months
keeps its temp space bounded whatever it generates.

Each clip sits in a folder named by a keyed digest of its source (HMAC with a key derived from the
server's secret), under its readable name: `kling-clips/<digest>/<name>.mp4`. Gradio serves any file
in its cache to anyone who names it, so a path made of the task id alone would hand the clip to
whoever learns the id; the digest can be made only by this server.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import shutil
import threading
from pathlib import Path

DEFAULT_CAP_BYTES = 1 << 30  # 1 GiB: ~100 ten-second Kling clips, thousands of previews


def gradio_cache() -> Path:
    """Gradio's upload and cache folder (GRADIO_TEMP_DIR, else the system temp dir's `gradio`)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


_DIGEST_CONTEXT = b"kling-studio clip shelf v1:"


class ClipShelf:
    def __init__(self, folder: Path, cap_bytes: int = DEFAULT_CAP_BYTES, key: bytes | None = None) -> None:
        """`key`: what the folders' digests are made with (`identity.shelf_key` of the server's
        secret, so links survive a restart); default: a random one for this process."""
        self.folder = Path(folder)
        self.cap_bytes = cap_bytes
        self._key = key or secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._forget_guessable()

    @classmethod
    def in_gradio_cache(cls, cap_bytes: int = DEFAULT_CAP_BYTES, key: bytes | None = None) -> ClipShelf:
        return cls(gradio_cache() / "kling-clips", cap_bytes, key)

    def digest(self, path: Path) -> str:
        """The folder a source file is served from: keyed by its folder and file name in the data
        folder (`outputs/<task>.mp4`, `frames/<task>.png`...), which the server alone can key."""
        source = Path(path)
        message = _DIGEST_CONTEXT + f"{source.parent.name}/{source.name}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def servable(self, path: Path, name: str | None = None) -> str:
        """A path Gradio may serve for the clip at `path`: a hard link (a copy across file systems,
        as on Spaces' /data) in the shelf, marked as just shown; older clips go past the cap.
        `name`: the file name a download gets (default: the clip's own); its folder is `digest`."""
        link = self.folder / self.digest(path) / Path(name or Path(path).name).name
        with self._lock:
            link.parent.mkdir(parents=True, exist_ok=True)
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
        """Every file on the shelf: those in the digest folders, and any left directly in it."""
        found: list[os.DirEntry[str]] = []
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.is_file():
                        found.append(entry)
                    elif entry.is_dir():
                        with os.scandir(entry.path) as inner:
                            found.extend(each for each in inner if each.is_file())
        except FileNotFoundError:
            pass
        return found

    def _forget_guessable(self) -> None:
        """Remove clips an older version left directly in the shelf, served as `<task id>.mp4`."""
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.is_file():
                        Path(entry.path).unlink(missing_ok=True)
        except FileNotFoundError:
            pass

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
            if Path(entry.path).parent != self.folder:
                with contextlib.suppress(OSError):  # still holds another name of the same clip
                    Path(entry.path).parent.rmdir()
