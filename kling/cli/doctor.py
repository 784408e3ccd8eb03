"""`python -m kling doctor`: the owner's pre-flight check before a Space goes public.

One plain line per check, each with a mark: `[ok]`, `[info]`, `[warning]` (worth fixing, the Space
works), `[problem]` (visitors would fail: a refused key, a balance below one clip, a data folder
that cannot be written). Exit 0 when nothing is a problem, 1 when something is, 2 when there is no
WAVESPEED_API_KEY at all. Nothing it calls costs money: the balance, the webhook secret, the model
listing and price quotes are reads; no task is made.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from kling.api.backend import Backend
from kling.api.client import AsyncKlingClient
from kling.api.params import format_price, price_cents
from kling.api.schema_check import SchemaReport, check
from kling.config import Settings
from kling.controls import escape_controls
from kling.errors import AuthenticationError, KlingError

OK, INFO, WARNING, PROBLEM = "ok", "info", "warning", "problem"
EXIT_OK, EXIT_PROBLEM, EXIT_NO_KEY = 0, 1, 2
PERSISTENT_ROOT = Path("/data")  # a Space's persistent storage, when it has any


@dataclass(frozen=True)
class Finding:
    mark: str
    text: str

    def line(self) -> str:
        return f"[{self.mark}] {self.text}"


def data_folder(settings: Settings) -> list[Finding]:
    folder = Path(settings.data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-", delete=True) as probe:
            probe.write(b"ok")
    except OSError as exc:
        return [Finding(PROBLEM, f"data folder {folder} is not writable ({exc.strerror or exc}): nothing can be saved")]
    found = [Finding(OK, f"data folder {folder} is writable")]
    resolved = folder.resolve()
    if settings.on_space and resolved != PERSISTENT_ROOT and PERSISTENT_ROOT not in resolved.parents:
        found.append(
            Finding(
                WARNING,
                f"on a Space, {folder} is not under /data (persistent storage): clips and the journal "
                "go at every restart. Enable persistent storage and set KLING_DATA_DIR=/data/kling",
            )
        )
    return found


def webhooks(settings: Settings) -> list[Finding]:
    url = settings.public_url
    if not url:
        return [Finding(INFO, "KLING_PUBLIC_URL is not set: no webhooks, finished clips are found by polling")]
    if not url.startswith("https://"):
        return [Finding(WARNING, f"KLING_PUBLIC_URL {url} is not https: WaveSpeed delivers webhooks to https only")]
    return [Finding(OK, f"KLING_PUBLIC_URL {url} is https: submits ask for a webhook")]


def limits(settings: Settings) -> list[Finding]:
    per_hour = (
        f"{settings.tasks_per_hour_per_browser} tasks an hour per browser, {settings.tasks_per_hour_per_ip} per address"
    )
    if settings.require_user_key:
        return [Finding(OK, "KLING_REQUIRE_USER_KEY: visitors pay with their own key, the Space's is never spent")]
    budget = settings.daily_budget_cents
    if budget is None:
        if settings.on_space and not settings.auth:
            return [
                Finding(
                    WARNING,
                    f"no daily budget on a public Space with a key ({per_hour}): set KLING_DAILY_BUDGET_USD",
                )
            ]
        return [Finding(INFO, f"spend limits: {per_hour}; no daily budget (KLING_DAILY_BUDGET_USD)")]
    return [Finding(OK, f"spend limits: {per_hour}; a daily budget of {format_price(budget)}")]


def showcase(settings: Settings) -> list[Finding]:
    from kling.examples import showcase_examples
    from kling.store.showcase import load_showcase, plan

    examples = showcase_examples()
    todo = plan(examples, load_showcase(settings.showcase_dir))
    if not todo:
        return [Finding(OK, f"showcase complete in {settings.showcase_dir}: {len(examples)} clips")]
    cost = format_price(sum(example.price_cents for example in todo))
    missing = ", ".join(example.key for example in todo)
    return [
        Finding(
            INFO,
            f"showcase: {len(todo)} of {len(examples)} clips missing ({missing}); "
            f"`python -m kling showcase` would make them for at most {cost}",
        )
    ]


def schema(report: SchemaReport) -> list[Finding]:
    if not report.checked:
        return [Finding(WARNING, "live model schema " + report.summary())]
    if report.differences:
        return [Finding(WARNING, f"live model schema: {d}") for d in report.differences]
    return [Finding(OK, report.summary())]


async def account(client: AsyncKlingClient, settings: Settings) -> list[Finding]:
    """The key (by the balance endpoint), the balance in clips, the webhook secret, the schema."""
    try:
        balance = await client.balance()
    except AuthenticationError as exc:
        return [Finding(PROBLEM, f"the key was refused by WaveSpeed's balance endpoint: {exc}")]
    except (KlingError, httpx.HTTPError) as exc:
        return [
            Finding(PROBLEM, f"WaveSpeed's balance endpoint could not confirm the key: {exc or type(exc).__name__}")
        ]
    clip = price_cents(5)
    clips = int(round(balance * 100)) // clip
    found = [Finding(OK, "the key was accepted by WaveSpeed's balance endpoint")]
    words = f"balance ${balance:,.2f}: {clips} clip(s) of 5 s at {format_price(clip)}"
    if clips < 1:
        found.append(Finding(PROBLEM, f"{words}; top up at https://wavespeed.ai/accesskey before going public"))
    else:
        found.append(Finding(OK, words))
    if settings.public_url and not settings.webhook_secret:
        try:
            await client.webhook_secret()
            found.append(Finding(OK, "the webhook secret is readable with the key (KLING_WEBHOOK_SECRET not set)"))
        except (KlingError, httpx.HTTPError) as exc:
            found.append(Finding(WARNING, f"the webhook secret could not be read ({exc}): webhooks will be refused"))
    elif settings.public_url:
        found.append(Finding(OK, "KLING_WEBHOOK_SECRET is set"))
    found += schema(await check(client, now=time.time()))
    return found


def findings(settings: Settings, *, backend_factory: Callable[[Settings], Backend] = Backend) -> list[Finding]:
    local = data_folder(settings) + webhooks(settings) + limits(settings) + showcase(settings)
    if not settings.api_key:
        return [Finding(PROBLEM, "no WAVESPEED_API_KEY: the Space runs in preview mode, nothing is checked")] + local
    backend = backend_factory(settings)

    async def run() -> list[Finding]:
        try:
            return await account(backend.client(), settings)
        finally:
            await backend.aclose()

    return asyncio.run(run()) + local


def command(settings: Settings, *, out: Callable[[str], None] = print) -> int:
    found = findings(settings)
    for finding in found:
        out(escape_controls(finding.line()))  # findings quote WaveSpeed's answers and the data folder's path
    problems = sum(f.mark == PROBLEM for f in found)
    warnings = sum(f.mark == WARNING for f in found)
    out(f"{problems} problem(s), {warnings} warning(s).")
    sys.stdout.flush()
    if not settings.api_key:
        return EXIT_NO_KEY
    return EXIT_PROBLEM if problems else EXIT_OK
