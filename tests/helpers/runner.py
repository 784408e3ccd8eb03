"""A live-mode runner over an in-process simulator, its runs' ends, and journal rows made by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.config import Settings
from kling.jobs.runner import Runner
from kling.preview.simulator import Simulator
from kling.store.journal import Job, Journal
from tests.helpers.fakes import KEY, FakeTime
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.sim import sim_config


def make_runner(
    tmp_path: Path,
    *,
    key: str | None = KEY,
    transport: httpx.AsyncBaseTransport | None = None,
    fake_time: FakeTime | None = None,
    poll: PollPolicy | None = None,
    simulator: Simulator | None = None,
    **config: Any,
) -> tuple[Runner, Simulator]:
    """A live-mode runner whose HTTP goes to an in-process simulator (no port) or to `transport`.
    With `fake_time`, the client and the simulator share a clock that moves only when the client
    sleeps: a Retry-After or a poll interval costs no real time. `simulator`: reuse one (and its
    rendered clips) instead of making a new one."""
    simulator = simulator or Simulator(
        sim_config(api_key=key, queue_s=0.05, process_s=0.2, **config),
        clip_dir=SIM_CLIPS,
        **({"clock": fake_time.clock} if fake_time else {}),
    )
    settings = Settings(api_key=key, base_url="http://sim.test", data_dir=tmp_path / "data")
    backend = Backend(
        settings,
        # Without a key the backend previews: through this simulator too (shared clips, rendered
        # when fetched), not one of its own rendering every clip in the background.
        simulator=simulator if key is None else None,
        transport=transport or httpx.ASGITransport(app=simulator.app),
        live_poll=poll or PollPolicy(first=0.05, ceiling=0.1, jitter=0.0),
        **({"sleep": fake_time.sleep, "clock": fake_time.clock} if fake_time else {}),
    )
    return Runner(backend, Journal(settings.journal_path)), simulator


def a_job(task_id: str = "t1", **fields: Any) -> Job:
    """A journal row made by hand, for code that only reads rows: a completed live text-to-video task
    of owner "o", unless `fields` (named as Job's) say otherwise."""
    row: dict[str, Any] = {
        "id": task_id, "model": "kwaivgi/kling-v2.0-t2v-master", "mode": "live", "owner": "o", "ip_hash": "",
        "key_fingerprint": "", "params": {}, "status": "completed", "error_code": None, "error": "",
        "output_url": "", "local_path": "", "price_cents": 130, "inference_ms": None, "nsfw": False,
        "created": 0.0, "updated": 0.0,
    }  # fmt: skip
    return Job(**(row | fields))


async def finish(run):
    """The last state of a run, once it has ended."""
    async for state in run.watch(tick=0.5):  # noqa: B007 (the loop's last value is the answer)
        pass
    return state
