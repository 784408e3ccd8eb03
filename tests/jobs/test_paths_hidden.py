"""Refusals and failures that may reach a stranger name files, never the folders they live in."""

from __future__ import annotations

import asyncio
import time

from kling.errors import public_text
from kling.jobs.run import Run, RunState

SECRET_DIR = "/srv/hidden-install/app/data/outputs"


def test_an_os_error_is_told_by_its_reason_and_file_name():
    error = OSError(28, "No space left on device", f"{SECRET_DIR}/.clip.mp4.1a2b.part")
    assert public_text(error) == "No space left on device: .clip.mp4.1a2b.part"
    assert public_text(PermissionError(13, "Permission denied")) == "Permission denied"
    assert public_text(ValueError("plain text stays")) == "plain text stays"


def test_a_run_that_fails_on_the_disk_shows_no_folder():
    async def updates():
        raise OSError(28, "No space left on device", f"{SECRET_DIR}/.x.part")
        yield  # an async generator

    async def go() -> RunState:
        run = Run(RunState(model="m", preview=True, price_cents=0, started=time.monotonic()), updates(), None)
        await run.job
        return run.state

    state = asyncio.run(go())
    assert state.stage == "error"
    assert state.message == "No space left on device: .x.part"
    assert str(state.error) == "Unexpected error: OSError: No space left on device: .x.part"
    assert "hidden-install" not in state.message + str(state.error)
