"""The showcase: one real clip per example, paid for once. The manifest is trusted only where the
clip's bytes match; a rerun makes nothing twice, not even after `kill -9`; no key, no spending."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from kling import examples as ex
from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.api.params import format_price
from kling.cli.showcase import make_showcase, pending_submits
from kling.config import Settings
from kling.errors import ShowcaseNeedsKeyError, SubmitUncertainError
from kling.jobs.runner import Runner
from kling.preview.simulator import SimConfig, Simulator
from kling.store.journal import Journal
from kling.store.showcase import (
    MANIFEST,
    ShowcaseClip,
    clip_for,
    load_showcase,
    owner_tag,
    plan,
    reusable_task,
    write_manifest,
)
from tests.helpers.fakes import FAKE_MP4, KEY
from tests.helpers.media import probe
from tests.helpers.paths import ROOT
from tests.helpers.sim import free_port, serve_in_thread

FAST_POLL = PollPolicy().scaled(0.02)


# -- the examples -----------------------------------------------------------------------------------


def test_every_sample_photo_has_exactly_one_starter_and_each_is_a_valid_request():
    photos = sorted(p.name for p in ex.ASSETS.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    assert sorted(starter.image for starter in ex.STARTERS) == photos
    for starter in ex.STARTERS:
        request = starter.request().validate()
        assert (request.duration, request.guidance_scale) == (5, 0.5) and request.negative_prompt
        assert starter.settings()["image_sha256"] == hashlib.sha256(starter.image_path.read_bytes()).hexdigest()


def test_keys_are_unique_slugs_and_the_page_prompts_are_kept_word_for_word():
    examples = [*ex.STARTERS, *ex.I2V_PROMPTS, *ex.T2V_EXAMPLES]
    keys = [example.key for example in examples]
    assert len(set(keys)) == len(keys) == len(ex.by_key())
    assert all(key.replace("-", "").isalnum() and key == key.lower() for key in keys)
    assert [idea.prompt for idea in ex.I2V_PROMPTS] == [t2v.prompt for t2v in ex.T2V_EXAMPLES] == list(ex.PAGE_PROMPTS)
    assert ex.PAGE_NEGATIVES == ("blur, distort, low quality", "jitter, warping, flicker, melted details",
                                 "watermark, logo, subtitles, text artifacts")  # fmt: skip
    assert {t2v.aspect_ratio for t2v in ex.T2V_EXAMPLES} == {"16:9", "9:16", "1:1"}
    assert [e.key for e in ex.showcase_examples()] == [e.key for e in (*ex.STARTERS, *ex.T2V_EXAMPLES)]


# -- the manifest ------------------------------------------------------------------------------------


def _clip(directory: Path, key: str, settings: dict, content: bytes = FAKE_MP4) -> ShowcaseClip:
    (directory / f"{key}.mp4").write_bytes(content)
    return ShowcaseClip(
        key=key,
        settings=settings,
        task_id=f"task-{key}",
        model=ex.T2V_MODEL,
        made="2026-11-22T00:00:00Z",
        clip=f"{key}.mp4",
        sha256=hashlib.sha256(content).hexdigest(),
        root=directory,
    )


def test_load_showcase_ignores_a_tampered_and_a_missing_clip_with_one_log_line_each(tmp_path, caplog):
    clips = {key: _clip(tmp_path, key, {"prompt": key}) for key in ("good", "tampered", "missing")}
    write_manifest(tmp_path, clips)
    (tmp_path / "tampered.mp4").write_bytes(FAKE_MP4 + b"!")
    (tmp_path / "missing.mp4").unlink()
    with caplog.at_level(logging.INFO, logger="kling.store.showcase"):
        loaded = load_showcase(tmp_path)
    assert list(loaded) == ["good"] and loaded["good"] == clips["good"]
    assert loaded["good"].clip_path.read_bytes() == FAKE_MP4
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert sum("'tampered'" in line and "SHA-256" in line for line in lines) == 1
    assert sum("'missing'" in line and "missing" in line for line in lines) == 1


@pytest.mark.parametrize(
    "manifest",
    [None, "{not json", '["a list"]', '{"clips": 3}', b"\xff\xfe\x00"],
    ids=["absent", "not-json", "not-object", "clips-not-object", "not-utf8"],
)
def test_a_missing_or_broken_manifest_is_no_clips_and_one_log_line(tmp_path, caplog, manifest):
    if manifest is not None:
        path = tmp_path / MANIFEST
        path.write_bytes(manifest if isinstance(manifest, bytes) else manifest.encode())
    with caplog.at_level(logging.INFO, logger="kling.store.showcase"):
        assert load_showcase(tmp_path) == {}
    assert len(caplog.records) == 1


def test_a_manifest_cannot_point_outside_its_folder(tmp_path, caplog):
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(FAKE_MP4)
    show = tmp_path / "show"
    show.mkdir()
    entry = _clip(show, "ok", {}).to_json() | {"clip": "../secret.mp4", "sha256": hashlib.sha256(FAKE_MP4).hexdigest()}
    (show / MANIFEST).write_text(json.dumps({"version": 1, "clips": {"evil": entry}}))
    with caplog.at_level(logging.WARNING, logger="kling.store.showcase"):
        assert load_showcase(show) == {}
    assert len(caplog.records) == 1 and "plain file name" in caplog.records[0].getMessage()


def test_plan_lists_what_is_missing_or_whose_settings_changed(tmp_path):
    first, second, third = ex.T2V_EXAMPLES
    manifest = {
        first.key: _clip(tmp_path, first.key, first.settings()),
        second.key: _clip(tmp_path, second.key, {**second.settings(), "prompt": "an older prompt"}),
    }
    assert plan(ex.T2V_EXAMPLES, manifest) == [second, third]
    assert plan([first], manifest) == []
    # What the page may show: only a clip made with the example's current settings.
    assert [clip_for(example, manifest) for example in ex.T2V_EXAMPLES] == [manifest[first.key], None, None]


# -- making it, in process, over loopback ------------------------------------------------------------


def _runner(served_url: str, data_dir: Path, key: str | None = KEY) -> Runner:
    settings = Settings(api_key=key, base_url=served_url, data_dir=data_dir)
    return Runner(Backend(settings, live_poll=FAST_POLL), Journal(settings.journal_path))


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_make_showcase_saves_each_clip_poster_and_manifest_and_remakes_only_a_changed_one(served_simulator, tmp_path):
    async def go():
        show = tmp_path / "show"
        picked = [ex.STARTERS[0], ex.T2V_EXAMPLES[2]]
        runner = _runner(served_simulator.url, tmp_path / "data")
        try:
            result = await make_showcase(picked, show, runner)
            assert not result.failed and len(served_simulator.simulator.submits()) == 2
            loaded = load_showcase(show)
            assert sorted(loaded) == sorted(e.key for e in picked)
            for example in picked:
                clip = loaded[example.key]
                assert clip.settings == example.settings() and clip.model == example.model
                assert served_simulator.simulator.tasks[clip.task_id].model == example.model
                assert probe(clip.clip_path).frames == 120
                with Image.open(clip.poster_path) as poster:
                    assert poster.format == "JPEG" and poster.width == 320
            assert Image.open(loaded["t2v-cozy-reading"].poster_path).height == 320  # 1:1

            changed = dataclasses.replace(ex.T2V_EXAMPLES[2], prompt="A cat reads a book by the fire.")
            assert plan([*picked[:1], changed], loaded) == [changed]
            await make_showcase([changed], show, runner)
            assert len(served_simulator.simulator.submits()) == 3
            reloaded = load_showcase(show)
            assert reloaded[changed.key].settings["prompt"] == changed.prompt
            assert reloaded[picked[0].key] == loaded[picked[0].key]  # untouched
        finally:
            await runner.backend.aclose()

    asyncio.run(go())


def test_a_task_in_the_journal_is_resumed_not_paid_again(served_simulator, tmp_path):
    """A task an interrupted showcase run submitted is found by its settings and followed."""

    async def go():
        example = ex.T2V_EXAMPLES[0]
        data = tmp_path / "data"
        runner = _runner(served_simulator.url, data)
        try:
            run = runner.start(example.request(), owner=owner_tag(example))
            async for state in run.watch(tick=0.5):
                if state.task_id:
                    break
            task_id = state.task_id
            run.job.cancel()  # the "interrupted" run: the task exists, its clip was never fetched
            await runner.drain()
            assert reusable_task(runner.journal, example, KEY).id == task_id
            assert reusable_task(runner.journal, example, "another key") is None  # not this key's task

            result = await make_showcase([example], tmp_path / "show", runner)
            assert result.made[0].task_id == task_id
            assert len(served_simulator.simulator.submits()) == 1
        finally:
            await runner.backend.aclose()

    asyncio.run(go())


def test_without_a_key_make_showcase_refuses_before_any_request(tmp_path):
    async def go():
        simulator = Simulator(SimConfig())
        settings = Settings(api_key=None, data_dir=tmp_path / "data")
        runner = Runner(Backend(settings, simulator=simulator), Journal(settings.journal_path))
        with pytest.raises(ShowcaseNeedsKeyError):
            await make_showcase(ex.showcase_examples(), tmp_path / "show", runner)
        assert list(simulator.log) == [] and not (tmp_path / "show").exists()

    asyncio.run(go())


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_a_submit_whose_answer_was_lost_is_recovered_from_the_listing(served_simulator, tmp_path):
    async def go():
        served_simulator.simulator.faults.submit = ["drop"]  # the task is made, the answer never arrives
        example = ex.T2V_EXAMPLES[1]
        runner = _runner(served_simulator.url, tmp_path / "data")
        try:
            result = await make_showcase([example], tmp_path / "show", runner)
        finally:
            await runner.backend.aclose()
        assert result.failed == [] and len(served_simulator.simulator.submits()) == 1
        assert pending_submits(runner.journal, ex.showcase_examples()) == []
        assert load_showcase(tmp_path / "show").keys() == {example.key}

    asyncio.run(go())


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_a_submit_whose_answer_was_lost_is_remembered_so_the_next_run_warns(served_simulator, tmp_path):
    async def go():
        served_simulator.simulator.faults.submit = ["drop"]  # the task is made, the answer never arrives
        served_simulator.simulator.faults.listing = False  # ... and cannot be found in the listing
        example = ex.T2V_EXAMPLES[1]
        runner = _runner(served_simulator.url, tmp_path / "data")
        try:
            result = await make_showcase([example], tmp_path / "show", runner)
        finally:
            await runner.backend.aclose()
        assert [(key, type(error)) for key, error in result.failed] == [(example.key, SubmitUncertainError)]
        assert [e.key for e, _ in pending_submits(runner.journal, ex.showcase_examples())] == [example.key]

    asyncio.run(go())


# -- the command, in subprocesses ----------------------------------------------------------------------


@pytest.fixture
def simulator_url():
    """The simulator on loopback in this process, fast clock, requiring KEY; yields (url, simulator)."""
    simulator = Simulator(SimConfig(api_key=KEY, time_scale=0.01))
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    try:
        yield f"http://127.0.0.1:{port}", simulator
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


def _env(tmp_path: Path, url: str, key: str | None = KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_"))}
    env.update(WAVESPEED_BASE_URL=url, KLING_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    if key:
        env["WAVESPEED_API_KEY"] = key
    return env


def _showcase(tmp_path, url, *args, key=KEY, input=None):
    return subprocess.run(
        [sys.executable, "-m", "kling", "showcase", "--dir", str(tmp_path / "show"), *args],
        cwd=ROOT,
        env=_env(tmp_path, url, key),
        check=False,
        capture_output=True,
        text=True,
        input=input,
        timeout=300,
    )


def _check_manifest(show: Path) -> dict:
    manifest = json.loads((show / MANIFEST).read_text())["clips"]
    for entry in manifest.values():
        assert hashlib.sha256((show / entry["clip"]).read_bytes()).hexdigest() == entry["sha256"]
        assert (show / entry["poster"]).read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    return manifest


@pytest.mark.slow
def test_showcase_makes_one_task_per_example_and_a_second_run_makes_none(simulator_url, tmp_path):
    url, simulator = simulator_url
    examples = ex.showcase_examples()
    first = _showcase(tmp_path, url, "--yes")
    assert first.returncode == 0, first.stderr
    assert len(simulator.submits()) == len(examples)
    manifest = _check_manifest(tmp_path / "show")
    assert sorted(manifest) == sorted(e.key for e in examples)
    assert {entry["task_id"] for entry in manifest.values()} == set(simulator.tasks)
    assert "$9.10" in first.stderr and first.stdout.strip() == str(tmp_path / "show" / MANIFEST)
    assert KEY not in first.stderr + (tmp_path / "show" / MANIFEST).read_text()

    second = _showcase(tmp_path, url, "--yes")
    assert second.returncode == 0, second.stderr
    assert len(simulator.submits()) == len(examples)
    assert "Nothing to make" in second.stderr


def _journal_rows(data_dir: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{data_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return 0
    try:
        return db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


@pytest.mark.slow
def test_kill_9_mid_run_then_run_again_pays_for_nothing_twice(simulator_url, tmp_path):
    url, simulator = simulator_url
    examples = ex.showcase_examples()
    process = subprocess.Popen(
        [sys.executable, "-m", "kling", "showcase", "--dir", str(tmp_path / "show"), "--yes"],
        cwd=ROOT,
        env=_env(tmp_path, url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # The second task is in the journal (the first clip is saved): kill it while it waits.
        while _journal_rows(tmp_path / "data") < 2:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert len(simulator.submits()) == 2  # really mid-run
    at_kill = json.loads((tmp_path / "show" / MANIFEST).read_text())["clips"]
    assert list(at_kill) == [examples[0].key]
    second_task = [t for t in simulator.tasks if t != at_kill[examples[0].key]["task_id"]]

    again = _showcase(tmp_path, url, "--yes")
    assert again.returncode == 0, again.stderr
    assert len(simulator.submits()) == len(examples)
    manifest = _check_manifest(tmp_path / "show")
    assert sorted(manifest) == sorted(e.key for e in examples)
    assert manifest[examples[1].key]["task_id"] == second_task[0]  # resumed from the journal
    assert "already paid" in again.stderr and "warning" not in again.stderr


@pytest.mark.slow
def test_without_a_key_showcase_exits_2_with_one_line_and_sends_nothing(simulator_url, tmp_path):
    url, simulator = simulator_url
    result = _showcase(tmp_path, url, "--yes", key=None)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "WAVESPEED_API_KEY" in result.stderr
    assert list(simulator.log) == [] and not (tmp_path / "show").exists()


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["n\n", "", "maybe\n"], ids=["n", "eof", "other"])
def test_anything_but_yes_to_the_question_sends_nothing(simulator_url, tmp_path, answer):
    url, simulator = simulator_url
    result = _showcase(tmp_path, url, input=answer)
    assert result.returncode == 1
    assert "Spend $9.10? [y/N]" in result.stderr and "Nothing was sent." in result.stderr
    assert list(simulator.log) == []


@pytest.mark.slow
def test_answering_y_to_the_question_spends(simulator_url, tmp_path):
    url, simulator = simulator_url
    result = _showcase(tmp_path, url, input="y\n")
    assert result.returncode == 0, result.stderr
    assert len(simulator.submits()) == len(ex.showcase_examples())


def test_the_showcase_doc_prices_the_showcase_from_the_examples_list():
    doc = (ROOT / "docs" / "SHOWCASE.md").read_text()
    examples = ex.showcase_examples()
    for example in examples:
        assert f"| `{example.key}` |" in doc and f"| {format_price(example.price_cents)} |" in doc
    assert f"**{format_price(sum(e.price_cents for e in examples))}**" in doc


@pytest.mark.slow
def test_without_dir_the_showcase_goes_to_kling_showcase_dir(simulator_url, tmp_path):
    url, simulator = simulator_url
    target = tmp_path / "from-env"
    result = subprocess.run(
        [sys.executable, "-m", "kling", "showcase"],
        cwd=ROOT,
        env=_env(tmp_path, url) | {"KLING_SHOWCASE_DIR": str(target)},
        capture_output=True,
        text=True,
        input="n\n",
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and f"Showcase in {target}:" in result.stderr
    assert list(simulator.log) == [] and not target.exists()
