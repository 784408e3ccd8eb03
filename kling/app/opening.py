"""The page's opening answer. Each request a first visit waits for delays the form's first click (a
round trip, then a redraw of what it changed), so everything the server says as a page opens is said
in one answer: `Visitor.arrive` restores the visitor and fills a link's form, then each part of the
page that needs the server at opening adds its updates through `Opening.add` (a reload's task, the
Lab's price, the Usage tab for an administrator, a shared clip's start image), and the page wires
one load event for all of them, once every part has been added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from kling.app.tabs.common import Session, Updates

# What one part of the page says at opening: its updates, given the visitor's restored session
# (its language, its signed id), the request and the signed-in profile.
Contribution = Callable[[Session, "gr.Request | None", "gr.OAuthProfile | None"], Awaitable[Updates]]


def merged(updates: Updates, more: Updates) -> Updates:
    """`updates` with `more` laid over it, except that a skip in `more` never hides a value already there."""
    skip = gr.skip()
    return updates | {
        component: value for component, value in more.items() if value != skip or component not in updates
    }


@dataclass
class Opening:
    """The parts added to the opening answer, and every component they may write."""

    outputs: list[Any] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)

    def add(self, outputs: Iterable[Any], contribution: Contribution) -> None:
        self.outputs.extend(component for component in outputs if component not in self.outputs)
        self.contributions.append(contribution)

    async def updates(
        self, session: Session, request: gr.Request | None, profile: gr.OAuthProfile | None, start: Updates
    ) -> Updates:
        """`start` (what the visitor's restore wrote), with each part's updates laid over it in turn."""
        for contribute in self.contributions:
            start = merged(start, await contribute(session, request, profile))
        return start
