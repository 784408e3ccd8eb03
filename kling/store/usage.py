"""What the Space's key spent, from the journal: per UTC day, per hour, why tasks failed, how long
they took. Pure functions over journal rows; `python -m kling usage` prints `daily`, the Usage tab
plots all four.

What counts as spent is what the daily budget counts (kling.jobs.guard): a task's price unless it
failed (WaveSpeed refunds a failed task), and an open lost submit (status `uncertain`) at its price
until the operator resolves it. A resolved lost submit counts for nothing: an adopted one's task
has a row of its own, a dismissed one made no task. A pruned clip's row still counts: the clip
went, not the money.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from kling.store.journal import ADOPTED, DISMISSED, REFUNDED, UNCERTAIN, Job, Journal

DAY = 86_400.0
HOUR = 3_600.0


@dataclass(frozen=True)
class DayUsage:
    day: str  # YYYY-MM-DD, UTC
    tasks: int  # tasks made, open lost submits included
    completed: int
    failed: int
    spent_usd: float
    uncertain: int = 0  # open lost submits among `tasks`, counted as spent until resolved
    prompt_calls: int = 0  # calls to the prompt optimizer, apart from clips (not in `tasks`)
    prompt_usd: float = 0.0  # what they cost (not in `spent_usd`)


def counts(job: Job) -> bool:
    """A row that stands for a task (or may): not an adopted or dismissed lost submit."""
    return job.status not in (ADOPTED, DISMISSED)


def spent_cents(job: Job) -> int:
    if not counts(job) or job.status in REFUNDED:
        return 0
    return job.price_cents


def utc_day(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d")


def day_start(now: float) -> float:
    """Midnight UTC of `now`'s day."""
    return datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def daily(
    jobs: Iterable[Job], *, days: int, now: float, prompt_calls: Iterable[tuple[float, int]] = ()
) -> list[DayUsage]:
    """The last `days` UTC days (today included), oldest first, every day listed, quiet ones as zeros;
    prompt optimizer calls ((created, price in mills) each) counted apart from clips."""
    first = day_start(now) - (days - 1) * DAY
    names = [utc_day(first + i * DAY + 1) for i in range(days)]
    totals: dict[str, Counter[str]] = {name: Counter() for name in names}
    for job in jobs:
        name = utc_day(job.created)
        if name not in totals or not counts(job):
            continue
        day = totals[name]
        day["tasks"] += 1
        day["completed"] += job.status == "completed"
        day["failed"] += job.status in REFUNDED
        day["uncertain"] += job.status == UNCERTAIN
        day["cents"] += spent_cents(job)
    for created, mills in prompt_calls:
        if (name := utc_day(created)) in totals:
            totals[name]["prompt_calls"] += 1
            totals[name]["prompt_mills"] += mills
    return [
        DayUsage(
            name,
            t["tasks"],
            t["completed"],
            t["failed"],
            round(t["cents"] / 100, 2),
            t["uncertain"],
            t["prompt_calls"],
            round(t["prompt_mills"] / 1000, 3),
        )
        for name, t in totals.items()
    ]


def hourly(jobs: Iterable[Job], *, hours: int, now: float) -> list[tuple[str, int]]:
    """Tasks made in each of the last `hours` hours (UTC, "MM-DD HH:00"), oldest first."""
    end = now - now % HOUR + HOUR
    start = end - hours * HOUR
    slots = [0] * hours
    for job in jobs:
        if counts(job) and start <= job.created < end:
            slots[int((job.created - start) // HOUR)] += 1
    first = datetime.fromtimestamp(start, timezone.utc)
    return [((first + timedelta(hours=i)).strftime("%m-%d %H:00"), n) for i, n in enumerate(slots)]


def failure_reasons(jobs: Iterable[Job]) -> list[tuple[str, int]]:
    """Failed tasks by reason (WaveSpeed's code when it gave one, else its text), most first."""
    reasons: Counter[str] = Counter()
    for job in jobs:
        if job.status in REFUNDED:
            words = (job.error or "no reason given").splitlines()[0][:80]
            reasons[f"{job.error_code}: {words}" if job.error_code else words] += 1
    return reasons.most_common()


def finish_minutes(jobs: Iterable[Job]) -> list[tuple[str, float]]:
    """For each completed task, its id and the minutes from its submit to its row's last change
    (the clip saved), oldest first."""
    return [(job.id, round((job.updated - job.created) / 60, 2)) for job in jobs if job.status == "completed"]


def usage_rows(journal: Journal, *, key: str | None, days: int, now: float) -> list[Job]:
    return journal.paid_rows(key=key, since=day_start(now) - (days - 1) * DAY - 1)


def prompt_rows(journal: Journal, *, key: str | None, days: int, now: float) -> list[tuple[float, int]]:
    return journal.prompt_calls(key=key, since=day_start(now) - (days - 1) * DAY - 1)


def as_json(days: list[DayUsage]) -> str:
    return json.dumps([asdict(day) for day in days], indent=2)


def as_table(days: list[DayUsage]) -> str:
    lines = [f"{'day':10}  {'tasks':>5}  {'completed':>9}  {'failed':>6}  {'spent':>9}  {'prompt help':>16}"]
    for d in days:
        open_note = f"  ({d.uncertain} lost submit(s) open, counted)" if d.uncertain else ""
        help_cell = f"{d.prompt_calls} / ${d.prompt_usd:,.3f}"
        figures = f"{d.tasks:>5}  {d.completed:>9}  {d.failed:>6}  ${d.spent_usd:>8,.2f}  {help_cell:>16}"
        lines.append(f"{d.day:10}  {figures}{open_note}")
    total = sum(d.spent_usd for d in days)
    help_total = f"{sum(d.prompt_calls for d in days)} / ${sum(d.prompt_usd for d in days):,.3f}"
    lines.append(f"{'total':10}  {sum(d.tasks for d in days):>5}  {'':>9}  {'':>6}  ${total:>8,.2f}  {help_total:>16}")
    return "\n".join(lines)
