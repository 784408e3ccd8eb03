"""The launched page's own queue, spoken over HTTP as a browser tab speaks it (for events with no API endpoint)."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

import httpx

from kling.app.views import task_id_in_status


class QueueError(Exception):
    """An event that ended in an error: the message the page would show."""


class PageVisitor:
    """One browser tab, speaking the page's queue protocol."""

    def __init__(self, url: str, lang: str = "en-US", token: str | None = None) -> None:
        self.url = url
        self.session_hash = secrets.token_hex(8)
        self.headers = {"Accept-Language": lang}
        config = httpx.get(f"{url}/config", headers=self.headers, timeout=30).json()
        self.events = {dep["api_name"]: dep for dep in config["dependencies"] if dep.get("api_name")}
        # The page's load: the browser's stored id (`token`: another tab of the same browser), or a
        # fresh signed one, kept in the session.
        self.token = self.call("arrive", token, "", 5, 5)[0]

    def call(self, api_name: str, *values: Any, timeout: float = 300, started: threading.Event | None = None) -> list:
        """Run a page event with `values` for its inputs (the session state is the server's) and
        return its last output; QueueError with the page's message when it fails."""
        event = self.events[api_name]
        data = list(values) + [None] * (len(event["inputs"]) - len(values))
        body = {"data": data, "fn_index": event["id"], "session_hash": self.session_hash, "trigger_id": None}
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout) as http:
            joined = http.post("/gradio_api/queue/join", json=body)
            if joined.status_code != 200:
                raise QueueError(joined.json().get("detail"))
            event_id = joined.json()["event_id"]
            params = {"session_hash": self.session_hash}
            with http.stream("GET", "/gradio_api/queue/data", params=params) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    if message.get("event_id") != event_id:
                        continue
                    if message.get("msg") == "process_starts" and started is not None:
                        started.set()
                    if message.get("msg") == "process_completed":
                        output = message.get("output") or {}
                        if not message.get("success"):
                            raise QueueError(output.get("error"))
                        return output["data"]
        raise QueueError("the stream ended without a result")

    def preview_clip(self, prompt: str, duration: int = 5) -> str:
        status = self.call("text_to_video", prompt, "", "16:9", duration)[0]
        task_id = task_id_in_status(status)
        assert task_id and "✅" in status, status
        return task_id

    def stitch(self, clips: list[str], crossfade: float = 0.0, started: threading.Event | None = None) -> list:
        self.call("list")  # History lists this browser's clips in the picker, as opening the tab does
        data = self.call("stitch", clips, crossfade, started=started)
        # A refusal is said in the stitch panel (no red toast): raised here with its reason.
        about = data[1] if isinstance(data[1], str) else ""
        for said in ("### ⛔ Not stitched, nothing was charged. ", "### ⛔ 未拼接，没有收费。"):
            if about.startswith(said):
                raise QueueError(about.removeprefix(said))
        return data
