"""The client, the CLI and WaveSpeed's own SDK against the simulator over real HTTP on loopback,
with the simulator's fault switches. What the simulator's log shows is what a server would see."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from kling.api.client import AsyncKlingClient
from kling.api.models import PollPolicy
from kling.api.params import I2VRequest, T2VRequest
from kling.api.retry import Backoff
from kling.errors import DownloadError, ServerError, SubmitRefusedError, SubmitUncertainError, TaskFailedError
from tests.helpers.fakes import KEY
from tests.helpers.launch import cli
from tests.helpers.media import image_bytes, probe
from tests.helpers.sim import log_json, simulator_process

FAST = PollPolicy(first=0.1, ceiling=0.3, jitter=0.1, deadline=60)
# httpx waits 5 s by default; the simulator answers a clip's download once its render (begun at
# submit, in a worker thread) is done, which on a loaded 2-core machine has taken longer than that.
DOWNLOAD_TIMEOUT = 120


def client_for(served, api_key: str = KEY, **kwargs) -> AsyncKlingClient:
    return AsyncKlingClient(api_key, base_url=served.url, poll=FAST, **kwargs)


def generate(served, request, out_dir: Path, **kwargs):
    async def go():
        async with client_for(served, **kwargs) as client:
            return await client.generate(request, out_dir)

    return asyncio.run(go())


def test_t2v_end_to_end_makes_a_real_clip(served_simulator, tmp_path):
    result = generate(served_simulator, T2VRequest(prompt="a paper boat on a stream", aspect_ratio="9:16"), tmp_path)
    info = probe(result.path)
    assert (info.codec, info.pix_fmt, info.frames, info.fps) == ("h264", "yuv420p", 120, 24)
    assert info.width * 16 == info.height * 9
    statuses = [r.status for r in served_simulator.simulator.log]
    assert statuses and all(s == 200 for s in statuses)
    assert len(served_simulator.simulator.submits()) == 1


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_i2v_with_an_end_image_end_to_end(served_simulator, tmp_path):
    request = I2VRequest(
        image=image_bytes(900, 600),
        end_image=image_bytes(900, 600, color=(20, 200, 90)),
        prompt="camera orbits slowly",
        duration="10",
    )
    result = generate(served_simulator, request, tmp_path)
    info = probe(result.path)
    assert info.frames == 240 and abs(info.width / info.height - 1.5) < 0.02
    paths = [(r.method, r.path) for r in served_simulator.simulator.log]
    assert paths[:3] == [
        ("POST", "/api/v3/media/upload/binary"),
        ("POST", "/api/v3/media/upload/binary"),
        ("POST", "/api/v3/kwaivgi/kling-v2.0-i2v-master"),
    ]


@pytest.mark.slow  # several seconds: kept out of the fast loop
@pytest.mark.parametrize("fault", ["drop", "500", "502", "timeout"])
def test_a_lost_submit_answer_is_never_resubmitted(served_simulator, tmp_path, fault):
    sim = served_simulator.simulator
    sim.faults.submit.append(fault)
    sim.faults.hang_s = 3.0
    with pytest.raises(SubmitUncertainError):

        async def go():
            http = httpx.AsyncClient(timeout=httpx.Timeout(1.0))
            async with client_for(served_simulator, http=http) as client:
                await client.submit(T2VRequest(prompt="x"))
            await http.aclose()

        asyncio.run(go())
    assert len(sim.submits()) == 1
    assert len(sim.tasks) == 1  # the task exists: a resubmit would have paid twice


@pytest.mark.parametrize("fault, status", [("429", 429), pytest.param("busy_in_200", 200, marks=pytest.mark.slow)])
def test_an_outright_refusal_is_retried_and_makes_one_task(served_simulator, tmp_path, fault, status):
    sim = served_simulator.simulator
    sim.faults.submit.append(fault)
    result = generate(served_simulator, T2VRequest(prompt="x"), tmp_path, retry=Backoff(base=0.05, max_retry_after=0.1))
    assert result.stage == "done"
    assert [r.status for r in sim.submits()] == [status, 200]
    assert len(sim.tasks) == 1


def test_a_503_on_submit_is_not_resent(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.submit.append("503")
    with pytest.raises(SubmitUncertainError, match="may have been created"):
        generate(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert [r.status for r in sim.submits()] == [503]


# -- the API as WaveSpeed's own clients read it ------------------------------------------------


def collect(served, request, out_dir: Path, **kwargs):
    """Every update of a whole generation, and the error it ended with (or None)."""

    async def go():
        updates = []
        async with client_for(served, **kwargs) as client:
            try:
                async for update in client.stream(request, out_dir):
                    updates.append(update)
            except Exception as exc:  # returned, not swallowed: each test asserts its exact type
                return updates, exc
        return updates, None

    return asyncio.run(go())


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_an_undocumented_status_for_half_the_run_keeps_the_wait_going(served_simulator, tmp_path):
    sim = served_simulator.simulator
    # A 4 s run, pending for its first half: the client's first look (0.1 s) lands in that half even
    # on a loaded machine (with the fixture's 0.8 s run it sometimes came too late).
    sim.config.process_s = 3.8
    sim.faults.update({"undocumented_status": "pending", "undocumented_share": 0.5})
    updates, error = collect(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert error is None and updates[-1].stage == "done" and updates[-1].path.exists()
    polled = [u for u in updates if u.stage == "polled"]
    assert polled[0].task.status == "pending"
    assert polled[0].message == "status pending, not documented: still waiting"
    assert polled[-1].task.status == "completed" and polled[-1].message == ""


def test_an_error_code_inside_a_200_is_a_refusal_and_nothing_is_polled(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.submit.append("refused_in_200")
    updates, error = collect(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert isinstance(error, SubmitRefusedError) and [u.stage for u in updates] == ["submitting"]
    assert "rejected by the safety filter" in str(error) and "No task was created" in str(error)
    assert "may have been created" not in str(error)
    assert [(r.method, r.status) for r in sim.log] == [("POST", 200)]  # one POST, no poll, no listing
    assert sim.tasks == {}


def test_the_reason_in_data_error_reaches_the_message(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.update({"submit": ["image_unfetchable"], "error_shape": "data_error"})
    request = I2VRequest(image="https://example.invalid/photo.png", prompt="x")
    _, error = collect(served_simulator, request, tmp_path)
    assert isinstance(error, SubmitRefusedError) and "Failed to fetch image from url" in str(error)
    assert "Bad Request" not in str(error)
    _, error = collect(served_simulator, T2VRequest(prompt="x" * 10), tmp_path, api_key="sk-wrong")
    assert "invalid API key" in str(error)  # data.error of a 401 too


def test_a_gateway_502_after_the_task_exists_is_not_resent_and_the_listing_finds_it(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.submit.append("502")

    async def go():
        async with client_for(served_simulator) as client:
            with pytest.raises(SubmitUncertainError) as caught:
                await client.submit(T2VRequest(prompt="x"))
            found = await client.find_tasks(caught.value.model, created_after=caught.value.sent_at - 5)
            return caught.value, found

    error, found = asyncio.run(go())
    assert "502 Bad Gateway" in str(error) and "<" not in str(error) and len(str(error)) < 400
    assert [task.id for task in found] == list(sim.tasks)
    assert len(sim.submits()) == 1
    listing = sim.requests("POST", "/api/v3/predictions")[0]
    assert listing.body["model"] == "kwaivgi/kling-v2.0-t2v-master" and listing.body["created_after"].endswith("Z")


def test_the_listing_applies_its_filters(served_simulator, tmp_path):
    async def go():
        async with client_for(served_simulator) as client:
            t2v = await client.submit(T2VRequest(prompt="x"))
            i2v = await client.submit(I2VRequest(image=image_bytes(600, 600), prompt="x"))
            now = time.time()
            return (
                t2v,
                i2v,
                await client.find_tasks(t2v.model, created_after=now - 60),
                await client.find_tasks(i2v.model, created_after=now - 60),
                await client.find_tasks(t2v.model, created_after=now + 60),
            )

    t2v, i2v, t2v_found, i2v_found, future = asyncio.run(go())
    assert [t.id for t in t2v_found] == [t2v.id] and [t.id for t in i2v_found] == [i2v.id] and future == []


@pytest.mark.slow  # several seconds: kept out of the fast loop
@pytest.mark.parametrize("retired", [404, 405])
def test_a_retired_binary_upload_switches_to_the_ticket_flow(served_simulator, tmp_path, retired):
    sim = served_simulator.simulator
    sim.faults.binary_upload_status = retired
    request = I2VRequest(image=image_bytes(900, 600), end_image=image_bytes(900, 600, color=(9, 9, 9)), prompt="x")
    result = generate(served_simulator, request, tmp_path)
    assert probe(result.path).frames == 120
    calls = [(r.method, r.path.rsplit("/", 1)[0] if r.path.startswith("/_sim/upload/") else r.path) for r in sim.log]
    assert calls[:6] == [
        ("POST", "/api/v3/media/upload/binary"),  # answered 404/405 once, never asked again
        ("POST", "/api/v3/media/uploads"),
        ("PUT", "/_sim/upload"),
        ("POST", "/api/v3/media/uploads"),
        ("PUT", "/_sim/upload"),
        ("POST", "/api/v3/kwaivgi/kling-v2.0-i2v-master"),
    ]
    assert sim.log[0].status == retired
    assert all("authorization" not in r.headers for r in sim.log if r.method == "PUT")


def test_connection_refused_is_retried_then_reported(tmp_path):
    async def go():
        async with AsyncKlingClient(KEY, base_url="http://127.0.0.1:9", retry=Backoff(attempts=2, base=0.01)) as client:
            await client.submit(T2VRequest(prompt="x"))

    with pytest.raises(ServerError, match="nothing was submitted"):
        asyncio.run(go())


@pytest.mark.slow  # renders several clips, or waits out real Retry-After seconds
def test_polls_ride_out_flaky_answers(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.update({"poll": ["500", "drop", "timeout", "null_data", "502", "429", "not_json"], "hang_s": 2.0})
    http = httpx.AsyncClient(timeout=httpx.Timeout(1.0))

    async def go():
        async with client_for(served_simulator, http=http) as client:
            result = await client.generate(T2VRequest(prompt="x"), tmp_path)
        await http.aclose()
        return result

    assert asyncio.run(go()).stage == "done"
    assert len(sim.submits()) == 1


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_a_failed_task_reports_code_and_reason(served_simulator, tmp_path):
    served_simulator.simulator.faults.fail_code = 1200
    with pytest.raises(TaskFailedError) as caught:
        generate(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert caught.value.code == 1200 and "moderation" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_an_expired_output_keeps_the_url(served_simulator, tmp_path):
    served_simulator.simulator.faults.expire_outputs = True
    with pytest.raises(DownloadError) as caught:
        generate(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert caught.value.url.startswith(served_simulator.url + "/outputs/")
    assert list(tmp_path.iterdir()) == []


# -- the command line -------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_t2v_and_i2v_write_clips(served_simulator, tmp_path):
    done = cli(
        "t2v",
        "--prompt",
        "a red kite",
        "--aspect-ratio",
        "1:1",
        "--out",
        "kite.mp4",
        base_url=served_simulator.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    task_id, path = done.stdout.split()
    assert path == "kite.mp4" and task_id in served_simulator.simulator.tasks
    assert "status: completed" in done.stderr
    assert probe(tmp_path / "kite.mp4").width == probe(tmp_path / "kite.mp4").height
    assert (tmp_path / "data" / "outputs" / f"{task_id}.mp4").exists()  # the paid clip is kept too

    (tmp_path / "photo.jpg").write_bytes(image_bytes(800, 600, "JPEG"))
    done = cli(
        "i2v",
        "--image",
        "photo.jpg",
        "--prompt",
        "slow pan left",
        "--out",
        "pan.mp4",
        base_url=served_simulator.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert probe(tmp_path / "pan.mp4").frames == 120


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("t2v", "--prompt", "x" * 2501),
        ("t2v", "--prompt", "x", "--duration", "7"),
        ("t2v", "--prompt", "x", "--aspect-ratio", "4:3"),
        ("i2v", "--image", "missing.png", "--prompt", "x"),
        ("i2v", "--image", "tiny.png", "--prompt", "x"),
        ("i2v", "--image", "tiny.png", "--prompt", "x", "--guidance-scale", "lots"),
        ("result", "../../etc/passwd"),
    ],
)
def test_cli_refuses_bad_input_with_exit_2_and_sends_nothing(served_simulator, tmp_path, args):
    (tmp_path / "tiny.png").write_bytes(image_bytes(120, 120))
    done = cli(*args, base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "error:" in done.stderr and "Nothing was sent" in done.stderr and "Traceback" not in done.stderr
    assert list(served_simulator.simulator.log) == []


@pytest.mark.slow
def test_cli_failed_task_exits_1_with_reason_and_id(served_simulator, tmp_path):
    served_simulator.simulator.faults.fail_code = 1200
    done = cli("t2v", "--prompt", "x", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 1
    task_id = done.stdout.split()[0]
    assert task_id in done.stderr and "moderation" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_cli_result_resumes_a_task(served_simulator, tmp_path):
    async def make() -> str:
        async with client_for(served_simulator) as client:
            return (await client.submit(T2VRequest(prompt="resume me"))).id

    task_id = asyncio.run(make())
    done = cli("result", task_id, "--out", "again.mp4", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert probe(tmp_path / "again.mp4").codec == "h264"
    assert len(served_simulator.simulator.submits()) == 1


@pytest.mark.slow
def test_cli_wrong_key_exits_1_without_showing_it(served_simulator, tmp_path):
    done = cli("t2v", "--prompt", "x", key="sk-wrong-key-123", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 1 and "401" in done.stderr
    assert "sk-wrong-key-123" not in done.stderr + done.stdout


@pytest.mark.slow
def test_cli_without_a_key_writes_a_preview_clip(tmp_path):
    done = cli("t2v", "--prompt", "a preview please", "--out", "p.mp4", key=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Preview mode" in done.stderr and "not Kling output" in done.stderr
    assert probe(tmp_path / "p.mp4").frames == 120


# -- someone else's reading of the API: WaveSpeed's official SDK --------------------------------


@pytest.fixture
def sdk():
    return pytest.importorskip("wavespeed")


@pytest.mark.slow  # renders several clips, or waits out real Retry-After seconds
def test_the_official_sdk_runs_both_models_and_uploads(sdk, served_simulator, tmp_path):
    client = sdk.Client(api_key=KEY, base_url=served_simulator.url)
    (tmp_path / "start.png").write_bytes(image_bytes(600, 900))
    image_url = client.upload(str(tmp_path / "start.png"))
    assert httpx.get(image_url, timeout=DOWNLOAD_TIMEOUT).content == (tmp_path / "start.png").read_bytes()

    t2v = client.run(
        "kwaivgi/kling-v2.0-t2v-master", {"prompt": "a fox in snow", "aspect_ratio": "16:9", "duration": 5}
    )
    i2v = client.run("kwaivgi/kling-v2.0-i2v-master", {"prompt": "push in", "image": image_url, "duration": 5})
    for outputs, aspect in ((t2v, 16 / 9), (i2v, 600 / 900)):
        clip = httpx.get(outputs["outputs"][0], timeout=DOWNLOAD_TIMEOUT).content
        info = probe(clip)
        assert info.codec == "h264" and info.frames == 120 and abs(info.width / info.height - aspect) < 0.02


def test_the_official_sdk_reads_a_sync_mode_timeout(sdk, tmp_path):
    from kling.preview.simulator import Simulator
    from tests.helpers.sim import free_port, serve_in_thread, sim_config

    sim = Simulator(sim_config(api_key=KEY, queue_s=0.0, process_s=30, sync_timeout_s=0.3))
    port = free_port()
    server, thread = serve_in_thread(sim.app, port)
    try:
        result = sdk.Client(api_key=KEY, base_url=f"http://127.0.0.1:{port}").run_no_throw(
            "kwaivgi/kling-v2.0-t2v-master", {"prompt": "x"}, enable_sync_mode=True
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sim.close()
    assert result["status"] == "processing" and result["task_id"] in sim.tasks
    assert "Sync mode timed out" in result["error"]


@pytest.mark.slow
def test_the_official_sdk_against_python_m_kling_simulator(sdk, tmp_path):
    """The issue's own words: `python -m kling simulator` plus the official SDK produce a real clip."""
    with simulator_process("--time-scale", "0.2") as url:
        outputs = sdk.Client(api_key="any-key", base_url=url).run(
            "kwaivgi/kling-v2.0-t2v-master", {"prompt": "a fox in snow", "aspect_ratio": "9:16", "duration": 10}
        )
        info = probe(httpx.get(outputs["outputs"][0], timeout=DOWNLOAD_TIMEOUT).content)
    assert (info.codec, info.frames) == ("h264", 240) and info.width * 16 == info.height * 9


# -- the same API readings, from the command line -------------------------------------------------


@pytest.mark.slow
def test_cli_t2v_waits_through_an_undocumented_status(served_simulator, tmp_path):
    served_simulator.simulator.faults.update({"undocumented_status": "pending", "undocumented_share": 0.5})
    served_simulator.simulator.config.process_s = 10.0  # the CLI's live schedule looks first at 2 s
    done = cli("t2v", "--prompt", "a lantern", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "status pending, not documented: still waiting" in done.stderr and "status: completed" in done.stderr
    assert probe(done.stdout.split()[-1]).frames == 120


@pytest.mark.slow
def test_cli_t2v_refused_inside_a_200_exits_1_with_the_reason_and_polls_nothing(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.submit.append("refused_in_200")
    done = cli("t2v", "--prompt", "a lantern", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 1
    assert "rejected by the safety filter" in done.stderr and "No task was created" in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert [(r.method, r.path) for r in sim.log] == [("POST", "/api/v3/kwaivgi/kling-v2.0-t2v-master")]


@pytest.mark.slow
def test_cli_t2v_recovers_the_task_after_a_gateway_502(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.submit.append("502")
    done = cli("t2v", "--prompt", "a lantern", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    task_id, path = done.stdout.split()
    assert f"Recovered task {task_id}" in done.stderr and probe(path).frames == 120
    assert len(sim.submits()) == 1 and list(sim.tasks) == [task_id]


@pytest.mark.slow
def test_cli_i2v_survives_a_retired_binary_upload(served_simulator, tmp_path):
    sim = served_simulator.simulator
    sim.faults.binary_upload_status = 404
    (tmp_path / "photo.png").write_bytes(image_bytes(800, 600))
    done = cli("i2v", "--image", "photo.png", "--prompt", "pan", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert probe(done.stdout.split()[-1]).frames == 120
    assert [r.status for r in sim.requests("POST", "/media/")] == [404, 200]


@pytest.mark.slow
def test_cli_i2v_shows_the_reason_from_data_error(served_simulator, tmp_path):
    served_simulator.simulator.faults.update({"submit": ["image_unfetchable"], "error_shape": "data_error"})
    done = cli(
        "i2v", "--image", "https://example.invalid/p.png", "--prompt", "x", base_url=served_simulator.url, cwd=tmp_path
    )
    assert done.returncode == 1 and "Failed to fetch image from url" in done.stderr


@pytest.mark.slow
def test_documented_fault_switch_on_python_m_kling_simulator(tmp_path):
    """docs/CLI.md: `python -m kling simulator`, a 502 switched on through /_sim/faults, the CLI recovers."""
    with simulator_process("--require-key", "test", "--time-scale", "0.2") as url:
        assert httpx.post(f"{url}/_sim/faults", json={"submit": ["502"]}).status_code == 200
        done = cli("t2v", "--prompt", "a lantern", key="test", base_url=url, cwd=tmp_path)
        log = log_json(url)
    assert done.returncode == 0, done.stderr
    task_id, path = done.stdout.split()
    assert f"Recovered task {task_id}" in done.stderr and probe(path).frames == 120
    assert [e["status"] for e in log if e["method"] == "POST" and "/kwaivgi/" in e["path"]] == [502]
