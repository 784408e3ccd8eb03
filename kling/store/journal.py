"""A SQLite record of every submitted task, so nothing paid for is lost.

One row per task, written the moment the submit returns an id (before the first poll) and updated
at every status change. The row never holds a key: who paid is a short SHA-256 fingerprint of the
key, enough to know which unfinished tasks a key can resume, useless to spend with. WAL mode and
one lock per process keep many concurrent generations from tripping over each other. The schema and
its migrations are kling.store.migrations'.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kling.config import DataFolder
from kling.errors import JournalError
from kling.media.images import PreparedImage
from kling.store.migrations import migrate
from kling.store.transactions import transaction

# A task ends only in one of these (docs/API.md); any other status, "pending" included, still runs.
FINAL = ("completed", "failed", "cancelled", "timeout", "deleted")
# Ours, not WaveSpeed's: the task answered 404 after its first minute, so WaveSpeed does not know
# it (or no longer keeps it). Final: nothing resumes it again.
UNKNOWN = "unknown"
# Rows that are not tasks but submits whose answer was lost and whose task could not be told apart
# (`candidates` lists what WaveSpeed's listing showed). An open one (`uncertain`) counts against
# every spend limit like a task until the operator adopts a task for it or dismisses it.
UNCERTAIN, ADOPTED, DISMISSED = "uncertain", "adopted", "dismissed"
LOST_SUBMITS = (UNCERTAIN, ADOPTED, DISMISSED)
_NOT_TASKS = "('uncertain', 'adopted', 'dismissed')"  # LOST_SUBMITS, for SQL
# WaveSpeed refunds a failed task (its docs): it is not money spent.
REFUNDED = ("failed",)
_REFUNDED = "('failed')"  # REFUNDED, for SQL


def short_hash(value: str | None) -> str:
    """A fingerprint that identifies without revealing: never store a key or an address."""
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else ""


def key_fingerprint(key: str | None) -> str:
    return short_hash(key)


@dataclass(frozen=True)
class Job:
    id: str
    model: str
    mode: str
    owner: str
    ip_hash: str
    key_fingerprint: str
    params: dict[str, Any]
    status: str
    error_code: int | None
    error: str
    output_url: str
    local_path: str
    price_cents: int
    inference_ms: int | None
    nsfw: bool
    created: float
    updated: float
    continues: str | None = None
    pruned: float | None = None  # when its clip was removed on purpose (kling.store.disk)
    candidates: tuple[str, ...] = ()

    @property
    def unfinished(self) -> bool:
        """Still running, or done at WaveSpeed but its clip not yet saved here. A pruned clip, a task
        WaveSpeed does not know and a lost submit's row are never unfinished: there is nothing to wait for."""
        if self.pruned is not None or self.status == UNKNOWN or self.lost_submit:
            return False
        return self.status not in FINAL or (self.status == "completed" and not self.clip_saved)

    @property
    def lost_submit(self) -> bool:
        """A submit whose answer was lost (open, adopted or dismissed), not a task."""
        return self.status in LOST_SUBMITS

    @property
    def clip_saved(self) -> bool:
        return bool(self.local_path) and Path(self.local_path).exists()

    @property
    def preview(self) -> bool:
        return self.mode == "preview"

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        values = dict(row)
        values["params"] = json.loads(values["params"])
        values["nsfw"] = bool(values["nsfw"])
        values["candidates"] = tuple(json.loads(values.get("candidates") or "[]"))
        return cls(**values)


_COLUMNS = [f.name for f in fields(Job) if f.name != "candidates"]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self.version = migrate(self._db)

    @property
    def inputs_dir(self) -> Path:
        return DataFolder(self.path.parent).inputs

    def store_image(self, image: PreparedImage) -> Path:
        """A copy of an input image, named by its content, so "Use these settings" can refill the form."""
        suffix = ".png" if image.mime_type == "image/png" else ".jpg"
        path = self.inputs_dir / (hashlib.sha256(image.data).hexdigest()[:24] + suffix)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".{threading.get_ident()}.part")
            tmp.write_bytes(image.data)
            tmp.replace(path)
        return path

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def record(
        self,
        *,
        task_id: str,
        model: str,
        mode: str,
        owner: str,
        key: str | None,
        params: dict[str, Any],
        price_cents: int,
        status: str = "created",
        ip: str = "",
        continues: str | None = None,
    ) -> None:
        """The row for a task that now exists. Idempotent: a second call keeps the first row."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO tasks (id, model, mode, owner, ip_hash, key_fingerprint, params, status,"
                " price_cents, created, updated, continues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id,
                    model,
                    mode,
                    owner,
                    short_hash(ip),
                    key_fingerprint(key),
                    json.dumps(params),
                    status,
                    price_cents,
                    now,
                    now,
                    continues,
                ),
            )

    def update(self, task_id: str, **changes: Any) -> None:
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns: {sorted(unknown)}")
        if not changes:
            return
        changes["updated"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._tx() as db:
            db.execute(f"UPDATE tasks SET {assignments} WHERE id = ?", (*changes.values(), task_id))

    def get(self, task_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return Job.from_row(row) if row else None

    def for_owner(self, owner: str, limit: int = 200) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM tasks WHERE owner = ? AND status NOT IN {_NOT_TASKS} ORDER BY created DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [Job.from_row(row) for row in rows]

    def all(self, limit: int = 200) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM tasks WHERE status NOT IN {_NOT_TASKS} ORDER BY created DESC LIMIT ?", (limit,)
            ).fetchall()
        return [Job.from_row(row) for row in rows]

    def saved_clips(self, *, mode: str, before: float | None = None) -> list[Job]:
        """Rows of `mode` with a clip path and not pruned, oldest first (updated before `before`)."""
        query = "SELECT * FROM tasks WHERE mode = ? AND local_path != '' AND pruned IS NULL"
        args: list[Any] = [mode]
        if before is not None:
            query += " AND updated < ?"
            args.append(before)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY updated", args).fetchall()
        return [Job.from_row(row) for row in rows]

    def mark_pruned(self, task_id: str, when: float | None = None) -> None:
        """The task's clip is gone on purpose: keep the row, say so, and never fetch it again."""
        with self._tx() as db:
            db.execute("UPDATE tasks SET pruned = ? WHERE id = ?", (time.time() if when is None else when, task_id))

    def unfinished(self, *, key: str | None, owner: str | None = None) -> list[Job]:
        """Live tasks the given key paid for that have no saved clip yet (oldest first)."""
        query = f"SELECT * FROM tasks WHERE mode = 'live' AND key_fingerprint = ? AND status NOT IN {_NOT_TASKS}"
        args: list[Any] = [key_fingerprint(key)]
        if owner is not None:
            query += " AND owner = ?"
            args.append(owner)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created", args).fetchall()
        return [job for job in map(Job.from_row, rows) if job.unfinished]

    def usage(
        self, *, key: str | None, since: float, owner: str | None = None, ip: str | None = None
    ) -> tuple[int, int, float | None]:
        """(tasks, cents, oldest created) of live tasks paid by `key` since a time, for one owner or
        one address when given. An open lost submit counts as the task it may have made; a resolved
        one does not (its task, if adopted, has a row of its own). A failed task counts as a task but
        not in the cents: WaveSpeed refunds it."""
        query = (
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN {_REFUNDED} THEN 0 ELSE price_cents END), 0),"
            " MIN(created) FROM tasks"
            " WHERE mode = 'live' AND key_fingerprint = ? AND created > ?"
            f" AND status NOT IN ('{ADOPTED}', '{DISMISSED}')"
        )
        return self._totals(query, key=key, since=since, owner=owner, ip=ip)

    def paid_rows(self, *, key: str | None, since: float) -> list[Job]:
        """Every live row paid by `key` created since a time, lost submits included, oldest first:
        what kling.store.usage adds up."""
        query = "SELECT * FROM tasks WHERE mode = 'live' AND key_fingerprint = ? AND created > ? ORDER BY created"
        with self._lock:
            rows = self._db.execute(query, (key_fingerprint(key), since)).fetchall()
        return [Job.from_row(row) for row in rows]

    # -- prompt optimizer calls ----------------------------------------------------------------

    def record_prompt_call(self, *, owner: str, ip: str, key: str | None, price_mills: int, when: float) -> int:
        """A call about to be sent with `key`: counted from now on, whatever its outcome."""
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO prompt_calls (owner, ip_hash, key_fingerprint, price_mills, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (owner, short_hash(ip), key_fingerprint(key), price_mills, when),
            )
        return int(cursor.lastrowid or 0)

    def settle_prompt_call(self, call_id: int, *, price_mills: int) -> None:
        """What the call cost after all (0: refused, no task was made); it still counts as a request."""
        with self._tx() as db:
            db.execute("UPDATE prompt_calls SET price_mills = ? WHERE id = ?", (price_mills, call_id))

    def prompt_usage(
        self, *, key: str | None, since: float, owner: str | None = None, ip: str | None = None
    ) -> tuple[int, int, float | None]:
        """(calls, mills, oldest created) of prompt optimizer calls paid by `key` since a time."""
        query = "SELECT COUNT(*), COALESCE(SUM(price_mills), 0), MIN(created) FROM prompt_calls"
        query += " WHERE key_fingerprint = ? AND created > ?"
        return self._totals(query, key=key, since=since, owner=owner, ip=ip)

    def _totals(
        self, query: str, *, key: str | None, since: float, owner: str | None, ip: str | None
    ) -> tuple[int, int, float | None]:
        """(count, sum, oldest) of a totals query over rows paid by `key` since a time (its WHERE
        takes the key's fingerprint and the time), narrowed to one owner and one address if given."""
        args: list[Any] = [key_fingerprint(key), since]
        if owner is not None:
            query += " AND owner = ?"
            args.append(owner)
        if ip is not None:
            query += " AND ip_hash = ?"
            args.append(short_hash(ip))
        with self._lock:
            count, total, oldest = self._db.execute(query, args).fetchone()
        return int(count), int(total), oldest

    def prompt_calls(self, *, key: str | None, since: float) -> list[tuple[float, int]]:
        """(created, price in mills) of each prompt optimizer call paid by `key` since a time, oldest first."""
        query = (
            "SELECT created, price_mills FROM prompt_calls WHERE key_fingerprint = ? AND created > ? ORDER BY created"
        )
        with self._lock:
            rows = self._db.execute(query, (key_fingerprint(key), since)).fetchall()
        return [(float(created), int(mills)) for created, mills in rows]

    # -- lost submits -------------------------------------------------------------------------

    def record_uncertain(
        self,
        *,
        model: str,
        owner: str,
        key: str | None,
        params: dict[str, Any],
        price_cents: int,
        ip: str = "",
        candidates: tuple[str, ...] = (),
    ) -> str:
        """A submit that may have made a billed task nobody could identify: a row that counts like
        that task (price, owner, address) until the operator resolves it. Its id is ours, not a task's."""
        submit_id = "lost-" + uuid.uuid4().hex[:24]
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO tasks (id, model, mode, owner, ip_hash, key_fingerprint, params, status,"
                " price_cents, created, updated, candidates) VALUES (?, ?, 'live', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    submit_id,
                    model,
                    owner,
                    short_hash(ip),
                    key_fingerprint(key),
                    json.dumps(params),
                    UNCERTAIN,
                    price_cents,
                    now,
                    now,
                    json.dumps(list(candidates)),
                ),
            )
        return submit_id

    def lost_submits(self, *, open_only: bool = True, limit: int = 200) -> list[Job]:
        """Lost submits, oldest first: the open ones (to resolve), or all of them."""
        where = f"status = '{UNCERTAIN}'" if open_only else f"status IN {_NOT_TASKS}"
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM tasks WHERE {where} ORDER BY created LIMIT ?", (limit,)).fetchall()
        return [Job.from_row(row) for row in rows]

    def claims(self, task_id: str) -> list[Job]:
        """The open lost submits whose candidates include `task_id`."""
        needle = json.dumps(task_id)  # as it appears in the JSON list, quotes included
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM tasks WHERE status = '{UNCERTAIN}' AND instr(candidates, ?) > 0", (needle,)
            ).fetchall()
        return [job for job in map(Job.from_row, rows) if task_id in job.candidates]

    def adopt(self, submit_id: str, task_id: str, *, model: str = "") -> Job:
        """The task `task_id` is the one the open lost submit made: it gets a row of its own with the
        submit's price, owner, address, key and time (so every limit counts it once), and the submit
        is marked adopted. JournalError when the submit is not open or the task is journaled already."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM tasks WHERE id = ?", (submit_id,)).fetchone()
            if row is None or row["status"] != UNCERTAIN:
                raise JournalError(f"{submit_id} is not an open lost submit")
            if db.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone():
                raise JournalError(f"task {task_id} is in the journal already")
            now = time.time()
            db.execute(
                "INSERT INTO tasks (id, model, mode, owner, ip_hash, key_fingerprint, params, status, price_cents,"
                " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 'created', ?, ?, ?)",
                (
                    task_id,
                    model or row["model"],
                    row["mode"],
                    row["owner"],
                    row["ip_hash"],
                    row["key_fingerprint"],
                    row["params"],
                    row["price_cents"],
                    row["created"],
                    now,
                ),
            )
            db.execute(
                "UPDATE tasks SET status = ?, error = ?, updated = ? WHERE id = ?",
                (ADOPTED, f"adopted as task {task_id}", now, submit_id),
            )
        job = self.get(task_id)
        assert job is not None
        return job

    def dismiss(self, submit_id: str) -> None:
        """The operator found no task for this lost submit: it stops counting."""
        with self._tx() as db:
            row = db.execute("SELECT status FROM tasks WHERE id = ?", (submit_id,)).fetchone()
            if row is None or row["status"] != UNCERTAIN:
                raise JournalError(f"{submit_id} is not an open lost submit")
            db.execute(
                "UPDATE tasks SET status = ?, error = ?, updated = ? WHERE id = ?",
                (DISMISSED, "dismissed by the operator", time.time(), submit_id),
            )
