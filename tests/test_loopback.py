"""The client, the CLI and WaveSpeed's own SDK against the simulator over real HTTP on loopback,
with the simulator's fault switches. What the simulator's log shows is what a server would see."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from kling.client import AsyncKlingClient, PollPolicy
from kling.errors import DownloadError, ServerError, SubmitUncertainError, TaskFailedError
from kling.params import I2VRequest, T2VRequest

from .conftest import KEY, cli, image_bytes, probe, simulator_process

FAST = PollPolicy(first=0.1, ceiling=0.3, jitter=0.1, deadline=60)
ROOT = Path(__file__).resolve().parent.parent


def client_for(served, **kwargs) -> AsyncKlingClient:
    return AsyncKlingClient(KEY, base_url=served.url, poll=FAST, **kwargs)


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


@pytest.mark.slow  # renders several clips, or waits out real Retry-After seconds
@pytest.mark.parametrize("fault", ["429", "503"])
def test_an_outright_refusal_is_retried_and_makes_one_task(served_simulator, tmp_path, fault):
    sim = served_simulator.simulator
    sim.faults.submit.append(fault)
    result = generate(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert result.stage == "done"
    assert [r.status for r in sim.submits()] == [int(fault), 200]
    assert len(sim.tasks) == 1


def test_connection_refused_is_retried_then_reported(tmp_path):
    async def go():
        from kling.client import SubmitPolicy

        async with AsyncKlingClient(
            KEY, base_url="http://127.0.0.1:9", submit_policy=SubmitPolicy(attempts=2, backoff=0.01)
        ) as client:
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


def test_a_failed_task_reports_code_and_reason(served_simulator, tmp_path):
    served_simulator.simulator.faults.fail_code = 1200
    with pytest.raises(TaskFailedError) as caught:
        generate(served_simulator, T2VRequest(prompt="x"), tmp_path)
    assert caught.value.code == 1200 and "moderation" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


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
    assert httpx.get(image_url).content == (tmp_path / "start.png").read_bytes()

    t2v = client.run(
        "kwaivgi/kling-v2.0-t2v-master", {"prompt": "a fox in snow", "aspect_ratio": "16:9", "duration": 5}
    )
    i2v = client.run("kwaivgi/kling-v2.0-i2v-master", {"prompt": "push in", "image": image_url, "duration": 5})
    for outputs, aspect in ((t2v, 16 / 9), (i2v, 600 / 900)):
        clip = httpx.get(outputs["outputs"][0]).content
        info = probe(clip)
        assert info.codec == "h264" and info.frames == 120 and abs(info.width / info.height - aspect) < 0.02


def test_the_official_sdk_reads_a_sync_mode_timeout(sdk, tmp_path):
    from kling.simulator import SimConfig, Simulator

    from .conftest import free_port, serve_in_thread

    sim = Simulator(SimConfig(api_key=KEY, queue_s=0.0, process_s=30, sync_timeout_s=0.3))
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
        info = probe(httpx.get(outputs["outputs"][0]).content)
    assert (info.codec, info.frames) == ("h264", 240) and info.width * 16 == info.height * 9
