"""The page's opening answer (kling.app.opening): each part's updates laid over what came before,
where a part that has nothing to say (a skip) never hides what an earlier part wrote."""

from __future__ import annotations

import asyncio

import gradio as gr

from kling.app.opening import Opening, merged


def test_a_skip_never_hides_an_earlier_value_but_a_value_replaces_one():
    image, tabs, status = object(), object(), object()
    start = {image: "prefilled.png", tabs: gr.skip()}
    assert merged(start, {image: gr.skip(), status: gr.skip()}) == {
        image: "prefilled.png",
        tabs: gr.skip(),
        status: gr.skip(),
    }
    assert merged(start, {image: "shared.png", tabs: "i2v"}) == {image: "shared.png", tabs: "i2v"}


def test_each_part_is_asked_in_turn_with_the_session_and_its_outputs_are_listed_once():
    price, tab, image = object(), object(), object()
    asked: list[tuple[str, object]] = []

    def part(name, answer):
        async def contribute(session, request, profile):
            asked.append((name, session["lang"]))
            return answer

        return contribute

    opening = Opening()
    opening.add([price, tab], part("lab", {price: "$2.60"}))
    opening.add([tab, image], part("usage", {tab: gr.Tab(visible=False), image: gr.skip()}))
    found = asyncio.run(opening.updates({"lang": "zh"}, None, None, {image: "link.png"}))
    assert asked == [("lab", "zh"), ("usage", "zh")]
    assert opening.outputs == [price, tab, image]
    assert found[price] == "$2.60" and found[image] == "link.png" and found[tab].visible is False
