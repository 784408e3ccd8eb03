"""The simulator speaks the API of docs/API.md: routes, envelope, auth, clock, uploads, outputs, faults,
sync mode, base64, webhooks and the request log. Driven in-process through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from kling.api.params import T2VRequest
from kling.errors import ValidationError
from kling.preview.media import check_image
from kling.preview.models import check_body
from kling.preview.routes import authorized
from kling.preview.simulator import ROUTE_TABLES, SimConfig, Simulator
from kling.preview.webhooks import sign_webhook
from tests.helpers.fakes import KEY
from tests.helpers.media import image_bytes, probe
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.sim import AUTH, Clock, call, sim_config

T2V = "/api/v3/kwaivgi/kling-v2.0-t2v-master"
I2V = "/api/v3/kwaivgi/kling-v2.0-i2v-master"
DATA_KEYS = {"id", "model", "outputs", "urls", "has_nsfw_contents", "status", "created_at", "error", "timings"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock) -> Simulator:
    simulator = Simulator(sim_config(api_key=KEY, queue_s=1.0, process_s=4.0), clock=clock, clip_dir=SIM_CLIPS)
    yield simulator
    simulator.close()


def submit(sim: Simulator, body: dict | None = None, path: str = T2V, **kwargs) -> httpx.Response:
    return call(
        sim, "POST", path, json={"prompt": "a lighthouse at dusk"} if body is None else body, headers=AUTH, **kwargs
    )


def poll(sim: Simulator, task_id: str) -> dict:
    response = call(sim, "GET", f"/api/v3/predictions/{task_id}/result", headers=AUTH)
    assert response.status_code == 200
    return response.json()["data"]


def test_the_envelope_and_the_clock(sim, clock):
    answer = submit(sim).json()
    assert answer["code"] == 200 and answer["message"] == "success"
    data = answer["data"]
    assert set(data) == DATA_KEYS
    assert data["status"] == "created" and data["outputs"] == [] and data["model"] == "kwaivgi/kling-v2.0-t2v-master"
    assert data["urls"]["get"] == f"http://sim.test/api/v3/predictions/{data['id']}/result"
    assert data["created_at"].endswith("Z")
    seen = []
    for now in (0.5, 2.0, 5.5):
        clock.now = now
        seen.append(poll(sim, data["id"])["status"])
    assert seen == ["created", "processing", "completed"]
    done = poll(sim, data["id"])
    assert done["outputs"] == [f"http://sim.test/outputs/{data['id']}.mp4"]
    assert done["has_nsfw_contents"] == [False]
    assert done["timings"]["inference"] == 4000
    # The documented second poll path answers the same.
    other = call(sim, "GET", f"/api/v3/predictions/{data['id']}", headers=AUTH).json()["data"]
    assert other == done


def test_a_ten_second_clip_takes_twice_as_long(sim, clock):
    task_id = submit(sim, {"prompt": "waves", "duration": "10"}).json()["data"]["id"]
    clock.now = 6.0
    assert poll(sim, task_id)["status"] == "processing"
    clock.now = 9.5
    assert poll(sim, task_id)["status"] == "completed"


def test_a_route_table_added_to_the_simulator_is_served_before_the_submit_route(clock):
    """A new endpoint group is one more table: its POST under /api/v3/<owner>/<name> is answered by
    its own handler (with the simulator's key check), not taken for a submit to an unknown model."""
    from starlette.responses import JSONResponse

    async def optimize(sim, request):
        body = await request.json()
        return authorized(sim, request) or JSONResponse({"code": 200, "data": {"prompt": body["prompt"] + "!"}})

    path = "/api/v3/wavespeed-ai/caption-writer"  # a model-style path that no table serves yet
    extra = ((path, ("POST",), optimize),)
    simulator = Simulator(sim_config(api_key=KEY), clock=clock, route_tables=(*ROUTE_TABLES, extra))
    try:
        answer = call(simulator, "POST", path, json={"prompt": "a kite"}, headers=AUTH)
        assert answer.status_code == 200 and answer.json()["data"] == {"prompt": "a kite!"}
        assert call(simulator, "POST", path, json={"prompt": "x"}).status_code == 401
        assert submit(simulator).status_code == 200 and len(simulator.tasks) == 1  # submits still work
    finally:
        simulator.close()
    plain = Simulator(sim_config(api_key=KEY), clock=clock)
    try:  # without the table, the same request is a submit to a model that does not exist
        gone = call(plain, "POST", path, json={"prompt": "a kite"}, headers=AUTH)
        assert gone.status_code == 404 and "Model not found" in gone.json()["message"]
    finally:
        plain.close()


def test_auth_is_required_and_checked(sim):
    missing = call(sim, "POST", T2V, json={"prompt": "x"})
    wrong = call(sim, "POST", T2V, json={"prompt": "x"}, headers={"Authorization": "Bearer other"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["data"] is None and response.json()["code"] == 401
    assert sim.tasks == {}


def test_unknown_model_and_task_are_404_envelopes(sim):
    model = call(sim, "POST", "/api/v3/kwaivgi/kling-v9-ultra", json={"prompt": "x"}, headers=AUTH)
    task = call(sim, "GET", "/api/v3/predictions/nope/result", headers=AUTH)
    for response in (model, task):
        assert response.status_code == 404 and response.json()["data"] is None and response.json()["message"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({}, "prompt"),
        ({"prompt": "x" * 2501}, "2500"),
        ({"prompt": "x", "duration": 7}, "duration"),
        ({"prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"prompt": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(sim, body, words):
    response = submit(sim, body)
    assert response.status_code == 400 and words in response.json()["message"]
    assert sim.tasks == {}


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_binary_upload_feeds_an_i2v_task(sim, clock):
    png = image_bytes(640, 480)
    up = call(sim, "POST", "/api/v3/media/upload/binary", files={"file": ("start.png", png, "image/png")}, headers=AUTH)
    url = up.json()["data"]["download_url"]
    assert up.json()["data"]["size"] == len(png)
    assert call(sim, "GET", httpx.URL(url).path).content == png
    task_id = submit(sim, {"image": url, "prompt": "slow push-in"}, path=I2V).json()["data"]["id"]
    clock.now = 10
    clip = call(sim, "GET", f"/outputs/{task_id}.mp4")
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    info = probe(clip.content)
    assert info.codec == "h264" and info.frames == 120
    assert abs(info.width / info.height - 640 / 480) < 0.02


@pytest.mark.parametrize("on_submit", [True, False], ids=["rendered-at-submit", "rendered-when-fetched"])
def test_a_clip_is_rendered_at_submit_or_when_first_fetched(clock, tmp_path, on_submit):
    sim = Simulator(
        SimConfig(api_key=KEY, queue_s=1.0, process_s=4.0, render_on_submit=on_submit), clock=clock, clip_dir=tmp_path
    )
    try:
        task_id = submit(sim, {"prompt": "a render-timing lighthouse", "duration": 5}).json()["data"]["id"]
        task = sim.tasks[task_id]
        assert (task.render is not None) is on_submit and (task.pending_render is None) is on_submit
        assert call(sim, "GET", f"/outputs/{task_id}.mp4").status_code == 404  # not completed yet
        assert task.render is None or on_submit  # a 404 starts no render
        clock.now = 10
        clip = call(sim, "GET", f"/outputs/{task_id}.mp4")
        assert clip.status_code == 200 and probe(clip.content).codec == "h264"
        assert task.pending_render is None and list(tmp_path.glob("*.mp4"))
    finally:
        sim.close()


def test_upload_ticket_then_put_without_the_key(sim):
    ticket = call(
        sim,
        "POST",
        "/api/v3/media/uploads",
        json={"filename": "a.png", "size": 3, "content_type": "image/png"},
        headers=AUTH,
    )
    upload = ticket.json()["data"]["upload"]
    assert upload["method"] == "PUT"
    put = call(sim, "PUT", httpx.URL(upload["url"]).path, content=b"abc", headers=upload["headers"])
    assert put.status_code == 200
    assert call(sim, "GET", httpx.URL(ticket.json()["data"]["download_url"]).path).content == b"abc"
    assert "authorization" not in sim.log[-2].headers  # the PUT


def test_an_image_url_it_cannot_read_fails_the_task_with_1402(sim, clock):
    task_id = submit(sim, {"image": "https://example.com/cat.jpg", "prompt": "x"}, path=I2V).json()["data"]["id"]
    clock.now = 10
    data = poll(sim, task_id)
    assert data["status"] == "failed" and data["code"] == 1402 and "example.com" in data["error"]


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_outputs_have_length_and_ranges(sim, clock):
    task_id = submit(sim).json()["data"]["id"]
    clock.now = 10
    whole = call(sim, "GET", f"/outputs/{task_id}.mp4")
    assert int(whole.headers["content-length"]) == len(whole.content) > 1000
    part = call(sim, "GET", f"/outputs/{task_id}.mp4", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == whole.content[:100]


@pytest.mark.parametrize("code", [1200, 1400, 1401, 1402, 1403, 1405, 5000, 5003, 5004])
def test_tasks_fail_with_each_code(sim, clock, code):
    sim.faults.fail_code = code
    task_id = submit(sim).json()["data"]["id"]
    clock.now = 10
    data = poll(sim, task_id)
    assert (data["status"], data["code"], data["outputs"]) == ("failed", code, [])
    assert data["error"]


def test_nsfw_stuck_expired_and_odd_final_status(sim, clock):
    sim.faults.nsfw = True
    nsfw = submit(sim).json()["data"]["id"]
    sim.faults.update({"nsfw": False, "stuck": True})
    stuck = submit(sim).json()["data"]["id"]
    sim.faults.update({"stuck": False, "final_status": "cancelled"})
    cancelled = submit(sim).json()["data"]["id"]
    clock.now = 1000
    assert poll(sim, nsfw)["has_nsfw_contents"] == [True]
    assert poll(sim, stuck)["status"] == "processing"
    assert poll(sim, cancelled)["status"] == "cancelled"
    sim.faults.expire_outputs = True
    assert call(sim, "GET", f"/outputs/{nsfw}.mp4").status_code == 404


def test_the_concurrency_cap_keeps_extra_tasks_created(clock):
    sim = Simulator(sim_config(api_key=KEY, queue_s=0.0, process_s=4.0, max_concurrent=1), clock=clock)
    first, second = (submit(sim).json()["data"]["id"] for _ in range(2))
    clock.now = 1.0
    assert (poll(sim, first)["status"], poll(sim, second)["status"]) == ("processing", "created")
    clock.now = 5.0
    assert (poll(sim, first)["status"], poll(sim, second)["status"]) == ("completed", "processing")
    sim.close()


@pytest.mark.parametrize("fault, status", [("429", 429), ("503", 503), ("402", 402), ("500_before_create", 500)])
def test_submit_refusals_create_nothing(sim, fault, status):
    sim.faults.submit.append(fault)
    response = submit(sim)
    assert response.status_code == status and response.json()["data"] is None
    assert sim.tasks == {}
    if status in (429, 503):
        assert response.headers["retry-after"] == "1"
    assert submit(sim).status_code == 200  # one-shot


@pytest.mark.parametrize("fault", ["500", "502", "504"])
def test_submit_errors_after_the_task_was_created(sim, fault):
    sim.faults.submit.append(fault)
    assert submit(sim).status_code == int(fault)
    assert len(sim.tasks) == 1


def test_a_dropped_submit_still_created_the_task(sim):
    sim.faults.submit.append("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        submit(sim)
    assert len(sim.tasks) == 1


@pytest.mark.parametrize("fault, status", [("500", 500), ("429", 429), ("null_data", 200), ("not_json", 200)])
def test_poll_faults(sim, fault, status):
    task_id = submit(sim).json()["data"]["id"]
    sim.faults.poll.append(fault)
    response = call(sim, "GET", f"/api/v3/predictions/{task_id}/result", headers=AUTH)
    assert response.status_code == status
    if fault == "null_data":
        assert response.json()["data"] is None
    if fault == "not_json":
        with pytest.raises(json.JSONDecodeError):
            response.json()


def test_sync_mode_answers_with_the_result():
    sim = Simulator(sim_config(api_key=KEY, queue_s=0.01, process_s=0.05))
    data = submit(sim, {"prompt": "x", "enable_sync_mode": True}).json()["data"]
    assert data["status"] == "completed" and data["outputs"]
    sim.close()


def test_sync_mode_times_out_with_5004():
    sim = Simulator(sim_config(api_key=KEY, queue_s=0.01, process_s=10, sync_timeout_s=0.1))
    data = submit(sim, {"prompt": "x", "enable_sync_mode": True}).json()["data"]
    assert (data["status"], data["code"]) == ("processing", 5004)
    assert data["error"].startswith("Sync mode timed out")
    sim.close()


@pytest.mark.slow  # renders several clips, or waits out real Retry-After seconds
def test_base64_output_is_the_clip_itself(sim, clock):
    task_id = submit(sim, {"prompt": "x", "enable_base64_output": True}).json()["data"]["id"]
    clock.now = 10
    clip = base64.b64decode(poll(sim, task_id)["outputs"][0])
    assert probe(clip).codec == "h264"


def test_base64_with_a_webhook_is_refused(sim):
    response = submit(sim, {"prompt": "x", "enable_base64_output": True}, params={"webhook": "http://127.0.0.1:9/hook"})
    assert response.status_code == 400 and sim.tasks == {}


def test_webhooks_are_signed_as_documented():
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    sim = Simulator(
        sim_config(api_key=KEY, queue_s=0.0, process_s=0.05),
        webhook_transport=httpx.MockTransport(hook),
    )

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim.test") as http:
            await http.post(T2V, json={"prompt": "x"}, headers=AUTH, params={"webhook": "https://app.example/hook"})
            for _ in range(100):
                if received:
                    return
                await asyncio.sleep(0.05)

    asyncio.run(go())
    (request,) = received
    body = request.content
    data = json.loads(body)
    # The flat data object (no envelope), plus the `input` echo of the request.
    assert set(data) == DATA_KEYS | {"input"} and data["status"] == "completed" and data["input"] == {"prompt": "x"}
    signature = request.headers["webhook-signature"]
    assert signature.startswith("v3,")
    expected = sign_webhook(
        sim.config.webhook_secret, request.headers["webhook-id"], request.headers["webhook-timestamp"], body
    )
    assert signature == "v3," + expected
    assert sim.submits()[0].query == "webhook=https%3A%2F%2Fapp.example%2Fhook"
    sim.close()


def test_the_request_log_never_holds_the_key(sim):
    submit(sim)
    call(
        sim,
        "POST",
        "/api/v3/media/upload/binary",
        files={"file": ("a.png", image_bytes(400, 400), "image/png")},
        headers=AUTH,
    )
    entries = sim.log
    assert [(e.method, e.status) for e in entries] == [("POST", 200), ("POST", 200)]
    assert entries[0].body == {"prompt": "a lighthouse at dusk"}
    assert entries[0].headers["authorization"] == "Bearer <redacted>"
    assert entries[1].body["bytes"] > 0
    assert KEY not in json.dumps([e.__dict__ for e in entries], default=str)


def test_fault_switches_over_http(sim):
    response = call(sim, "POST", "/_sim/faults", json={"fail_code": 1200, "poll": ["500"]})
    assert response.status_code == 200 and sim.faults.fail_code == 1200 and sim.faults.poll == ["500"]
    assert call(sim, "POST", "/_sim/faults", json={"no_such_switch": 1}).status_code == 400


# -- its own reading of the parameter tables (not the client's request classes) -----------------


T2V_MODEL, I2V_MODEL = T2V.removeprefix("/api/v3/"), I2V.removeprefix("/api/v3/")


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"prompt": "x" * 2501}, "prompt is longer than 2500"),
        ({"prompt": "  "}, "prompt is required"),
        ({}, "prompt is required"),
        ({"prompt": "x", "duration": 7}, "duration must be one of 5, 10"),
        ({"prompt": "x", "duration": "ten"}, "duration must be an integer"),
        ({"prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio must be one of"),
        ({"prompt": "x", "seed": 1}, "unknown parameter seed"),
    ],
)
def test_t2v_bodies_are_checked_against_the_model_page(body, problem):
    _, problems = check_body(T2V_MODEL, body)
    assert any(problem in p for p in problems), problems


def test_i2v_rules_and_defaults():
    values, problems = check_body(I2V_MODEL, {"prompt": "x", "image": "https://e.x/a.png", "duration": "10"})
    assert problems == [] and values["duration"] == 10 and values["guidance_scale"] == 0.5
    _, problems = check_body(I2V_MODEL, {"prompt": "x", "guidance_scale": 1.5})
    assert "image is required" in problems and "guidance_scale must be between 0.0 and 1.0" in problems


@pytest.mark.parametrize(
    "name, data, problem",
    [
        ("image", image_bytes(200, 200), "at least 300*300px"),
        ("image", image_bytes(1300, 400), "aspect ratio"),
        ("end_image", image_bytes(1300, 400), None),  # the aspect rule is stated for `image` only
        ("image", image_bytes(400, 400, "GIF"), "must be jpg/jpeg/png"),
        ("image", b"not a picture", "not a jpg/jpeg/png"),
        ("image", image_bytes(600, 400, "JPEG"), None),
    ],
)
def test_images_are_checked_by_their_own_rules(name, data, problem):
    found = check_image(name, data)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    "fields",
    [
        {"prompt": "ok"},
        {"prompt": "x" * 2500},
        {"prompt": "x" * 2501},
        {"prompt": "ok", "duration": 10},
        {"prompt": "ok", "duration": 15},
        {"prompt": "ok", "aspect_ratio": "1:1"},
        {"prompt": "ok", "aspect_ratio": "21:9"},
        {"prompt": ""},
    ],
)
def test_the_client_and_the_simulator_agree_on_t2v_limits(fields):
    """Two readings of one table: where they disagree, one of them misread the model page."""
    try:
        T2VRequest(**fields).validate()
        client_accepts = True
    except ValidationError:
        client_accepts = False
    assert client_accepts == (check_body(T2V_MODEL, fields)[1] == [])


def test_the_listing_filters_and_pages(sim, clock):
    ids = [submit(sim).json()["data"]["id"] for _ in range(3)]
    listed = call(
        sim, "POST", "/api/v3/predictions", json={"page": 1, "page_size": 2, "model": T2V_MODEL}, headers=AUTH
    )
    data = listed.json()["data"]
    assert data["total"] == 3 and len(data["items"]) == 2 and {i["id"] for i in data["items"]} <= set(ids)
    other = call(
        sim, "POST", "/api/v3/predictions", json={"page": 1, "page_size": 100, "model": I2V_MODEL}, headers=AUTH
    )
    assert other.json()["data"]["items"] == []
    later = call(
        sim,
        "POST",
        "/api/v3/predictions",
        json={"page": 1, "page_size": 100, "created_after": "2999-01-01T00:00:00Z"},
        headers=AUTH,
    )
    assert later.json()["data"]["items"] == []
    bad = call(sim, "POST", "/api/v3/predictions", json={"page": 1, "page_size": 500}, headers=AUTH)
    assert bad.status_code == 400
    assert call(sim, "POST", "/api/v3/predictions", json={"page": 1}).status_code == 401


@pytest.mark.parametrize("shape", ["message", "data_error", "error"])
def test_error_shapes(sim, shape):
    sim.faults.error_shape = shape
    body = submit(sim, {"prompt": "x", "duration": 7}).json()
    reason = {
        "message": body.get("message"),
        "data_error": (body.get("data") or {}).get("error"),
        "error": body.get("error"),
    }[shape]
    assert "duration must be one of 5, 10" in reason


def test_a_gateway_502_answers_html_after_making_the_task(sim):
    sim.faults.submit.append("502")
    response = submit(sim)
    assert response.status_code == 502 and response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text and len(sim.tasks) == 1


def test_an_undocumented_status_for_part_of_the_run(sim, clock):
    sim.faults.update({"undocumented_status": "pending", "undocumented_share": 0.5})
    task_id = submit(sim).json()["data"]["id"]  # runs 0..5 s on the fake clock
    assert poll(sim, task_id)["status"] == "pending"
    clock.now = 3.0
    assert poll(sim, task_id)["status"] == "processing"
    clock.now = 6.0
    assert poll(sim, task_id)["status"] == "completed"


def test_refusals_inside_a_200(sim):
    sim.faults.submit.extend(["refused_in_200", "busy_in_200"])
    refused, busy = submit(sim), submit(sim)
    assert (refused.status_code, refused.json()["code"]) == (200, 400)
    assert (busy.status_code, busy.json()["code"]) == (200, 503) and busy.headers["retry-after"] == "1"
    assert sim.tasks == {}


def test_a_retired_binary_upload(sim):
    sim.faults.binary_upload_status = 405
    files = {"file": ("a.png", image_bytes(400, 400), "image/png")}
    assert call(sim, "POST", "/api/v3/media/upload/binary", files=files, headers=AUTH).status_code == 405
    ticket = call(sim, "POST", "/api/v3/media/uploads", json={"filename": "a.png", "size": 1}, headers=AUTH)
    assert ticket.status_code == 200 and ticket.json()["data"]["upload"]["method"] == "PUT"
