"""Image and preview floods: one visitor's excess is refused at once, another visitor is served.

Decodes are counted by the decoder the app is given (Studio.decode, a wrapper around
prepare_image): never by patching the code under test. The launched tests serve the page in this
process over real HTTP (the queue, its validator, the handlers), behind one trusted proxy so that
`X-Forwarded-For` names two addresses."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from kling.api.backend import Backend
from kling.app.fairness import HourlyQuota, ImageReader, InFlight
from kling.app.identity import Identity, new_browser_token
from kling.app.studio import Studio
from kling.app.views import LAB_I2V
from kling.config import Settings
from kling.errors import BusyRefused
from kling.jobs.guard import SpendGuard
from kling.jobs.runner import Runner
from kling.media.images import ImageSource, PreparedImage, prepare_image
from kling.preview.simulator import Simulator
from kling.store.clips import ClipShelf
from kling.store.journal import Journal
from kling.strings import spend_text
from tests.helpers.media import image_bytes
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.sim import free_port, sim_config

FLOODER, HONEST = "203.0.113.7", "198.51.100.2"


def visitor(owner: str = "web:a", address: str = FLOODER) -> Identity:
    return Identity(owner=owner, browser_token=None, visitor=f"ip:{address}", address=address, signed_in=False)


class DecodeProbe:
    """prepare_image, counted per kind of file ("flood" in its name or not), with how many ran at
    once; a flood file's decode is held `slow_s` (the 9400x9400 WebP's seconds, without its CPU)."""

    def __init__(self, slow_s: float = 0.0) -> None:
        self.slow_s = slow_s
        self._lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.count: Counter[str] = Counter()

    def __call__(self, source: ImageSource, field: str = "image") -> PreparedImage | str:
        kind = "flood" if "flood" in os.fsdecode(source if isinstance(source, (str, os.PathLike)) else b"") else "other"
        with self._lock:
            self.now[kind] += 1
            self.count[kind] += 1
            self.peak[kind] = max(self.peak[kind], self.now[kind])
        try:
            if kind == "flood":
                time.sleep(self.slow_s)
            return prepare_image(source, field)
        finally:
            with self._lock:
                self.now[kind] -= 1


# -- the parts ---------------------------------------------------------------------------------


def test_in_flight_refuses_past_each_bound_at_once_and_frees_on_leave():
    runs = InFlight("runs", per_visitor=2, per_address=3)
    a1 = runs.enter(visitor("web:a"))
    runs.enter(visitor("web:a"))
    with pytest.raises(BusyRefused) as caught:
        runs.enter(visitor("web:a"))
    assert caught.value.reason == "runs_visitor" and str(caught.value) == spend_text("en", "runs_visitor", limit=2)
    runs.enter(visitor("web:b"))  # a new browser on the same address: the address's third
    with pytest.raises(BusyRefused) as caught:
        runs.enter(visitor("web:c"))
    assert caught.value.reason == "runs_address"
    runs.enter(visitor("web:c", HONEST))  # another address is not touched
    runs.leave(a1)
    runs.enter(visitor("web:c"))
    assert runs.under_way(visitor()) == 3


def test_an_hourly_quota_refuses_with_the_wait_and_takes_back_what_was_not_used():
    now = [1000.0]
    quota = HourlyQuota("previews_hourly", 2, clock=lambda: now[0])
    quota.take(visitor())
    taken = quota.take(visitor())
    with pytest.raises(BusyRefused) as caught:
        quota.take(visitor())
    assert "2 clips per hour per address" in str(caught.value) and "1 h 0 min" in str(caught.value)
    quota.take(visitor(address=HONEST))
    quota.give_back(visitor(), taken)
    quota.take(visitor())
    now[0] += 3601
    quota.take(visitor())
    quota.take(visitor())


def test_three_callers_of_one_upload_decode_it_once(tmp_path):
    image = tmp_path / "photo.png"
    image.write_bytes(image_bytes(640, 480))
    probe = DecodeProbe()
    reader = ImageReader(InFlight("decodes", per_visitor=1, per_address=1), probe)
    results = [reader.prepare(str(image), "image", visitor()) for _ in range(3)]
    assert probe.count["other"] == 1 and all(r is results[0] for r in results)
    image.write_bytes(image_bytes(640, 480, color=(1, 2, 3)))  # changed in place: read again
    os.utime(image, ns=(time.time_ns(), time.time_ns() + 10**9))
    reader.prepare(str(image), "image", visitor())
    assert probe.count["other"] == 2


def test_a_second_image_from_an_address_still_decoding_one_is_refused_at_once(tmp_path):
    first, second = tmp_path / "flood-1.png", tmp_path / "flood-2.png"
    first.write_bytes(image_bytes(640, 480))
    second.write_bytes(image_bytes(480, 640))
    probe = DecodeProbe(slow_s=1.0)
    reader = ImageReader(InFlight("decodes", per_visitor=1, per_address=1), probe)
    same_file_waiter: list[Any] = []
    worker = threading.Thread(target=lambda: reader.prepare(str(first), "image", visitor("web:a")))
    worker.start()
    while probe.now["flood"] == 0:
        time.sleep(0.01)
    with pytest.raises(BusyRefused) as caught:
        reader.prepare(str(second), "image", visitor("web:b"))  # another browser, the same address
    assert caught.value.reason == "decodes_address"
    # The same upload asked for again while it is read waits for that read instead of refusing.
    same = threading.Thread(target=lambda: same_file_waiter.append(reader.prepare(str(first), "image", visitor())))
    same.start()
    reader.prepare(str(second), "image", visitor("web:c", HONEST))  # another address: read at once
    worker.join()
    same.join()
    assert probe.count["flood"] == 2 and probe.peak["flood"] == 2 and isinstance(same_file_waiter[0], PreparedImage)


# -- the launched app --------------------------------------------------------------------------


@contextmanager
def launched(tmp_path: Path, probe: DecodeProbe, **settings: Any) -> Iterator[tuple[str, Simulator]]:
    """The page in preview mode, served here on loopback behind one trusted proxy, reading images
    with `probe`; yields its URL and its simulator."""
    config = Settings(data_dir=tmp_path / "data", trusted_proxies=1, **settings)
    simulator = Simulator(sim_config(queue_s=0.5, process_s=1.5), clip_dir=SIM_CLIPS)
    backend = Backend(config, simulator=simulator)
    journal = Journal(config.journal_path)
    runner = Runner(backend, journal, SpendGuard(config, journal))
    studio = Studio(config, backend, journal, runner, ClipShelf.in_gradio_cache(), decode=probe)
    demo = studio.build()
    kwargs = studio.launch_kwargs() | {"prevent_thread_lock": True, "quiet": True, "app_kwargs": {}}
    demo.launch(**kwargs, server_name="127.0.0.1", server_port=free_port())
    try:
        yield demo.local_url.rstrip("/"), simulator
    finally:
        demo.close()
        simulator.close()


def client(url: str, address: str):
    import gradio_client

    # The clip's name is enough: what is measured is who was served, not the download.
    return gradio_client.Client(url, verbose=False, headers={"X-Forwarded-For": address}, download_files=False)


def outcome(job) -> str:
    """ "done", or the refusal's text (from the queue's validator or the run)."""
    import httpx
    from gradio_client.exceptions import AppError

    try:
        status, clip, _ = job.result(timeout=300)
    except AppError as exc:
        return str(exc)
    except httpx.HTTPStatusError as exc:
        # The queue's validator refused it: Gradio answers the join with str(gr.Error), its repr.
        return str(exc.response.json().get("detail")).strip("'\"")
    return "done" if "Done" in status and ".mp4" in str(clip) else f"unexpected: {status}"


def most_at_once(tasks: list[Any]) -> int:
    """The most of these simulator tasks that were running at one moment."""
    edges = sorted([(t.submitted, 1) for t in tasks] + [(t.submitted + t.run_s, -1) for t in tasks])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def busy_refusal(text: str) -> bool:
    reasons = ("runs_visitor", "runs_address", "decodes_visitor", "decodes_address")
    return any(text == spend_text("en", reason, limit=n) for reason in reasons for n in (1, 2, 4))


@pytest.mark.slow
def test_launched_a_flood_from_one_address_is_refused_at_once_and_another_address_is_served(tmp_path):
    from gradio_client import handle_file

    floods = []
    for n in range(15):
        path = tmp_path / f"flood-{n}.png"
        path.write_bytes(image_bytes(400 + n, 400, color=(n * 9, 90, 200)))
        floods.append(path)
    honest_image = tmp_path / "honest.png"
    honest_image.write_bytes(image_bytes(640, 400))
    probe = DecodeProbe(slow_s=1.5)
    with launched(tmp_path, probe, previews_per_hour_per_ip=1000) as (url, simulator):
        flooder, honest = client(url, FLOODER), client(url, HONEST)
        jobs = [
            flooder.submit(handle_file(str(path)), "flood", "", 0.5, 5, None, api_name="/image_to_video")
            for path in floods
        ]
        jobs += [flooder.submit(f"flood {n}", "", "16:9", 5, api_name="/text_to_video") for n in range(15)]
        deadline = time.monotonic() + 120
        while not any(job.done() for job in jobs) and time.monotonic() < deadline:  # the flood under way
            time.sleep(0.05)
        mine = [
            honest.submit("a kite over a beach", "", "16:9", 5, api_name="/text_to_video"),
            honest.submit(handle_file(str(honest_image)), "push in", "", 0.5, 5, None, api_name="/image_to_video"),
        ]
        honest_outcomes = [outcome(job) for job in mine]
        flood_outcomes = [outcome(job) for job in jobs]
        flood_tasks = [t for t in simulator.tasks.values() if t.params.get("prompt", "").startswith("flood")]
    refused = [o for o in flood_outcomes if o != "done"]
    print(f"flood: {len(refused)} of 30 refused at once, {len(flood_outcomes) - len(refused)} served")
    assert honest_outcomes == ["done", "done"]
    assert probe.count["other"] == 1  # the honest image: read once for its validator and its run
    assert refused and all(busy_refusal(o) for o in refused), refused  # one sentence, nothing else
    assert "busy reading other images" not in " ".join(flood_outcomes + honest_outcomes)
    assert probe.peak["flood"] <= 1  # one decode at a time from the flooding address
    assert most_at_once(flood_tasks) <= 4  # its generations under way at once, at most the bound
    assert len(flood_tasks) == 30 - len(refused)  # nothing was sent for a refused one


@pytest.mark.slow
def test_launched_free_previews_are_limited_per_address_per_hour(tmp_path):
    with launched(tmp_path, DecodeProbe(), previews_per_hour_per_ip=2) as (url, simulator):
        flooder, honest = client(url, FLOODER), client(url, HONEST)
        first = [outcome(flooder.submit(f"kite {n}", "", "16:9", 5, api_name="/text_to_video")) for n in range(3)]
        other = outcome(honest.submit("a kite", "", "16:9", 5, api_name="/text_to_video"))
        submits = len(simulator.tasks)
    assert first[:2] == ["done", "done"] and other == "done"
    assert first[2].startswith("The free preview allows 2 clips per hour per address") and "\n" not in first[2]
    assert submits == 3


def test_one_click_of_the_page_decodes_its_image_once(tmp_path):
    """The browser's Generate: the refusal panel's check, the queue's validator and the run."""
    image = tmp_path / "photo.png"
    image.write_bytes(image_bytes(640, 480))
    probe = DecodeProbe()
    config = Settings(data_dir=tmp_path / "data")
    simulator = Simulator(sim_config(queue_s=0.05, process_s=0.1), clip_dir=SIM_CLIPS)
    backend = Backend(config, simulator=simulator)
    journal = Journal(config.journal_path)
    runner = Runner(backend, journal)
    _, handlers = Studio(
        config, backend, journal, runner, ClipShelf(tmp_path / "clips"), decode=probe
    ).build_with_handlers()
    g, args = handlers.generation, (str(image), "push in", "", 0.5, 5, None)

    async def click() -> list[Any]:
        refusal, checks = await asyncio.gather(g.refusal_i2v(*args), g.check_i2v(*args))
        return [refusal, checks, [o async for o in g.image_to_video(*args)]]

    refusal, checks, outputs = asyncio.run(click())
    simulator.close()
    assert all(check.get("is_valid", True) for check in checks) and "Done" in outputs[-1].status
    assert probe.count["other"] == 1


def test_a_lab_batch_is_one_of_the_visitors_runs_and_reads_its_image_within_their_decodes(tmp_path):
    """The Prompt Lab starts up to four runs a click: the batch holds one of its visitor's places
    until its last run ends (a flood cannot go round the bound through the Lab), and its shared
    start image is read once, through the visitor's share of the decodes."""
    image = tmp_path / "photo.png"
    image.write_bytes(image_bytes(640, 480))
    probe = DecodeProbe()
    config = Settings(data_dir=tmp_path / "data", in_flight_per_visitor=1, in_flight_per_address=10)
    simulator = Simulator(sim_config(queue_s=0.05, process_s=0.1), clip_dir=SIM_CLIPS)
    backend = Backend(config, simulator=simulator)
    journal = Journal(config.journal_path)
    studio = Studio(config, backend, journal, Runner(backend, journal), ClipShelf(tmp_path / "clips"), decode=probe)
    handlers = studio.build_with_handlers()[1]
    lab, g = handlers.lab, handlers.generation
    session = {"token": new_browser_token(g.secret), "key": ""}
    form = lab.parts.lab
    values = {form.mode: LAB_I2V, form.image: str(image), form.aspect_ratio: "16:9", form.count: 2}
    values[lab.parts.session] = session
    for slot, prompt in zip(form.slots, ("push in", "pull out")):
        values.update(zip(slot.settings, (prompt, "", 0.5, 5)))

    async def batch_then_a_click() -> tuple[list[Any], str, list[Any]]:
        updates = lab.run(values)
        first = await anext(updates)  # the batch has started: its place is taken
        with pytest.raises(gr.Error) as refused:
            async for _ in g.text_to_video("a kite", "", "16:9", 5, session):
                pass
        rest = [update async for update in updates]
        await asyncio.sleep(0.2)  # the place is given back when the runs' tasks are done
        after = [output async for output in g.text_to_video("a kite", "", "16:9", 5, session)]
        return [first, *rest], str(refused.value), after

    updates, refusal, after = asyncio.run(batch_then_a_click())
    simulator.close()
    assert "1 generation" in refusal or "under way" in refusal, refusal
    assert sum(1 for slot in form.slots[:2] if updates[-1][slot.video]) == 2  # both variants made their clips
    assert "Done" in after[-1].status  # the place came back once the batch ended
    assert probe.count["other"] == 1  # the shared start image, read once for both variants
