"""`python -m kling usage`: what this Space's key spent per UTC day, from the journal alone (no API
call), as a table or JSON on stdout."""

from __future__ import annotations

import sys
from pathlib import Path

from kling.controls import escape_controls
from kling.store.journal import Job, Journal
from kling.store.usage import as_json, as_table, daily, prompt_rows, usage_rows


def command(days_raw: str, *, as_json_output: bool, key: str | None, journal_path: Path, now: float) -> int:
    """`python -m kling usage`: the table (or JSON) on stdout. Exit 0, or 2 for a bad --days."""
    try:
        days = int(days_raw)
        if not 1 <= days <= 3660:
            raise ValueError
    except ValueError:
        print(f"error: --days must be a whole number from 1 to 3660, got {days_raw[:20]!r}", file=sys.stderr)
        return 2
    jobs: list[Job] = []
    calls: list[tuple[float, int]] = []
    if journal_path.exists():  # reading must not create a journal
        journal = Journal(journal_path)
        try:
            jobs = usage_rows(journal, key=key, days=days, now=now)
            calls = prompt_rows(journal, key=key, days=days, now=now)
        finally:
            journal.close()
    if not key:
        print("No WAVESPEED_API_KEY: nothing here was paid by this Space's key.", file=sys.stderr)
    result = daily(jobs, days=days, now=now, prompt_calls=calls)
    if as_json_output:  # JSON escapes control characters itself
        print(as_json(result), flush=True)
    else:  # the CLI's one escaping, line by line (it escapes newlines too)
        print("\n".join(escape_controls(line) for line in as_table(result).splitlines()), flush=True)
    return 0
