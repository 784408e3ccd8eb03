"""The simulator's webhooks: when a task ends, its `data` (plus an `input` echo of the request) is
POSTed to the submit's `webhook` URL, signed as WaveSpeed signs it (Standard Webhooks, HMAC-SHA256).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


def sign_webhook(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 hex over "{id}.{timestamp}.{body}", keyed by the secret without `whsec_`."""
    key = secret.removeprefix("whsec_").encode()
    return hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


@dataclass
class WebhookSender:
    """Sends each delivery, and keeps the (status, text) of every answer it got."""

    transport: httpx.AsyncBaseTransport | None = None
    answers: list[tuple[int, str]] = field(default_factory=list)

    async def deliver(self, url: str, payload: dict[str, Any], *, secret: str, times: int = 1) -> None:
        """POST the payload `times` times (WaveSpeed may repeat a delivery), signed with `secret`."""
        body = json.dumps(payload).encode()
        message_id = f"msg_{uuid.uuid4().hex}"
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v3," + sign_webhook(secret, message_id, timestamp, body),
        }
        async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
            for _ in range(max(1, times)):
                try:
                    answer = await http.post(url, content=body, headers=headers)
                    self.answers.append((answer.status_code, answer.text[:100]))
                except httpx.HTTPError:
                    pass  # WaveSpeed does not promise delivery; the client's polling is the safety net
