"""Polling: status requests per task, and the delay between a task completing and the client
knowing, for tasks of 30, 120 and 300 s. Three clients side by side, in one run, on the same
simulators: Kling Studio's client polling (`PollPolicy`), the same with a webhook, and WaveSpeed's
official SDK (`wavespeed.Client.run`, its default 1 s poll).

    python -m bench.polling [--time-scale 0.2] [--workers 1.0]

Scaled time: the simulator runs every delay `--time-scale` times as long (0.2: a 300 s task takes
60 s), and both pollers run their schedules on the same faster clock (`PollPolicy().scaled(0.2)`,
the SDK's `poll_interval=0.2`). Requests per task are then what real time would give; delays are
measured on the fast clock and divided by the scale, so they are real-time seconds (plus 5x the
loopback latency, a few ms). Each task's length varies +-10%, as real ones do, so completions
fall at every point between two polls. Workers run tasks one after another for as long as one
300 s task lasts, so short tasks get more samples; Kling Studio's poller gets the most workers,
since its mean delay (about half its 5 s interval) is the figure with a target close to it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.api.params import T2VRequest
from kling.api.webhooks import WEBHOOK_PATH
from kling.config import Settings
from kling.jobs.runner import Runner
from kling.preview.simulator import SimConfig, Simulator

from .common import KEY, PROMPT, T2V_MODEL, free_port, mean_max, verdict

DURATIONS = (30, 120, 300)
ROUNDS = {30: 8, 120: 2, 300: 1}  # tasks in a row per worker: about 300 s of work each
# Workers per client and length (times --workers). The SDK's figures barely vary (it polls every
# second), and each of its tasks is a thread polling 5 times a second, so it gets fewer.
WORKERS = {
    "kling": {30: 12, 120: 24, 300: 40},
    "kling+webhook": {30: 6, 120: 6, 300: 6},
    "sdk": {30: 4, 120: 4, 300: 4},
}
CLIENTS = ("kling", "kling+webhook", "sdk")


@dataclass
class Result:
    client: str
    duration: int
    task_id: str
    known: float  # monotonic time the client learned the task was done
    requests: int = 0
    delay: float = 0.0  # real-time seconds


class Served:
    """A simulator on a loopback port, in a thread of this process (its clock is ours)."""

    def __init__(self, duration: int, scale: float) -> None:
        # 10% of the task queued, 90% processing, like a lightly loaded account.
        self.simulator = Simulator(
            SimConfig(
                api_key=KEY,
                queue_s=0.1 * duration,
                process_s=0.9 * duration,
                time_scale=scale,
                run_jitter=0.1,
                seed=duration,
            )
        )
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.simulator.app,
                host="127.0.0.1",
                port=self.port,
                log_level="error",
                lifespan="off",
                interface="asgi3",
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}"

    def warm(self) -> None:
        """Render the one clip every task shares before timing anything (rendering is CPU work)."""
        response = httpx.post(
            f"{self.url}/api/v3/{T2V_MODEL}",
            json={"prompt": PROMPT, "duration": 5},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        task = self.simulator.tasks[response.json()["data"]["id"]]
        task.render.result()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.simulator.close()


def run_sdk(served: Served, duration: int, n: int, scale: float) -> Result:
    import wavespeed

    name = f"bench-sdk-{duration}-{n}"  # sent as X-Client-Name: tells this task's requests apart
    client = wavespeed.Client(api_key=KEY, base_url=served.url, client_name=name)
    client.run(T2V_MODEL, {"prompt": PROMPT, "duration": 5}, poll_interval=1.0 * scale)
    known = time.monotonic()
    polls = [r for r in served.simulator.requests("GET", "/predictions/") if r.headers.get("x-client-name") == name]
    task_id = polls[0].path.split("/")[4]
    return Result("sdk", duration, task_id, known, requests=len(polls))


async def run_kling(runner: Runner, client: str, duration: int) -> Result:
    run = runner.start(T2VRequest(prompt=PROMPT, duration=5), owner="bench")
    known = None
    async for state in run.watch(tick=3600):
        if known is None and state.task is not None and state.task.status == "completed":
            known = time.monotonic()
    if state.error is not None:
        raise state.error
    return Result(client, duration, state.task_id, known)


async def measure(scale: float, workers: float) -> list[Result]:
    served = {d: Served(d, scale) for d in DURATIONS}
    for s in served.values():
        s.warm()
    data = Path(tempfile.mkdtemp(prefix="kling-bench-polling-"))
    policy = PollPolicy().scaled(scale)

    # The webhook receiver: one route per simulator, each waking its own backend's waits.
    receiver_port = free_port()
    polled, hooked = {}, {}
    routes = []
    for d, s in served.items():
        settings = Settings(api_key=KEY, base_url=s.url, data_dir=data / str(d))
        polled[d] = Runner(Backend(settings, live_poll=policy))
        hooked_settings = Settings(
            api_key=KEY,
            base_url=s.url,
            data_dir=data / f"{d}-hooked",
            public_url=f"http://127.0.0.1:{receiver_port}/d{d}",
        )
        hooked[d] = Runner(Backend(hooked_settings, live_poll=policy, webhooks=True))

        async def receive(request: Request, backend: Backend = hooked[d].backend) -> PlainTextResponse:
            status, text = await backend.webhook_receiver.receive(request.headers, await request.body())
            return PlainTextResponse(text, status_code=status)

        routes.append(Route(f"/d{d}{WEBHOOK_PATH}", receive, methods=["POST"]))
    receiver = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=receiver_port, log_level="error", lifespan="off"
        )
    )
    serving = asyncio.create_task(receiver.serve())
    while not receiver.started:
        await asyncio.sleep(0.01)

    loop = asyncio.get_running_loop()
    count = {c: {d: max(1, round(n * workers)) for d, n in per.items()} for c, per in WORKERS.items()}
    with ThreadPoolExecutor(max_workers=sum(count["sdk"].values())) as pool:

        async def sdk_worker(d: int, n: int) -> list[Result]:
            return [
                await loop.run_in_executor(pool, run_sdk, served[d], d, n * 100 + i, scale) for i in range(ROUNDS[d])
            ]

        async def kling_worker(runner: Runner, client: str, d: int) -> list[Result]:
            return [await run_kling(runner, client, d) for _ in range(ROUNDS[d])]

        jobs = []
        for n in range(max(max(per.values()) for per in count.values())):  # interleaved: nobody always first
            for d in DURATIONS:
                if n < count["sdk"][d]:
                    jobs.append(sdk_worker(d, n))
                if n < count["kling"][d]:
                    jobs.append(kling_worker(polled[d], "kling", d))
                if n < count["kling+webhook"][d]:
                    jobs.append(kling_worker(hooked[d], "kling+webhook", d))
        results = [r for batch in await asyncio.gather(*jobs) for r in batch]

    for r in results:
        sim = served[r.duration].simulator
        if r.client != "sdk":
            r.requests = len(sim.requests("GET", f"/predictions/{r.task_id}/"))
        r.delay = (r.known - sim.finish_time(r.task_id)) / scale
    receiver.should_exit = True
    await serving
    for runner in [*polled.values(), *hooked.values()]:
        await runner.backend.aclose()
    for s in served.values():
        s.stop()
    return results


def report(results: list[Result]) -> None:
    def pick(client: str, duration: int) -> list[Result]:
        return [r for r in results if r.client == client and r.duration == duration]

    def row(client: str, d: int | None) -> tuple[float, float, float, float]:
        """(requests, mean delay, 95% half-width of that mean, max delay). For all lengths, the
        mean of the lengths' means, so the many short tasks do not outweigh the few long ones."""
        if d is None:
            rows = [row(client, length) for length in DURATIONS]
            return (
                statistics.fmean(r[0] for r in rows),
                statistics.fmean(r[1] for r in rows),
                math.sqrt(sum(r[2] ** 2 for r in rows)) / len(rows),
                max(r[3] for r in rows),
            )
        chosen = pick(client, d)
        delays = [r.delay for r in chosen]
        half = 1.96 * statistics.stdev(delays) / math.sqrt(len(delays)) if len(delays) > 1 else float("nan")
        mean, top = mean_max(delays)
        return statistics.fmean(r.requests for r in chosen), mean, half, top

    for d in (*DURATIONS, None):
        label = f"{d:>3} s tasks" if d else "all lengths"
        rows = {c: row(c, d) for c in CLIENTS}
        req = {c: rows[c][0] for c in CLIENTS}
        ratio, hook_ratio = req["kling"] / req["sdk"], req["kling+webhook"] / req["sdk"]
        print(
            f"polling {label}: status requests per task: kling {req['kling']:.1f} | kling+webhook "
            f"{req['kling+webhook']:.1f} | sdk {req['sdk']:.1f}  -> kling/sdk {ratio:.2f} "
            f"(target <= 0.25: {verdict(ratio <= 0.25)}), webhook/sdk {hook_ratio:.2f}",
            flush=True,
        )
        k, w, sdk = rows["kling"], rows["kling+webhook"], rows["sdk"]
        print(
            f"polling {label}: delay completion -> client knows, mean/max s: kling {k[1]:.2f} (+-{k[2]:.2f})/"
            f"{k[3]:.2f} | kling+webhook {w[1]:.2f}/{w[3]:.2f} | sdk {sdk[1]:.2f}/{sdk[3]:.2f}  "
            f"(target kling mean <= 3 s: {verdict(k[1] <= 3.0)})",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.2, help="simulated seconds per real second")
    parser.add_argument("--workers", type=float, default=1.0, help="multiplies the number of workers")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results = asyncio.run(measure(args.time_scale, args.workers))
    report(results)
    counts = "; ".join(
        f"{c} " + "/".join(str(sum(r.client == c and r.duration == d for r in results)) for d in DURATIONS)
        for c in CLIENTS
    )
    print(
        f"polling: {len(results)} tasks (of 30/120/300 s: {counts}) at time scale {args.time_scale}, "
        f"{time.monotonic() - started:.0f} s wall",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
