"""What can go wrong, switched per test: the `Faults` switches (one-shot submit and poll faults, task
endings, error shapes, retired endpoints) and the answers they make (WaveSpeed's envelope in its
error shapes, a gateway's HTML page, a dropped connection).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from http import HTTPStatus
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response

SUBMIT_FAULTS = {
    # refused outright, no task made
    "401",
    "402",
    "403",
    "429",
    "500_before_create",
    "503",
    "refused_in_200",  # HTTP 200, body code 400 with a reason: refused, no task
    "insufficient_in_200",  # HTTP 200, body code 402: no credit, no task
    "busy_in_200",  # HTTP 200, body code 503: refused before any task, may be sent again
    "image_unfetchable",  # 400 whose data.error says the image could not be fetched
    # the task is made, then the answer goes wrong
    "500",
    "502",
    "504",
    "drop",
    "timeout",
}
POLL_FAULTS = {"429", "500", "502", "503", "504", "timeout", "drop", "null_data", "not_json", "404"}


@dataclass
class Faults:
    """Switches a test flips. `submit` and `poll` are one-shot queues, consumed in order."""

    submit: list[str] = field(default_factory=list)
    poll: list[str] = field(default_factory=list)
    fail_code: int | None = None  # new tasks end `failed` with this data.code
    final_status: str | None = None  # new tasks end with this status instead (e.g. "cancelled")
    nsfw: bool = False
    stuck: bool = False  # new tasks never leave `processing`
    expire_outputs: bool = False  # output URLs answer 404
    retry_after: int = 1
    hang_s: float = 30.0  # how long a "timeout" fault keeps the client waiting
    # New tasks answer this status (say "pending") instead of created/processing for the first
    # `undocumented_share` of their run: a status the docs do not list, while the task runs.
    undocumented_status: str | None = None
    undocumented_share: float = 0.5
    # Where an error answer puts its reason: "message" ({"code","message":reason,"data":null}),
    # "data_error" (WaveSpeed's OpenAPI: "message":"Bad Request","data":{"error":reason}), "error".
    error_shape: str = "message"
    binary_upload_status: int | None = None  # 404/405: the binary upload endpoint is retired
    listing: bool = True  # POST /api/v3/predictions answers (False: 404)
    webhook_deliveries: int = 1  # each webhook is sent this many times (WaveSpeed may repeat one)
    balance: float = 100.0  # what GET /api/v3/balance answers, in dollars
    # The catalog (kling/preview/catalog.py): "" as read, or "duration_removed", "field_renamed",
    # "not_found", "unknown_shape".
    catalog: str = ""

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault switches: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(self, name, value)

    def error(
        self, status: int, message: str, headers: dict[str, str] | None = None, *, http: int | None = None
    ) -> JSONResponse:
        """An error answer in the shape the switches ask for."""
        return error_response(status, message, headers, shape=self.error_shape, http=http)

    def next_submit(self) -> str | None:
        return self.submit.pop(0) if self.submit else None

    def next_poll(self) -> str | None:
        return self.poll.pop(0) if self.poll else None


class Dropped(httpx.RemoteProtocolError):
    """Raised inside a handler to cut the connection: uvicorn closes it, ASGITransport raises it."""


def envelope(data: Any, code: int = 200, message: str = "success") -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, *, shape: str = "message", http: int | None = None
) -> JSONResponse:
    if shape == "data_error":
        body: dict[str, Any] = envelope({"error": message}, status, HTTPStatus(status).phrase)
    elif shape == "error":
        body = {"error": message}
    else:
        body = envelope(None, status, message)
    return JSONResponse(body, status_code=http or status, headers=headers)


def refusal(faults: Faults, fault: str | None) -> Response | None:
    """The answer of a submit fault that refuses before any task is made; None for the others."""
    if fault is None or fault not in SUBMIT_FAULTS:
        return None
    retry = {"Retry-After": str(faults.retry_after)}
    err = faults.error
    return {
        "401": lambda: err(401, "Unauthorized: invalid API key"),
        "402": lambda: err(402, "Insufficient credits"),
        "403": lambda: err(403, "Account suspended"),
        "429": lambda: err(429, "Rate limit exceeded", retry),
        "503": lambda: err(503, "Service temporarily unavailable", retry),
        "500_before_create": lambda: err(500, "Internal server error"),
        "refused_in_200": lambda: err(400, "prompt: rejected by the safety filter", http=200),
        "insufficient_in_200": lambda: err(402, "Insufficient balance", http=200),
        "busy_in_200": lambda: err(503, "Service temporarily unavailable", retry, http=200),
        "image_unfetchable": lambda: error_response(
            400, "Failed to fetch image from url: the server answered 403 Forbidden", shape="data_error"
        ),
    }.get(fault, lambda: None)()


def after_create(faults: Faults, fault: str | None) -> Response | None:
    """The answer of a submit fault that strikes once the task exists (None: answer normally);
    "drop" cuts the connection instead."""
    if fault == "500":
        return faults.error(500, "Internal server error")
    if fault in ("502", "504"):
        # A gateway in front of the API answers, with its own HTML page: the task exists.
        title = "502 Bad Gateway" if fault == "502" else "504 Gateway Time-out"
        page = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
        return Response(
            page + "<hr><center>nginx</center></body></html>" + " " * 600, int(fault), media_type="text/html"
        )
    if fault == "drop":
        raise Dropped("simulated: connection dropped after the task was created")
    return None
