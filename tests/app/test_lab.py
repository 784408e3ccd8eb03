"""Prompt Lab, the director's brief, shareable links, `--share`, and the MCP tools."""

from __future__ import annotations

import asyncio
import html
import os
import subprocess
import sys
from types import SimpleNamespace

import gradio as gr
import httpx
import pytest

from kling.app.views import compose_brief, settings_from_query
from kling.errors import ValidationError
from kling.jobs import lab
from tests.helpers.fakes import KEY
from tests.helpers.launch import launch_app, stop
from tests.helpers.media import image_bytes
from tests.helpers.page import page_handlers
from tests.helpers.paths import ROOT
from tests.helpers.runner import make_runner
from tests.helpers.sim import free_port


def test_the_brief_composes_sentences_in_the_guides_order():
    assert compose_brief("the cat turns its head", " wind in the grass ", "slow push-in.", "") == (
        "The cat turns its head. Wind in the grass. Slow push-in."
    )
    assert compose_brief("", "", "", "") == ""


def test_a_link_fills_only_known_checked_settings():
    found = settings_from_query(
        {
            "tab": "t2v",
            "prompt": "a kite",
            "duration": "10",
            "aspect_ratio": "9:16",
            "api_key": KEY,
            "guidance_scale": "7",
            "negative_prompt": "blur",
        }
    )
    assert found == {
        "tab": "t2v",
        "prompt": "a kite",
        "negative_prompt": "blur",
        "duration": 10,
        "aspect_ratio": "9:16",
    }
    assert settings_from_query({"tab": "admin", "duration": "7", "aspect_ratio": "4:3"}) == {"tab": None}


def test_prefill_puts_a_links_settings_on_its_tab(tmp_path):
    runner, _ = make_runner(tmp_path)
    visitor = page_handlers(runner, tmp_path).visitor
    t2v = visitor.parts.t2v
    request = SimpleNamespace(query_params={"tab": "t2v", "prompt": "a kite", "aspect_ratio": "1:1", "duration": "10"})
    filled = visitor.prefill(request)
    assert filled[visitor.parts.tabs].selected == "t2v"
    assert filled == {  # only what the link carries, only on its tab
        visitor.parts.tabs: filled[visitor.parts.tabs],
        t2v.text.prompt: "a kite",
        t2v.aspect_ratio: "1:1",
        t2v.duration: 10,
    }
    assert visitor.prefill(SimpleNamespace(query_params={})) == {visitor.parts.tabs: gr.skip()}


def test_differences_name_only_what_varies():
    variants = [lab.Variant("a fox", guidance_scale=0.3), lab.Variant("a fox", guidance_scale=0.8, duration=10)]
    assert lab.differences(variants, i2v=True) == ["A: guidance 0.3; 5 s", "B: guidance 0.8; 10 s"]
    assert lab.differences([lab.Variant("x"), lab.Variant("x")], i2v=False)[1] == "B: same settings (a second take)"


def test_the_total_price_is_shown_before_running():
    assert lab.total_price_text([5, 10, 5], preview=False) == "3 variants: $5.20 in all"
    assert lab.total_price_text([5, 5], preview=True) == "2 variants: free preview (simulated clips)"


def test_every_problem_of_every_variant_at_once():
    variants = [lab.Variant("ok"), lab.Variant("", duration=7), lab.Variant("x" * 2501)]
    with pytest.raises(ValidationError) as caught:
        lab.validated(variants, image=None, aspect_ratio="16:9")
    fields = [p.field for p in caught.value.problems]
    assert fields == ["Variant B prompt", "Variant B duration", "Variant C prompt"]
    with pytest.raises(ValidationError, match="image"):
        lab.validated([lab.Variant("a"), lab.Variant("b")], image=image_bytes(100, 100), aspect_ratio="16:9")


def lab_values(lab_handlers, mode, image, count, variants) -> dict:
    """What Gradio hands the Lab's handlers: every input, keyed by its component."""
    form, session = lab_handlers.parts.lab, lab_handlers.parts.session
    values = {
        form.mode: mode,
        form.image: image,
        form.aspect_ratio: "16:9",
        form.count: count,
        session: {"token": "", "key": ""},
    }
    for slot, settings in zip(form.slots, variants):
        values.update(zip(slot.settings, settings))
    return values


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_the_lab_runs_variants_at_once_side_by_side(tmp_path):
    runner, sim = make_runner(tmp_path)
    lab_handlers = page_handlers(runner, tmp_path).lab
    form = lab_handlers.parts.lab
    photo = tmp_path / "start.png"
    photo.write_bytes(image_bytes(640, 480))
    variants = [
        ("slow push-in", "", 0.3, 5),
        ("camera orbits", "", 0.8, 5),
        ("pan left", "blur", 0.5, 10),
        ("", "", 0.5, 5),
    ]
    values = lab_values(lab_handlers, "Image to Video", str(photo), 3, variants)

    async def go():
        outputs = []
        async for update in lab_handlers.run(values):
            outputs.append(update)
        await runner.backend.aclose()
        return outputs

    outputs = asyncio.run(go())
    last = outputs[-1]
    statuses = [html.unescape(last[slot.status]) for slot in form.slots[:3]]  # as the browser shows them
    assert last[form.summary] == "3 of 3 variants done."
    assert all(last[slot.video].endswith(".mp4") for slot in form.slots[:3])
    assert form.slots[3].status not in last and form.slots[3].video not in last  # the unused slot is untouched
    assert statuses[0].startswith("**A: “slow push-in”; negative: (none); guidance 0.3; 5 s**")
    assert statuses[2].startswith("**C: “pan left”; negative: blur; guidance 0.5; 10 s**")
    assert len(sim.submits()) == 3 and len(runner.journal.all()) == 3
    # All three were submitted before the first of them finished: they ran at once.
    first_done = min(i for i, update in enumerate(outputs) if any(update[slot.video] for slot in form.slots[:3]))
    assert all("Task `" in outputs[first_done][slot.status] for slot in form.slots[:3])


def test_invalid_variants_send_nothing(tmp_path):
    runner, sim = make_runner(tmp_path)
    lab_handlers = page_handlers(runner, tmp_path).lab
    variants = [("fine", "", 0.5, 5), ("x" * 2600, "", 0.5, 5)] + [("", "", 0.5, 5)] * 2
    values = lab_values(lab_handlers, "Text to Video", None, 2, variants)

    async def go():
        return [update async for update in lab_handlers.run(values)]

    (refused,) = asyncio.run(go())  # said in the summary as the generate tabs say theirs: no red "Error"
    summary = refused[lab_handlers.parts.lab.summary]
    assert summary.startswith("### ⛔ Not sent, nothing was charged.") and "Variant B prompt" in summary
    assert set(refused) == {lab_handlers.parts.lab.summary}  # no slot is touched (no badge in each)
    assert list(sim.log) == []


def test_opening_the_lab_carries_the_image_over_only_into_an_empty_lab(tmp_path):
    runner, _ = make_runner(tmp_path)
    lab_handlers = page_handlers(runner, tmp_path).lab
    parts = lab_handlers.parts
    form, start = parts.lab, str(tmp_path / "on-i2v.png")

    def opened(i2v_image, lab_image, lang="en"):
        return lab_handlers.carry_over(
            {parts.i2v.image: i2v_image, form.image: lab_image, parts.session: {"lang": lang}}
        )

    carried = opened(start, None)
    assert carried[form.image] == start
    assert carried[form.image_note].visible and "brought over" in carried[form.image_note].value
    assert "带过来" in opened(start, None, lang="zh")[form.image_note].value
    skipped = gr.skip()
    kept = opened(start, str(tmp_path / "the-labs-own.png"))  # the visitor's own image in the Lab stays
    assert kept == {form.image: skipped, form.image_note: skipped}
    assert opened(None, None) == {form.image: skipped, form.image_note: skipped}  # nothing to bring


@pytest.mark.slow
def test_help_lists_host_port_and_share():
    done = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for flag in ("--host", "--port", "--share"):
        assert flag in done.stdout


@pytest.mark.slow
def test_share_without_a_tunnel_still_serves_and_says_why_in_one_line(tmp_path):
    port = free_port()
    env = {**os.environ, "KLING_DATA_DIR": str(tmp_path), "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    env.pop("WAVESPEED_API_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "app.py", "--share", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line.strip())
            if "share link" in line.lower() or "public url" in line.lower():
                break
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        said = [line for line in lines if "share link" in line.lower() or "public url" in line.lower()]
        assert len(said) == 1, lines
        assert said[0].startswith("No public share link: ") or "gradio.live" in said[0]
        assert not any("frpc" in line for line in lines)  # no page of download instructions
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_mcp_lists_both_tools_with_every_parameter_described(tmp_path):
    pytest.importorskip("mcp")
    app = launch_app(tmp_path, {"KLING_MCP": "1"})
    try:
        tools = {tool["name"]: tool for tool in httpx.get(f"{app.url}/gradio_api/mcp/schema").json()}
    finally:
        stop(app)
    assert {"image_to_video", "text_to_video", "improve_prompt"} <= set(tools)
    optimizer = tools["improve_prompt"]["inputSchema"]["properties"]
    assert (
        list(optimizer) == ["prompt", "style", "image"] and "prompt optimizer" in tools["improve_prompt"]["description"]
    )
    expected = {
        "image_to_video": ["image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image"],
        "text_to_video": ["prompt", "negative_prompt", "aspect_ratio", "duration"],
    }
    for name, params in expected.items():
        properties = tools[name]["inputSchema"]["properties"]
        assert list(properties) == params
        assert all(len(properties[p]["description"]) > 10 for p in params)
        assert properties["duration"]["type"] == "integer" and properties["duration"]["enum"] == [5, 10]
        assert "Kling v2.0 master" in tools[name]["description"]
    assert not any(name.startswith(("run", "lambda", "stop", "restore")) for name in tools)  # helpers stay private


@pytest.mark.slow
def test_an_mcp_client_lists_and_calls_the_text_to_video_tool(tmp_path):
    mcp = pytest.importorskip("mcp")
    from mcp.client.streamable_http import streamablehttp_client

    app = launch_app(tmp_path, {"KLING_MCP": "1"})
    progress: list[str] = []

    async def go():
        async with (
            streamablehttp_client(f"{app.url}/gradio_api/mcp/") as (read, write, _),
            mcp.ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = {tool.name for tool in (await session.list_tools()).tools}

            async def on_progress(done, total, message):
                progress.append(message or "")

            result = await session.call_tool(
                "text_to_video",
                {"prompt": "a red kite over a beach", "negative_prompt": "", "aspect_ratio": "9:16", "duration": 5},
                progress_callback=on_progress,
            )
            return names, result

    try:
        names, result = asyncio.run(go())
    finally:
        stop(app)
    assert {"image_to_video", "text_to_video"} <= names
    assert not result.isError, result
    text = " ".join(getattr(part, "text", "") or "" for part in result.content)
    assert "Done" in text and "not Kling output" in text  # the final status, as a preview
    assert any(".mp4" in str(part) for part in result.content)
    assert progress, "no progress notification reached the client"
