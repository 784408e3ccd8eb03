"""Identity through the page: who is asking is decided on the server (kling.app.identity), for every
event, the limits hold against forged headers and fresh clients, KLING_REQUIRE_LOGIN holds, hostile
images are refused on the page's own fields, and an MCP call is paid once with or without a
progress token.

Unit tests call the page's handlers as Gradio would (forged values where a client could send
them); the slow ones drive the launched app over HTTP."""

from __future__ import annotations

import asyncio
import inspect
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import httpx
import pytest

from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.app.handlers import Handlers
from kling.app.identity import new_browser_token, verify_browser_token
from kling.app.link_note import image_note
from kling.app.studio import Studio
from kling.app.upload_check import upload_validator
from kling.app.views import LAB_T2V
from kling.config import Settings
from kling.jobs.guard import SpendGuard
from kling.jobs.runner import Runner
from kling.media.video import StitchResult
from kling.preview.simulator import Simulator
from kling.store.clips import ClipShelf
from kling.store.films import films_dir, record_film
from kling.store.journal import Journal
from kling.strings import SIGN_IN_REFUSAL
from tests.helpers.fakes import KEY
from tests.helpers.launch import launch_app, live_app_on_simulator, stop
from tests.helpers.media import bomb_png
from tests.helpers.page import english, generation_over, signed_session
from tests.helpers.paths import ROOT, SIM_CLIPS
from tests.helpers.runner import make_runner
from tests.helpers.sim import sim_config

T2V_MODEL = "kwaivgi/kling-v2.0-t2v-master"


def build(tmp_path: Path, *, time_scale: float = 1.0, **settings: Any) -> tuple[gr.Blocks, Handlers, Simulator]:
    """The page over a live runner with the spend guard, against an in-process simulator (its
    delays times `time_scale`)."""
    simulator = Simulator(
        sim_config(api_key=KEY, queue_s=0.05, process_s=0.2, time_scale=time_scale), clip_dir=SIM_CLIPS
    )
    config = Settings(api_key=KEY, base_url="http://sim.test", data_dir=tmp_path / "data", **settings)
    backend = Backend(
        config,
        transport=httpx.ASGITransport(app=simulator.app),
        live_poll=PollPolicy(first=0.05, ceiling=0.1, jitter=0.0),
    )
    journal = Journal(config.journal_path)
    runner = Runner(backend, journal, SpendGuard(config, journal))
    demo, handlers = Studio(config, backend, journal, runner, ClipShelf(tmp_path / "clips")).build_with_handlers()
    return demo, handlers, simulator


def request(address: str = "127.0.0.1", **headers: str) -> Any:
    """What Gradio hands a handler as gr.Request: the socket's peer and the headers as sent."""
    return SimpleNamespace(client=SimpleNamespace(host=address), headers=headers, session_hash="s", query_params={})


def alice() -> gr.OAuthProfile:
    return gr.OAuthProfile({"name": "Alice", "preferred_username": "alice", "profile": "", "picture": ""})


async def drain(generator) -> list[Any]:
    return [item async for item in generator]


def t2v(handlers: Handlers, session=None, req=None, profile=None) -> list[Any]:
    run = handlers.generation.text_to_video("a kite", "", "16:9", 5, session, req or request(), profile, None)
    return asyncio.run(drain(run))


# -- every event, a forged owner ----------------------------------------------------------------


def victims(handlers: Handlers) -> tuple[dict[str, str], list[str]]:
    """Rows of everyone but the attacker: the command line, a gradio_client session, another
    browser, a signed-in user. Returns that browser's session (to borrow from) and the row ids."""
    victim_session, victim_owner = signed_session(handlers.generation.secret)
    owners = {"cli": "cli", "api": "api-xyz", "web": victim_owner, "hf": "hf:bob"}
    for name, owner in owners.items():
        handlers.history.journal.record(
            task_id=f"victim-{name}",
            model=T2V_MODEL,
            mode="live",
            owner=owner,
            key=KEY,
            params={"prompt": f"VICTIM prompt of {name}"},
            price_cents=130,
        )
    return victim_session, [f"victim-{name}" for name in owners]


def forged_sessions(handlers: Handlers, victim_token: str) -> list[dict[str, str]]:
    victim_id = victim_token.partition(".")[0]
    other = new_browser_token(b"another server's secret" * 2)
    tokens = ["cli", "api-xyz", victim_id, f"{victim_id}.{'0' * 64}", f"{victim_id}.{other.partition('.')[2]}", ""]
    sessions = [{"token": token, "key": ""} for token in tokens]
    sessions += [{"owner": owner, "key": ""} for owner in ("cli", "api-xyz", f"web:{victim_id}", "hf:bob")]
    return sessions


def owner_events(demo: gr.Blocks, handlers: Handlers) -> dict[str, list[Any]]:
    """Every event of the page (named or not) that takes the session, the browser's stored id, or
    the request: by the name of its function."""
    p = handlers.history.parts
    found: dict[str, list[Any]] = {}
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None:
            continue
        target = fn.func if isinstance(fn, partial) else fn
        params = inspect.signature(target).parameters
        takes = p.session in block_fn.inputs or p.owner_store in block_fn.inputs
        if takes or "request" in params or "profile" in params:
            found.setdefault(target.__qualname__, []).append(block_fn)
    return found


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_every_event_called_with_a_forged_owner_finds_nothing_of_anyone_elses(tmp_path):
    # Tasks end in a tenth of the usual simulated time: about a hundred runs, whose timing is not the subject.
    demo, handlers, simulator = build(tmp_path, time_scale=0.1, tasks_per_hour_per_ip=1000)
    p, h, g = handlers.history.parts, handlers, handlers.generation
    victim_session, victim_ids = victims(handlers)
    victim_owner = h.history.journal.get("victim-web").owner
    forged = forged_sessions(handlers, victim_session["token"])

    def nothing_of_theirs(result: Any) -> None:
        assert "VICTIM" not in str(result) and not any(task_id in str(result) for task_id in victim_ids)

    def listing(session) -> dict:
        return asyncio.run(h.history.list(session, request()))

    def restore(session, arrive: bool = False) -> None:
        token = session.get("token") or session.get("owner")
        for profile in (None, alice()):
            handler = h.visitor.arrive if arrive else h.visitor.restore
            out = asyncio.run(handler(token, "", 5, 5, request(), profile))
            assert out[p.owner_store] != token and verify_browser_token(out[p.owner_store], g.secret)
            nothing_of_theirs(listing(out[p.session]))

    def select(session) -> None:
        for task_id in victim_ids:
            evt = SimpleNamespace(row_value=["", "", "", "", "", "", task_id])
            out = asyncio.run(h.history.select(session, evt, request()))
            assert out[p.history.selected_id] == "" and out[p.history.video] is None
            nothing_of_theirs(out)

    def use_settings(session) -> None:
        for task_id in victim_ids:
            assert asyncio.run(h.history.use_settings(task_id, session, request())) == {p.tabs: gr.skip()}

    def resume(session) -> None:
        for task_id in victim_ids:
            (refused,) = asyncio.run(drain(h.history.resume(task_id, session, request())))
            assert "another browser" in refused[p.history.job] and refused[p.history.video] == gr.skip()

    def generate(session) -> None:
        before = {job.id for job in h.history.journal.all()}
        nothing_of_theirs(t2v(h, session))
        (new,) = [job for job in h.history.journal.all() if job.id not in before]
        assert new.owner.startswith("web:") and new.owner != victim_owner  # a fresh owner of its own
        nothing_of_theirs(listing(session))

    def lab_run(session) -> None:
        lab = p.lab
        values = {
            lab.mode: "Text to Video",
            lab.image: None,
            lab.aspect_ratio: "16:9",
            lab.count: 2,
            p.session: session,
        }
        for slot in lab.slots:
            values.update(zip(slot.settings, ("a lantern", "", 0.5, 5)))
        nothing_of_theirs(asyncio.run(drain(h.lab.run(values, request()))))
        nothing_of_theirs(listing(session))

    def reads_no_owner(call) -> Any:
        def check(session) -> None:
            result = call(session)
            # An async handler's answer is what it returns when awaited, not its coroutine.
            nothing_of_theirs(asyncio.run(result) if inspect.isawaitable(result) else result)

        return check

    # The victim browser has a saved clip and a film: continue, stitch and show must not reach them.
    victim_clip = tmp_path / "victim.mp4"
    victim_clip.write_bytes(b"a clip of the victim's")
    h.history.journal.update("victim-web", status="completed", local_path=str(victim_clip))
    films = films_dir(g.settings.data_dir)
    films.mkdir(parents=True, exist_ok=True)
    (films / "film-victim.mp4").write_bytes(b"the victim's film")
    result = StitchResult(films / "film-victim.mp4", 10.0, 1280, 720, "h264", False)
    record_film(result, owner=victim_owner, tasks=["victim-web"], crossfade=0.0, preview=False)

    def continue_from(session) -> None:
        for task_id in victim_ids:
            answer = asyncio.run(h.films.continue_from(task_id, session, request()))
            assert answer == {p.tabs: gr.skip()}, task_id  # no frame, no prompt of theirs

    def stitch(session) -> None:
        refused = asyncio.run(h.films.stitch(["victim-web", "victim-web"], 0.0, session, request()))
        assert "Not one of this browser's finished clips" in refused[p.history.stitch.about]

    def show_film(session) -> None:
        shown = asyncio.run(h.films.show("film-victim.mp4", session, request()))
        assert shown[p.history.stitch.film] is None
        nothing_of_theirs(shown)

    def background(session) -> None:
        for out in (p.i2v.out, p.t2v.out):
            follow = g.background_for(out)
            for task_id in victim_ids:
                stopped = f"### ⏹ Stopped waiting\n\nTask `{task_id}` is running in the background."
                result = asyncio.run(follow(stopped, session, request(), None))
                assert set(result) == {out.timer} and result[out.timer].active is False
                nothing_of_theirs(result)

    def comeback(session) -> None:
        # The victim's tasks are recent: a reload brings them back to the victim, never to anyone else.
        assert asyncio.run(h.comeback.at_opening(session, request())) == {}

    usage_fns = {getattr(b.fn, "__qualname__", ""): b.fn for b in demo.fns.values() if b.fn is not None}

    def usage_reveal(session) -> None:
        for profile in (None, alice()):
            # Part of the page's opening answer (kling.app.opening), no event of its own.
            opened = asyncio.run(h.visitor.arrive(session.get("token"), "", 5, 5, request(), profile))
            assert [u.visible for u in opened.values() if isinstance(u, gr.Tab)] == [False]

    def usage_show(session) -> None:
        for profile in (None, alice()):
            shown = asyncio.run(usage_fns["UsageDesk.show"](session, request(), profile))
            assert [v for v in shown.values() if not isinstance(v, gr.Tab)] == ["", None, None, None, None]
            nothing_of_theirs(shown)

    lab_values = {p.lab.count: 2, **{slot.duration: 5 for slot in p.lab.slots}}

    def pick(index: int) -> gr.SelectData:
        return gr.SelectData(None, {"index": index, "value": None, "selected": True})

    # The victim's clip is shared: another visitor can neither share it, stop it, nor see its link.
    spot_fns = [b.fn for b in demo.fns.values() if getattr(b.fn, "__qualname__", "").startswith("SpotHandlers.")]
    spots = {fn.__self__ for fn in spot_fns}
    sharing = next(iter(spots)).h.sharing
    victim_share = sharing.store.add(owner=victim_owner, kind="clip", subject="victim-web", title="VICTIM prompt")

    def share_clip(session) -> None:
        for spot in spots:
            for task_id in victim_ids:
                shared = asyncio.run(spot.share("http://x", task_id, session, request()))
                assert shared == {spot.box.share: gr.skip()}, task_id
        assert [share.id for share in sharing.store.newest()] == [victim_share.id]

    def unshare_clip(session) -> None:
        for spot in spots:
            for task_id in victim_ids:
                asyncio.run(spot.stop(task_id, session, request()))
        assert sharing.store.get(victim_share.id) == victim_share

    def share_state(session) -> None:
        for spot in spots:
            for task_id in victim_ids:
                shown = asyncio.run(spot.state("http://x", task_id, session, request()))
                assert victim_share.id not in str(shown) and shown[spot.box.link].value == ""

    async def upload_check(session) -> dict[int, Any]:
        return dict(enumerate(await upload_validator(g, "image")(None, session, request(), None)))

    helper = h.prompt_help
    calls = {
        "SpotHandlers.share": share_clip,
        "SpotHandlers.stop": unshare_clip,
        "SpotHandlers.state": share_state,
        # Public by design (what visitors chose to share); neither reads who is asking.
        "ShareHandlers.gallery": reads_no_owner(lambda s: next(iter(spots)).h.gallery(s)),
        "ShareHandlers.start_image": reads_no_owner(lambda s: {0: next(iter(spots)).h.start_image(request())}),
        "Visitor.restore": restore,
        # restore, prefill, the link's note and a reload's task in one
        "Visitor.arrive": lambda s: (restore(s, arrive=True), comeback(s)),
        "Visitor.save_key": reads_no_owner(lambda s: h.visitor.save_key("", s, 5, 5)),
        "Visitor.clear_key": reads_no_owner(lambda s: h.visitor.clear_key(s, 5, 5)),
        "Visitor.prefill": reads_no_owner(lambda s: h.visitor.prefill(request())),
        "History.list": lambda s: nothing_of_theirs(listing(s)),
        "History.select": select,
        "History.use_settings": use_settings,
        "History.resume": resume,
        "Generation.image_to_video": generate,  # the same _generate as text_to_video
        "Generation.text_to_video": generate,
        "Generation.price": reads_no_owner(lambda s: g.price(5, s)),
        "Generation.stopped": reads_no_owner(lambda s: g.stopped(p.i2v.out, "Task `abc123`", s)),
        "Generation.background_for.<locals>.background": background,
        "Comeback.at_opening": comeback,
        "Films.continue_from": continue_from,
        "Films.stitch": stitch,
        "Films.show": show_film,
        "Lab.run": lab_run,
        "Lab.price": reads_no_owner(lambda s: h.lab.price({**lab_values, p.session: s})),
        "Lab.carry_over": reads_no_owner(
            lambda s: h.lab.carry_over({p.i2v.image: None, p.lab.image: None, p.session: s})
        ),
        # These read only the session's language.
        "Lab.stopped": reads_no_owner(lambda s: {p.lab.summary: h.lab.stopped(s)}),
        "Generation.refusal_t2v": reads_no_owner(
            lambda s: dict(enumerate(asyncio.run(g.refusal_t2v("", "", "16:9", 5, s))))
        ),
        "Generation.refusal_i2v": reads_no_owner(
            lambda s: dict(enumerate(asyncio.run(g.refusal_i2v(None, "x", "", 0.5, 5, None, s))))
        ),
        "Generation.busy": reads_no_owner(lambda s: g.busy(p.t2v.buttons, "### ⏳ Generating · 0:05", s)),
        "Examples.pick_starter": reads_no_owner(lambda s: h.examples.pick_starter(s, pick(0))),
        "Examples.pick_t2v": reads_no_owner(lambda s: h.examples.pick_t2v(s, pick(0))),
        # The Usage tab: hidden and empty for anyone not named in KLING_ADMINS (kling.app.usage_tab).
        "UsageDesk.reveal": usage_reveal,
        "UsageDesk.show": usage_show,
        # Prompt help: paid calls, counted for the visitor the server derives (checked below), never the victim.
        "PromptHelp.improve_i2v": reads_no_owner(lambda s: helper.improve_i2v(None, "a kite", "default", s, request())),
        "PromptHelp.improve_t2v": reads_no_owner(lambda s: helper.improve_t2v("a kite", "default", s, request())),
        "PromptHelp.improve_prompt": reads_no_owner(
            lambda s: helper.improve_prompt("a kite", "anime", None, request())
        ),
        "PromptHelp.write_variants": reads_no_owner(
            lambda s: helper.write_variants(
                {
                    **lab_values,
                    p.lab.mode: LAB_T2V,
                    p.lab.image: None,
                    helper.writer.idea: "a kite",
                    helper.writer.session: s,
                },
                request(),
            )
        ),
        "PromptHelp.use": reads_no_owner(lambda s: helper.use(helper.t2v, "a kite, improved", "a kite", None, s)),
        "PromptHelp.back": reads_no_owner(lambda s: helper.back(helper.t2v, "a kite", s)),
        # A link's note reads only the address; an upload's check only the image it is given.
        "image_note": reads_no_owner(lambda s: {0: image_note(request())}),
        "upload_checked": reads_no_owner(upload_check),
    }
    events = owner_events(demo, handlers)
    assert set(events) <= set(calls), f"an event without a forged-owner test: {set(events) - set(calls)}"
    assert {"Visitor.arrive", "History.list", "History.select", "History.resume", "Lab.run"} <= set(events)
    # Two events sharing one handler (image_to_video and text_to_video share _generate) share one
    # check: it runs once per forged session, for both.
    checks = list(dict.fromkeys(calls[name] for name in sorted(events)))
    for check in checks:
        for session in forged:
            check(session)
    asyncio.run(g.runner.backend.aclose())
    # The victims' rows are untouched, and none of them was polled or resumed.
    assert {job.owner for job in h.history.journal.all() if job.id in victim_ids} == {
        "cli",
        "api-xyz",
        victim_owner,
        "hf:bob",
    }
    assert not any("victim" in r.path for r in simulator.log)
    with h.history.journal._lock:  # every prompt-help call was counted for whoever the server saw, never the victim
        helped = {owner for (owner,) in h.history.journal._db.execute("SELECT owner FROM prompt_calls")}
    assert victim_owner not in helped


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_the_browsers_own_rows_are_found_with_its_signed_token_and_the_signed_in_users_with_the_profile(tmp_path):
    _, handlers, _ = build(tmp_path)
    session, owner = signed_session(handlers.generation.secret)
    t2v(handlers, session)
    t2v(handlers, {"token": "", "key": ""}, profile=alice())
    asyncio.run(handlers.generation.runner.backend.aclose())
    table = handlers.history.parts.history.table
    mine = asyncio.run(handlers.history.list(session, request()))[table].value["data"]
    alices = asyncio.run(handlers.history.list({"token": "", "key": ""}, request(), alice()))[table].value["data"]
    assert len(mine) == 1 and len(alices) == 1 and mine[0][-1] != alices[0][-1]
    assert {job.owner for job in handlers.history.journal.all()} == {owner, "hf:alice"}


# -- limits ------------------------------------------------------------------------------------


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_forged_forwarded_for_entries_do_not_reset_the_per_address_limit(tmp_path):
    _, handlers, simulator = build(tmp_path, tasks_per_hour_per_ip=2, tasks_per_hour_per_browser=1000)
    outcomes = []
    for n in range(5):
        forged = request("198.51.100.9", **{"x-forwarded-for": f"203.0.113.{n}, 10.0.0.{n}"})
        try:
            t2v(handlers, {"token": "", "key": ""}, forged)
            outcomes.append("clip")
        except gr.Error as exc:
            outcomes.append(str(exc))
    asyncio.run(handlers.generation.runner.backend.aclose())
    assert outcomes[:2] == ["clip", "clip"]
    assert all("2 clips per hour per address" in refusal for refusal in outcomes[2:])
    assert len(simulator.submits()) == 2


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_on_a_space_the_proxys_entry_counts_not_the_ones_the_client_wrote(tmp_path):
    _, handlers, simulator = build(tmp_path, space_id="me/kling", tasks_per_hour_per_ip=2)
    refused = 0
    for n in range(4):  # the client writes a new first entry each time; the proxy appends the real one
        try:
            t2v(handlers, None, request("10.0.0.1", **{"x-forwarded-for": f"203.0.113.{n}, 192.0.2.50"}))
        except gr.Error as exc:
            assert "per address" in str(exc)
            refused += 1
    other = t2v(handlers, None, request("10.0.0.1", **{"x-forwarded-for": "192.0.2.51"}))  # someone else
    asyncio.run(handlers.generation.runner.backend.aclose())
    assert refused == 2 and "Done" in other[-1].status and len(simulator.submits()) == 3


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_a_signed_in_user_keeps_their_limit_across_new_clients_and_addresses(tmp_path):
    _, handlers, simulator = build(tmp_path, tasks_per_hour_per_browser=2, tasks_per_hour_per_ip=1000)
    outcomes = []
    for n in range(4):  # each a new gradio_client.Client: no session, a new address
        try:
            t2v(handlers, None, request(f"198.51.100.{n}"), alice())
            outcomes.append("clip")
        except gr.Error as exc:
            outcomes.append(str(exc))
    bob = gr.OAuthProfile({"name": "Bob", "preferred_username": "bob", "profile": "", "picture": ""})
    bobs = t2v(handlers, None, request("198.51.100.1"), bob)
    asyncio.run(handlers.generation.runner.backend.aclose())
    assert outcomes[:2] == ["clip", "clip"] and all("per browser" in o for o in outcomes[2:])
    assert "Done" in bobs[-1].status and len(simulator.submits()) == 3


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_require_login_refuses_anonymous_use_of_the_servers_key_before_any_request(tmp_path):
    _, handlers, simulator = build(tmp_path, require_login=True)
    anonymous = {"token": "", "key": ""}
    with pytest.raises(gr.Error, match="signed in with Hugging Face") as caught:
        t2v(handlers, anonymous)
    assert caught.value.message == SIGN_IN_REFUSAL
    p = handlers.history.parts
    values = {p.lab.mode: "Text to Video", p.lab.image: None, p.lab.aspect_ratio: "16:9", p.lab.count: 2}
    values[p.session] = anonymous
    for slot in p.lab.slots:
        values.update(zip(slot.settings, ("a lantern", "", 0.5, 5)))
    (refused,) = asyncio.run(drain(handlers.lab.run(values, request())))
    assert refused == {p.lab.summary: f"### ⛔ Not sent, nothing was charged. {SIGN_IN_REFUSAL}"}
    assert list(simulator.log) == []  # nothing was sent
    signed_in = t2v(handlers, anonymous, profile=alice())
    own_key = t2v(handlers, {"token": "", "key": KEY})  # the visitor's own key (the simulator's only key)
    asyncio.run(handlers.generation.runner.backend.aclose())
    assert "Done" in signed_in[-1].status and "Done" in own_key[-1].status and len(simulator.submits()) == 2


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_require_login_leaves_the_free_preview_open(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", require_login=True)  # no key: preview
    studio = Studio.from_env(settings)
    _, handlers = studio.build_with_handlers()
    outputs = t2v(handlers, {"token": "", "key": ""})
    assert "Done" in outputs[-1].status and "not Kling output" in outputs[-1].status


def test_stop_waiting_reads_the_task_from_the_status_line(tmp_path):
    runner, _ = make_runner(tmp_path)
    g = generation_over(runner, tmp_path)
    assert "No task had been created" in g.stop_waiting("### ⏳ Submitting · 0:01", {"key": ""})
    said = g.stop_waiting("### ⏳ Processing · 0:12\n\nTask `abc123` · status **processing** · 3 status checks", None)
    assert "Task `abc123` is running in the background" in said and "still billed" in said


def test_the_browser_storage_secret_is_not_the_signing_key(tmp_path):
    demo, handlers, _ = build(tmp_path)
    config = str(demo.get_config_file())
    assert handlers.generation.secret.hex() not in config
    p = handlers.history.parts
    assert p.owner_store.secret and p.owner_store.secret != handlers.generation.secret.hex()


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_the_sign_in_button_only_on_a_space_with_oauth(tmp_path, monkeypatch):
    """Off a Space Gradio's sign-in stand-in would ask huggingface.co as the page is built."""

    def buttons(demo: gr.Blocks) -> list[gr.LoginButton]:
        return [block for block in demo.blocks.values() if isinstance(block, gr.LoginButton)]

    assert buttons(build(tmp_path / "off")[0]) == []
    assert buttons(build(tmp_path / "no-oauth", space_id="me/kling")[0]) == []
    assert buttons(build(tmp_path / "no-env", space_id="me/kling", hf_oauth=True)[0]) == []  # Gradio: not a Space
    import gradio.oauth

    monkeypatch.setenv("SYSTEM", "spaces")  # what a Space with hf_oauth: true has
    monkeypatch.setenv("SPACE_ID", "me/kling")
    for name, value in (("CLIENT_ID", "id"), ("CLIENT_SECRET", "s"), ("SCOPES", "openid profile")):
        monkeypatch.setattr(gradio.oauth, f"OAUTH_{name}", value)
    monkeypatch.setattr(gradio.oauth, "OPENID_PROVIDER_URL", "https://huggingface.co")
    (button,) = buttons(build(tmp_path / "space", space_id="me/kling", hf_oauth=True)[0])
    assert english(button.value) == "Sign in with Hugging Face"
    assert Settings.from_env({"SPACE_ID": "me/kling", "OAUTH_CLIENT_ID": "x"}, dotenv=False).sign_in
    assert not Settings.from_env({"OAUTH_CLIENT_ID": "x"}, dotenv=False).sign_in


# -- the launched app ----------------------------------------------------------------------------


@pytest.mark.slow
def test_launched_app_forged_forwarded_for_from_new_clients_hits_the_address_limit(tmp_path):
    config = sim_config(api_key=KEY, queue_s=0.2, process_s=0.5)
    with live_app_on_simulator(tmp_path, config, {"KLING_TASKS_PER_HOUR_PER_IP": "2"}) as app:
        from gradio_client.exceptions import AppError

        outcomes = []
        for n in range(5):
            client = app.client(headers={"X-Forwarded-For": f"203.0.113.{n}"})
            try:
                status, _, _ = client.predict("a kite", "", "16:9", 5, api_name="/text_to_video")
                outcomes.append("Done" in status)
            except AppError as exc:
                outcomes.append(str(exc))
        submits = len(app.simulator.submits())
    assert outcomes[:2] == [True, True]
    assert all("2 clips per hour per address" in str(o) for o in outcomes[2:]), outcomes
    assert submits == 2


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


@pytest.mark.slow
def test_launched_app_three_bombs_at_once_get_one_line_refusals_and_it_keeps_answering(tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png())
    app = launch_app(tmp_path, {})  # preview: nothing is paid
    try:
        client = app.client()
        client.predict("warm up", "", "16:9", 5, api_name="/text_to_video")
        Path(f"/proc/{app.process.pid}/clear_refs").write_text("5")  # reset the peak
        before = _peak_rss_mb(app.process.pid)
        jobs = [
            client.submit(handle_file(str(bomb)), "push in", "", 0.5, 5, None, api_name="/image_to_video")
            for _ in range(3)
        ]
        refusals = []
        for job in jobs:
            # The field is checked as the run is queued (the page's validator reads it): the refusal
            # is the join's 400 answer, before anything is queued or sent.
            with pytest.raises((AppError, httpx.HTTPStatusError)) as caught:
                job.result(timeout=120)
            error = caught.value
            refusals.append(error.response.json()["detail"] if isinstance(error, httpx.HTTPStatusError) else str(error))
        rise = _peak_rss_mb(app.process.pid) - before
        print(f"three bombs at once: peak memory +{rise:.0f} MB")
        status, clip, _ = client.predict("still here", "", "16:9", 5, api_name="/text_to_video")
    finally:
        stop(app)
    for refusal in refusals:
        assert "13000x13000 px" in refusal and "the limit is 89 megapixels" in refusal and "\n" not in refusal
        assert str(tmp_path) not in refusal
    assert rise < 500, f"peak memory rose {rise:.0f} MB"
    assert "Done" in status and clip.endswith(".mp4")


def _mcp_calls(url: str, calls: list[tuple[str, dict[str, Any], bool]]) -> list[Any]:
    mcp = pytest.importorskip("mcp")
    from mcp.client.streamable_http import streamablehttp_client

    async def go() -> list[Any]:
        results = []
        async with (
            streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _),
            mcp.ClientSession(read, write) as session,
        ):
            await session.initialize()
            for name, arguments, with_progress in calls:

                async def on_progress(done, total, message):
                    pass

                # No progress callback: the client sends no progressToken (Gradio's fast path).
                kwargs = {"progress_callback": on_progress} if with_progress else {}
                results.append(await session.call_tool(name, arguments, **kwargs))
        return results

    return asyncio.run(go())


@pytest.mark.slow
def test_an_mcp_call_with_or_without_a_progress_token_succeeds_once_and_is_paid_once(tmp_path):
    pytest.importorskip("mcp")
    import base64

    image = "data:image/png;base64," + base64.b64encode((ROOT / "assets" / "coffee.png").read_bytes()).decode()
    t2v_args = {"prompt": "a red kite over a beach", "negative_prompt": "", "aspect_ratio": "9:16", "duration": 5}
    i2v_args = {"image": image, "prompt": "push in", "negative_prompt": "", "guidance_scale": 0.5, "duration": 5}
    calls = [
        ("text_to_video", t2v_args, False),
        ("text_to_video", t2v_args, True),
        ("image_to_video", i2v_args, False),  # end_image omitted
        ("image_to_video", {**i2v_args, "end_image": None}, False),  # null: refused by the schema, unpaid
        ("image_to_video", {**i2v_args, "end_image": ""}, False),  # "": refused by Gradio's MCP layer, unpaid
    ]
    config = sim_config(api_key=KEY, queue_s=0.2, process_s=0.5)
    with live_app_on_simulator(tmp_path, config, {"KLING_MCP": "1"}) as app:
        results = _mcp_calls(app.url, calls)
        submits = len(app.simulator.submits())
        rows = len(Journal(app.data_dir / "jobs.sqlite3").all())
    for result in results[:3]:
        assert not result.isError, result
        text = " ".join(getattr(part, "text", "") or "" for part in result.content)
        assert "Done" in text and any(".mp4" in str(part) for part in result.content)
    # null or an empty string where a file goes is refused by Gradio's MCP layer itself, before the app runs.
    assert results[3].isError and "None is not of type 'string'" in results[3].content[0].text
    assert results[4].isError and "Invalid file data format" in results[4].content[0].text
    assert submits == 3 and rows == 3  # one each, none repeated, none for the refused calls


def test_max_file_size_reaches_launch(tmp_path):
    studio = Studio.from_env(Settings(data_dir=tmp_path / "data", gradio_max_file_size="7mb"))
    assert studio.launch_kwargs()["max_file_size"] == "7mb"
    assert studio.hf_users is None  # off a Space nothing asks huggingface.co about tokens


def test_the_page_image_fields_never_decode(tmp_path):
    from kling.app.image_input import ImageInput

    _, handlers, _ = build(tmp_path)
    p = handlers.history.parts
    assert all(isinstance(field, ImageInput) for field in (p.i2v.image, p.i2v.end_image, p.lab.image))
    # The browser gets gr.Image's props (its front end reads them): an empty set broke the page.
    props = p.i2v.image.get_config()
    assert english(props["label"]) == "Start image" and props["sources"] == ["upload", "clipboard"] and props["buttons"]
