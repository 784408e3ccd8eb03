"""The journal's schema as a sequence of steps, and the code that brings any journal file up to date.

`PRAGMA user_version` counts the steps a file has had; a file written before it was kept is told by
its columns. Each step runs in its own transaction under SQLite's write lock, so two processes
opening the same old file migrate it once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from kling.errors import JournalError

# The schema is the sum of these steps, in order: `PRAGMA user_version` counts the ones a journal
# has had. A change to the schema is a new step at the end (never an edit of an old one), and a
# case in tests/store/test_journal_migrations.py.
MIGRATIONS: tuple[str, ...] = (
    # 1: the first release.
    """
    CREATE TABLE IF NOT EXISTS tasks (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        mode TEXT NOT NULL,              -- live | preview
        owner TEXT NOT NULL,             -- opaque browser id, or "cli"
        key_fingerprint TEXT NOT NULL,   -- sha256(key)[:16]: which key paid, never the key
        params TEXT NOT NULL,            -- JSON: prompt, negative prompt, guidance, duration, aspect, images
        status TEXT NOT NULL,
        error_code INTEGER,
        error TEXT NOT NULL DEFAULT '',
        output_url TEXT NOT NULL DEFAULT '',
        local_path TEXT NOT NULL DEFAULT '',
        price_cents INTEGER NOT NULL,
        inference_ms INTEGER,
        nsfw INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS tasks_owner ON tasks (owner, created);
    CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
    """,
    # 2: the spend guard: sha256(client address)[:16] for the per-address limit; the daily budget's index.
    """
    ALTER TABLE tasks ADD COLUMN ip_hash TEXT NOT NULL DEFAULT '';
    CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created);
    """,
    # 3: the task a new task continues from (a clip extended from another), if any.
    """
    ALTER TABLE tasks ADD COLUMN continues TEXT;
    """,
    # 4: when the task's clip was removed from the data folder (a preview past its cap, or a paid
    # clip the operator pruned): the row stays, the clip is gone for good and is never fetched again.
    """
    ALTER TABLE tasks ADD COLUMN pruned REAL;
    """,
    # 5: lost submits kept as rows (status uncertain/adopted/dismissed): the candidate task ids
    # WaveSpeed's listing showed for one, as a JSON list; '' on a task's row.
    """
    ALTER TABLE tasks ADD COLUMN candidates TEXT NOT NULL DEFAULT '';
    """,
    # 6: calls to WaveSpeed's prompt optimizer paid with the Space's key, apart from clips: each is
    # a request on the key (hourly limits) and costs a tenth of a cent (mills, so none is rounded away).
    """
    CREATE TABLE IF NOT EXISTS prompt_calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        ip_hash TEXT NOT NULL DEFAULT '',
        key_fingerprint TEXT NOT NULL,
        price_mills INTEGER NOT NULL,    -- tenths of a cent; 0 once WaveSpeed refused the call
        created REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS prompt_calls_created ON prompt_calls (created);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _unversioned_version(db: sqlite3.Connection) -> int:
    """The version of a journal written before user_version was kept: told by its columns."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(tasks)")}
    if not columns:
        return 0
    return 2 if "ip_hash" in columns else 1


def _statements(script: str) -> Iterator[str]:
    """One statement at a time (executescript would commit the step's transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


def migrate(db: sqlite3.Connection) -> int:
    """Bring the journal up to SCHEMA_VERSION, one step per transaction; the version it ends at.
    Safe against another process migrating the same file: each step re-reads the version under
    the write lock."""
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0] or _unversioned_version(db)
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"{version=} of this journal is newer than this code knows ({SCHEMA_VERSION}): upgrade the app"
                )
            if version == SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {version}")
                db.execute("COMMIT")
                return version
            for statement in _statements(MIGRATIONS[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
