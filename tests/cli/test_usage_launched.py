"""The owner's desk launched for real: `python -m kling doctor` and `usage` as subprocesses against
the served simulator (each exit code), and the Usage tab in Chromium for an administrator and for
another logged-in user (KLING_AUTH: Gradio's own login, the sign-in a browser test can perform)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from kling.preview.simulator import SimConfig
from kling.store.journal import Journal
from tests.helpers.fakes import KEY
from tests.helpers.launch import cli, live_app_on_simulator

pytestmark = pytest.mark.slow
T2V = "kwaivgi/kling-v2.0-t2v-master"


def faults(url: str, **switches) -> None:
    httpx.post(f"{url}/_sim/faults", json=switches).raise_for_status()


def test_doctor_exit_codes_against_the_served_simulator(served_simulator, tmp_path):
    url = served_simulator.url
    healthy = cli("doctor", base_url=url, cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = healthy.stdout.splitlines()
    assert "[ok] the key was accepted by WaveSpeed's balance endpoint" in lines
    assert "[ok] balance $100.00: 76 clip(s) of 5 s at $1.30" in lines
    assert "[ok] the live schema matches what the page enforces" in lines
    assert all(line.startswith(("[ok]", "[info]", "[warning]")) for line in lines[:-1])

    refused = cli("doctor", key="not-the-key", base_url=url, cwd=tmp_path)
    assert refused.returncode == 1 and "[problem] the key was refused" in refused.stdout

    faults(url, balance=1.0, catalog="duration_removed")
    poor = cli("doctor", base_url=url, cwd=tmp_path)
    assert poor.returncode == 1
    assert "[problem] balance $1.00: 0 clip(s) of 5 s" in poor.stdout
    assert "[warning] live model schema: kling-v2.0-t2v-master: durations are 5 s live" in poor.stdout

    faults(url, balance=50.0, catalog="not_found")
    unlisted = cli("doctor", base_url=url, cwd=tmp_path)
    assert unlisted.returncode == 0  # "not checked" is a warning, never a failure
    assert "[warning] live model schema not checked: /api/v3/models answered 404" in unlisted.stdout

    nokey = cli("doctor", key=None, base_url=url, cwd=tmp_path)
    assert nokey.returncode == 2 and "[problem] no WAVESPEED_API_KEY" in nokey.stdout
    # Reads only: the balance, the listing, the quotes. Nothing was submitted.
    assert not served_simulator.simulator.submits() and not served_simulator.simulator.tasks


def test_usage_prints_the_journal_per_day_and_refuses_a_bad_days(served_simulator, tmp_path):
    journal = Journal(tmp_path / "data" / "jobs.sqlite3")
    now = time.time()
    for task_id, status in (("t-done", "completed"), ("t-failed", "failed")):
        journal.record(task_id=task_id, model=T2V, mode="live", owner="o", key=KEY, params={}, price_cents=130)
        journal.update(task_id, status=status, created=now - 5)
    journal.close()
    result = cli("usage", "--days", "2", "--json", base_url=served_simulator.url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    days = json.loads(result.stdout)
    assert [set(d) >= {"day", "tasks", "completed", "failed", "spent_usd"} for d in days] == [True, True]
    assert (days[1]["tasks"], days[1]["completed"], days[1]["failed"], days[1]["spent_usd"]) == (2, 1, 1, 1.3)
    table = cli("usage", base_url=served_simulator.url, cwd=tmp_path)
    assert table.returncode == 0 and len(table.stdout.splitlines()) == 1 + 7 + 1
    bad = cli("usage", "--days", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "--days must be a whole number" in bad.stderr and bad.stdout == ""


# -- the Usage tab in a browser ----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("CI") != "true", reason="no /usr/bin/chromium")
def test_the_usage_tab_in_a_browser_for_an_administrator_and_for_another_user(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.helpers.browser import CHROMIUM_ARGS

    env = {"KLING_AUTH": "owner:pw-owner,guest:pw-guest", "KLING_ADMINS": "owner", "KLING_DAILY_BUDGET_USD": "20"}
    with live_app_on_simulator(tmp_path, SimConfig(api_key=KEY), env) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for user in ("owner", "guest"):
                context = browser.new_context()
                login = context.request.post(f"{app.url}/login", form={"username": user, "password": f"pw-{user}"})
                assert login.ok, login.status
                page = context.new_page()
                page.goto(app.url, timeout=30_000)
                expect(page.get_by_role("tab", name="History")).to_be_visible(timeout=30_000)
                expect(page.locator("#mode-banner")).to_contain_text("Live", timeout=15_000)
                pages[user] = page
            owner = pages["owner"]
            usage_tab = owner.get_by_role("tab", name="Usage")
            expect(usage_tab).to_be_visible(timeout=15_000)
            usage_tab.click()
            expect(owner.get_by_text("of a $20.00 daily budget")).to_be_visible(timeout=15_000)
            expect(owner.get_by_text("$100.00, 76 clips of 5 s")).to_be_visible(timeout=15_000)
            expect(owner.get_by_text("the live schema matches what the page enforces")).to_be_visible()
            balance_reads = [r for r in app.simulator.log if r.path == "/api/v3/balance"]
            assert len(balance_reads) == 1  # read when the tab opened, not at start-up

            guest = pages["guest"]
            expect(guest.get_by_role("tab", name="Usage")).to_have_count(0)
            expect(guest.get_by_text("daily budget")).to_have_count(0)
            assert len([r for r in app.simulator.log if r.path == "/api/v3/balance"]) == 1
        finally:
            browser.close()
