"""Every handler of the page in one object, built once its components exist: one per tab, each in
its tab's module under `kling.app.tabs`. Short on purpose: validation lives in `kling.api.params`,
the background job in `kling.jobs.runner`, the words in `kling.app.views`. Handlers that fill the
page answer with a dict keyed by component, so a component they leave out keeps its value.
"""

from __future__ import annotations

from typing import Any

from kling.app.tabs.comeback import Comeback
from kling.app.tabs.examples import Examples
from kling.app.tabs.films import Films
from kling.app.tabs.generate import Generation
from kling.app.tabs.history import History
from kling.app.tabs.lab import Lab
from kling.app.tabs.visitor_session import Visitor
from kling.app.widgets import Parts
from kling.store.journal import Journal
from kling.store.showcase import ShowcaseClip


class Handlers:
    """Every handler of the page, built once its components exist."""

    prompt_help: Any = None  # kling.app.prompt_help.PromptHelp, set by the page once it is wired

    def __init__(
        self, generation: Generation, journal: Journal, parts: Parts, showcase: dict[str, ShowcaseClip] | None = None
    ) -> None:
        self.generation = generation
        self.examples = Examples(showcase or {}, parts)
        self.visitor = Visitor(generation, parts, showcase)
        self.history = History(generation, journal, parts)
        self.comeback = Comeback(generation, self.history, parts)
        self.lab = Lab(generation, parts)
        self.films = Films(generation, journal, parts)
