"""Clips their owners chose to share: one row per share in a small SQLite file beside the journal.

A share's id is 128 random bits (URL-safe base64), never the task id: a link names nothing but
itself, and a task id someone learns gives no way to its clip. A row says whose it is (the owner
the server derived, as for the journal), what it shares (a task's clip, or a film by its name),
when, and the title the gallery shows. Removing the row is what stops sharing: the routes read the
row on every request, so the link answers 404 from the next request on.

Sharing calls no API and costs nothing. The journal stays the record of paid tasks; shares are kept
apart so a moderation command never touches it.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from kling.store.transactions import transaction

CLIP, FILM = "clip", "film"
ID_BYTES = 16  # 128 bits
_SCHEMA = """
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY,        -- random, URL-safe: what /clip/<id> names
    owner TEXT NOT NULL,        -- the journal's owner of what is shared
    kind TEXT NOT NULL,         -- clip | film
    subject TEXT NOT NULL,      -- the task id, or the film's file name
    title TEXT NOT NULL,        -- the prompt (a film: its clips' prompts), for the gallery
    created REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS shares_subject ON shares (kind, subject);
CREATE INDEX IF NOT EXISTS shares_created ON shares (created);
"""


def new_share_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def plausible_id(share_id: str) -> bool:
    """The shape new_share_id makes (22 URL-safe characters): anything else is not looked up."""
    return len(share_id) == 22 and all(c.isalnum() or c in "-_" for c in share_id)


@dataclass(frozen=True)
class Share:
    id: str
    owner: str
    kind: str
    subject: str
    title: str
    created: float


class ShareStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._tx() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, *, owner: str, kind: str, subject: str, title: str, now: float | None = None) -> Share:
        """Share `subject`; sharing what is already shared gives its existing share (one link each)."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM shares WHERE kind = ? AND subject = ?", (kind, subject)).fetchone()
            if row is not None:
                return Share(**dict(row))
            share = Share(new_share_id(), owner, kind, subject, title, time.time() if now is None else now)
            db.execute(
                "INSERT INTO shares (id, owner, kind, subject, title, created) VALUES (?, ?, ?, ?, ?, ?)",
                (share.id, share.owner, share.kind, share.subject, share.title, share.created),
            )
            return share

    def get(self, share_id: str) -> Share | None:
        if not plausible_id(share_id):
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM shares WHERE id = ?", (share_id,)).fetchone()
        return Share(**dict(row)) if row else None

    def of(self, kind: str, subject: str) -> Share | None:
        """The share of a task's clip or a film, if it is shared."""
        with self._lock:
            row = self._db.execute("SELECT * FROM shares WHERE kind = ? AND subject = ?", (kind, subject)).fetchone()
        return Share(**dict(row)) if row else None

    def remove(self, share_id: str, *, owner: str | None = None) -> bool:
        """Stop sharing; with `owner`, only a share of that owner. True when a share was removed."""
        with self._tx() as db:
            if owner is None:
                cursor = db.execute("DELETE FROM shares WHERE id = ?", (share_id,))
            else:
                cursor = db.execute("DELETE FROM shares WHERE id = ? AND owner = ?", (share_id, owner))
            return cursor.rowcount > 0

    def ids(self) -> set[str]:
        """Every share's id: what the files of the shared folder may be named after."""
        with self._lock:
            return {row["id"] for row in self._db.execute("SELECT id FROM shares")}

    def newest(self, limit: int = 60) -> list[Share]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM shares ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [Share(**dict(row)) for row in rows]
