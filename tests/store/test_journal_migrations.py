"""A journal written by an older release opens with today's code: no row lost, every reader and
writer works. A new migration in kling/store/journal.py gets a case here (an old schema and its rows)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from kling.api.client import AsyncKlingClient
from kling.api.models import PollPolicy
from kling.api.params import T2VRequest
from kling.errors import JournalError
from kling.store.journal import Journal, key_fingerprint
from kling.store.migrations import SCHEMA_VERSION
from tests.helpers.fakes import KEY
from tests.helpers.launch import cli
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.runner import make_runner

# The first release's schema (cd78164), word for word: no ip_hash, no tasks_created index, no user_version.
FIRST_RELEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    mode TEXT NOT NULL,              -- live | preview
    owner TEXT NOT NULL,             -- opaque browser id, or "cli"
    key_fingerprint TEXT NOT NULL,   -- sha256(key)[:16]: which key paid, never the key
    params TEXT NOT NULL,            -- JSON: prompt, negative_prompt, guidance_scale, duration, aspect_ratio, images
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
"""
T2V = "kwaivgi/kling-v2.0-t2v-master"
OWNER = "browser-from-the-first-release"


def first_release_journal(path: Path, rows: list[dict]) -> None:
    """A journal as the first release wrote it: its schema, its INSERT, its WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(FIRST_RELEASE_SCHEMA)
    for row in rows:
        db.execute(
            "INSERT OR IGNORE INTO tasks (id, model, mode, owner, key_fingerprint, params, status, price_cents,"
            " created, updated, local_path, error, error_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["id"],
                T2V,
                row.get("mode", "live"),
                row.get("owner", OWNER),
                key_fingerprint(KEY),
                json.dumps({"prompt": row["prompt"], "duration": 5, "aspect_ratio": "16:9"}),
                row["status"],
                130,
                row["created"],
                row["created"],
                row.get("local_path", ""),
                row.get("error", ""),
                row.get("error_code"),
            ),
        )
    db.close()


def old_rows(tmp_path: Path, unfinished_id: str = "old-unfinished-1") -> list[dict]:
    saved = tmp_path / "data" / "outputs" / "old-done-1.mp4"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(b"an old clip")
    return [
        {"id": "old-done-1", "prompt": "a kite", "status": "completed", "created": 1000.0, "local_path": str(saved)},
        {"id": "old-failed-1", "prompt": "a storm", "status": "failed", "created": 1001.0, "error": "moderation"},
        {"id": "old-preview-1", "prompt": "a fox", "status": "completed", "created": 1002.0, "mode": "preview"},
        {"id": unfinished_id, "prompt": "a lantern", "status": "processing", "created": 1003.0},
    ]


def test_a_first_release_journal_is_migrated_in_place_and_takes_new_rows(tmp_path):
    path = tmp_path / "data" / "jobs.sqlite3"
    first_release_journal(path, old_rows(tmp_path))

    journal = Journal(path)
    assert journal.version == SCHEMA_VERSION
    assert [job.id for job in journal.all()] == ["old-unfinished-1", "old-preview-1", "old-failed-1", "old-done-1"]
    assert journal.get("old-done-1").clip_saved and journal.get("old-failed-1").error == "moderation"
    assert [job.id for job in journal.unfinished(key=KEY)] == ["old-unfinished-1"]

    # The INSERT that failed before ("table tasks has no column named ip_hash"), and the newest column.
    journal.record(
        task_id="new-1",
        model=T2V,
        mode="live",
        owner=OWNER,
        key=KEY,
        params={"prompt": "again"},
        price_cents=130,
        ip="10.0.0.1",
        continues="old-done-1",
    )
    assert journal.get("new-1").continues == "old-done-1" and journal.get("old-done-1").continues is None
    assert journal.usage(key=KEY, since=0, ip="10.0.0.1")[0] == 1  # the per-address limit reads ip_hash
    # Old rows were never pruned; marking one keeps the row and stops it from being resumed.
    assert all(job.pruned is None for job in journal.all())
    journal.mark_pruned("old-unfinished-1", when=2000.0)
    assert journal.get("old-unfinished-1").pruned == 2000.0
    assert [job.id for job in journal.unfinished(key=KEY)] == ["new-1"]
    journal.close()

    # Opening again is a no-op: same version, same rows.
    again = Journal(path)
    assert again.version == SCHEMA_VERSION and len(again.all()) == 5
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "tasks_created" in {row[1] for row in db.execute("PRAGMA index_list(tasks)")}


def test_an_unversioned_journal_that_already_has_ip_hash_is_not_altered_twice(tmp_path):
    """Journals written between the spend guard and versioning have ip_hash but user_version 0."""
    path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(FIRST_RELEASE_SCHEMA + "ALTER TABLE tasks ADD COLUMN ip_hash TEXT NOT NULL DEFAULT '';")
    db.close()
    journal = Journal(path)
    assert journal.version == SCHEMA_VERSION
    journal.record(task_id="t", model=T2V, mode="live", owner="o", key=KEY, params={}, price_cents=130, ip="1.2.3.4")
    assert journal.get("t").ip_hash and journal.get("t").continues is None


def test_a_journal_from_a_newer_release_is_refused_not_damaged(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError, match="newer"):
        Journal(path)


def test_history_tab_lists_every_old_row(tmp_path):
    first_release_journal(tmp_path / "data" / "jobs.sqlite3", old_rows(tmp_path))
    runner, _ = make_runner(tmp_path)
    history = page_handlers(runner, tmp_path).history
    session, owner = signed_session(history.g.secret)
    with sqlite3.connect(tmp_path / "data" / "jobs.sqlite3") as db:  # the old rows become this browser's
        db.execute("UPDATE tasks SET owner = ? WHERE owner = ?", (owner, OWNER))
    listing = asyncio.run(history.list(session))
    total, rows = listing[history.parts.history.info], listing[history.parts.history.table].value["data"]
    assert [row[-1] for row in rows] == ["old-unfinished-1", "old-preview-1", "old-failed-1", "old-done-1"]
    assert "**4 tasks**" in total and "(3 live, 1 preview)" in total


@pytest.mark.slow
def test_the_cli_reads_resumes_and_adds_to_a_first_release_journal(served_simulator, tmp_path):
    async def submit() -> str:
        async with AsyncKlingClient(KEY, base_url=served_simulator.url, poll=PollPolicy(first=0.1)) as client:
            return (await client.submit(T2VRequest(prompt="a lantern"))).id

    unfinished = asyncio.run(submit())  # a task the old release was waiting on when it stopped
    first_release_journal(tmp_path / "data" / "jobs.sqlite3", old_rows(tmp_path, unfinished))

    listed = cli("history", base_url=served_simulator.url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[2] for line in listed.stdout.splitlines()] == [
        unfinished,
        "old-preview-1",
        "old-failed-1",
        "old-done-1",
    ]

    resumed = cli("result", unfinished, base_url=served_simulator.url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().endswith(f"{unfinished}.mp4")

    new = cli("t2v", "--prompt", "after the upgrade", base_url=served_simulator.url, cwd=tmp_path)
    assert new.returncode == 0, new.stderr
    new_id = new.stdout.split()[0]

    journal = Journal(tmp_path / "data" / "jobs.sqlite3")
    jobs = {job.id: job for job in journal.all()}
    assert set(jobs) == {new_id, unfinished, "old-preview-1", "old-failed-1", "old-done-1"}
    assert jobs[unfinished].status == "completed" and jobs[unfinished].clip_saved
    assert jobs[new_id].clip_saved and len(served_simulator.simulator.submits()) == 2


def test_a_version_3_journal_gets_lost_submits_that_every_limit_counts(tmp_path):
    """Step 4 adds `candidates`: an open lost submit is a row the limits count and nothing resumes."""
    from kling.store.migrations import MIGRATIONS

    path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:3]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 3")
    db.execute(
        "INSERT INTO tasks (id, model, mode, owner, key_fingerprint, params, status, price_cents, created, updated,"
        " ip_hash) VALUES ('v3-running', ?, 'live', 'o', ?, '{}', 'processing', 130, 1000, 1000, '')",
        (T2V, key_fingerprint(KEY)),
    )
    db.close()

    journal = Journal(path)
    assert journal.version == SCHEMA_VERSION == 6
    assert journal.get("v3-running").candidates == () and journal.get("v3-running").unfinished
    lost = journal.record_uncertain(
        model=T2V, owner="o", key=KEY, params={"prompt": "p"}, price_cents=130, ip="1.2.3.4", candidates=("a1", "b2")
    )
    assert journal.get(lost).candidates == ("a1", "b2") and journal.get(lost).status == "uncertain"
    assert [job.id for job in journal.unfinished(key=KEY)] == ["v3-running"]  # a lost submit is not resumed
    assert journal.usage(key=KEY, since=0, ip="1.2.3.4")[:2] == (1, 130)  # but it is counted
    assert [job.id for job in journal.claims("b2")] == [lost] and journal.claims("b") == []
    journal.close()
    assert Journal(path).lost_submits()[0].id == lost  # reopened: the same row, no step run twice


# The schema every journal ends at, written down once: (column, type, NOT NULL, default). A step that
# lost a column's NOT NULL or its default would leave old rows NULL where today's code expects text,
# and a fresh journal, made by the same steps, could not show it.
SCHEMA_TASKS = [
    ("id", "TEXT", False, None),
    ("model", "TEXT", True, None),
    ("mode", "TEXT", True, None),
    ("owner", "TEXT", True, None),
    ("key_fingerprint", "TEXT", True, None),
    ("params", "TEXT", True, None),
    ("status", "TEXT", True, None),
    ("error_code", "INTEGER", False, None),
    ("error", "TEXT", True, "''"),
    ("output_url", "TEXT", True, "''"),
    ("local_path", "TEXT", True, "''"),
    ("price_cents", "INTEGER", True, None),
    ("inference_ms", "INTEGER", False, None),
    ("nsfw", "INTEGER", True, "0"),
    ("created", "REAL", True, None),
    ("updated", "REAL", True, None),
    ("ip_hash", "TEXT", True, "''"),
    ("continues", "TEXT", False, None),
    ("pruned", "REAL", False, None),
    ("candidates", "TEXT", True, "''"),
]
SCHEMA_PROMPT_CALLS = [
    ("id", "INTEGER", False, None),
    ("owner", "TEXT", True, None),
    ("ip_hash", "TEXT", True, "''"),
    ("key_fingerprint", "TEXT", True, None),
    ("price_mills", "INTEGER", True, None),
    ("created", "REAL", True, None),
]


def table_schema(db: sqlite3.Connection, table: str) -> list[tuple[str, str, bool, str | None]]:
    return [(row[1], row[2], bool(row[3]), row[4]) for row in db.execute(f"PRAGMA table_info({table})")]


@pytest.mark.parametrize("start", ["first-release", "fresh"])
def test_every_journal_ends_at_the_written_down_schema_and_old_rows_hold_no_nulls(tmp_path, start):
    path = tmp_path / "data" / "jobs.sqlite3"
    if start == "first-release":
        first_release_journal(path, old_rows(tmp_path))
    Journal(path).close()
    db = sqlite3.connect(path)
    assert table_schema(db, "tasks") == SCHEMA_TASKS
    assert table_schema(db, "prompt_calls") == SCHEMA_PROMPT_CALLS
    not_null = [name for name, _, required, default in SCHEMA_TASKS if required and default is not None]
    nulls = db.execute(f"SELECT count(*) FROM tasks WHERE {' OR '.join(f'{c} IS NULL' for c in not_null)}").fetchone()
    assert nulls == (0,)
    if start == "first-release":  # the old rows were filled by the steps' defaults
        assert set(db.execute("SELECT ip_hash, candidates FROM tasks")) == {("", "")}
    db.close()
