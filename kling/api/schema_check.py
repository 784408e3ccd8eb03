"""The API as it is today: WaveSpeed's live model schema and price quote, compared with what
kling.api.params enforces and the prices the page shows.

Two endpoints, neither in WaveSpeed's published docs (docs/API.md, "The catalog"):
- `GET /api/v3/models`, read by WaveSpeed's desktop app: `data` is a list of models, each with
  `model_id`, `base_price` and `api_schema.components.schemas.Request` (a JSON schema: `properties`
  with `type`, `enum`, `minimum`, `maximum`, `default`; `required`).
- `POST /api/v3/model/price` (the name WaveSpeed's MCP server uses; the desktop app asks
  `/api/v3/model/pricing`, tried when the first answers 404) with `{"model_id", "inputs"}`,
  answering `data.unit_price` in dollars (the desktop app's reading; `data.price` also read).

Both shapes are read defensively: a 404, an error or a shape not recognised is "not checked", never
a failure of anything else. The check is made only when asked (`python -m kling doctor`, the
Usage tab opened by an administrator), never at start-up and never on a visitor's request, and
its result is cached for `CACHE_S`. Nothing here costs money: neither endpoint makes a task.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from kling.api.client import AsyncKlingClient
from kling.api.params import (
    ASPECT_RATIOS,
    DURATIONS,
    GUIDANCE_MAX,
    GUIDANCE_MIN,
    I2V_MODEL,
    PROMPT_MAX_CHARS,
    T2V_MODEL,
    format_price,
    price_cents,
)

log = logging.getLogger("kling.api.schema_check")

MODELS_PATH = "/api/v3/models"
PRICE_PATHS = ("/api/v3/model/price", "/api/v3/model/pricing")
CACHE_S = 6 * 3600.0

# What kling.api.params sends and enforces, per model: the fields, and the rules the schema can state.
EXPECTED_FIELDS: dict[str, frozenset[str]] = {
    I2V_MODEL: frozenset({"image", "end_image", "prompt", "negative_prompt", "guidance_scale", "duration"}),
    T2V_MODEL: frozenset({"prompt", "negative_prompt", "aspect_ratio", "duration"}),
}
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    I2V_MODEL: frozenset({"image", "prompt"}),
    T2V_MODEL: frozenset({"prompt"}),
}
# Fields WaveSpeed adds to every model's schema that the page never sends (the desktop app hides them).
IGNORED_FIELDS = frozenset({"enable_base64_output", "enable_sync_mode", "seed"})


@dataclass(frozen=True)
class SchemaReport:
    """The check's outcome. `checked`: the schema was read and understood; `differences`: each
    one English line; `notes`: what could not be checked and why."""

    checked: bool
    differences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    price_checked: bool = False
    at: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        return self.checked and not self.differences

    def summary(self) -> str:
        """One line, for the log and the doctor."""
        if not self.checked:
            return "not checked: " + ("; ".join(self.notes) or "no answer")
        if not self.differences:
            priced = "" if self.price_checked else " (price not checked)"
            return f"the live schema matches what the page enforces{priced}"
        return f"{len(self.differences)} difference(s): " + "; ".join(self.differences)


def _request_schema(model: Mapping[str, Any]) -> Mapping[str, Any] | None:
    schema = model.get("api_schema")
    for step in ("components", "schemas", "Request"):
        schema = schema.get(step) if isinstance(schema, Mapping) else None
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        return schema
    return None


def _numbers(values: Any) -> set[float] | None:
    if not isinstance(values, list):
        return None
    try:
        return {float(v) for v in values}
    except (TypeError, ValueError):
        return None


def compare_model(model_id: str, schema: Mapping[str, Any]) -> list[str]:
    """Each way the live Request schema of `model_id` differs from kling.api.params."""
    props: Mapping[str, Any] = schema["properties"]
    live = set(props) - IGNORED_FIELDS
    expected = EXPECTED_FIELDS[model_id]
    name = model_id.split("/")[-1]
    found = [f"{name}: the page sends `{f}`, the live schema has no such field" for f in sorted(expected - live)]
    found += [f"{name}: the live schema has a field `{f}` the page does not know" for f in sorted(live - expected)]
    required = schema.get("required")
    if isinstance(required, list):
        for f in sorted(set(required) - REQUIRED_FIELDS[model_id] - IGNORED_FIELDS):
            found.append(f"{name}: the live schema requires `{f}`, the page does not")
    found += _rules(name, props)
    return found


def _prop(props: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = props.get(name)
    return value if isinstance(value, Mapping) else {}


def _rules(name: str, props: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    duration = _prop(props, "duration")
    live_durations = _numbers(duration.get("enum"))
    if live_durations is not None and live_durations != {float(d) for d in DURATIONS}:
        shown = ", ".join(f"{d:g}" for d in sorted(live_durations))
        found.append(f"{name}: durations are {shown} s live, the page offers {', '.join(map(str, DURATIONS))} s")
    guidance = _prop(props, "guidance_scale")
    low, high = guidance.get("minimum"), guidance.get("maximum")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)) and (low, high) != (GUIDANCE_MIN, GUIDANCE_MAX):
        allowed = f"{GUIDANCE_MIN:g} to {GUIDANCE_MAX:g}"
        found.append(f"{name}: guidance_scale is {low:g} to {high:g} live, the page allows {allowed}")
    aspect = _prop(props, "aspect_ratio")
    ratios = aspect.get("enum")
    if isinstance(ratios, list) and set(map(str, ratios)) != set(ASPECT_RATIOS):
        shown, offered = ", ".join(map(str, ratios)), ", ".join(ASPECT_RATIOS)
        found.append(f"{name}: aspect ratios are {shown} live, the page offers {offered}")
    prompt = _prop(props, "prompt")
    limit = prompt.get("maxLength")  # not in the desktop app's type: read when present
    if isinstance(limit, int) and limit != PROMPT_MAX_CHARS:
        found.append(f"{name}: the prompt limit is {limit} characters live, the page allows {PROMPT_MAX_CHARS}")
    return found


def compare_catalog(data: Any) -> tuple[bool, list[str], list[str]]:
    """(understood, differences, notes) for the `data` of GET /api/v3/models."""
    if not isinstance(data, list):
        return False, [], ["the model listing came in a shape this app does not know"]
    by_id = {m.get("model_id"): m for m in data if isinstance(m, Mapping)}
    differences: list[str] = []
    notes: list[str] = []
    understood = False
    for model_id in (I2V_MODEL, T2V_MODEL):
        model = by_id.get(model_id)
        if model is None:
            differences.append(f"{model_id.split('/')[-1]}: not in WaveSpeed's model listing")
            continue
        schema = _request_schema(model)
        if schema is None:
            notes.append(f"{model_id.split('/')[-1]}: its schema came in a shape this app does not know")
            continue
        understood = True
        differences += compare_model(model_id, schema)
        differences += _base_price(model_id, model.get("base_price"))
    return understood or bool(differences), differences, notes


def _base_price(model_id: str, base: Any) -> list[str]:
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        return []
    shown = price_cents(5)
    if round(base * 100) != shown:
        return [f"{model_id.split('/')[-1]}: base price ${base:.2f} live, the page shows {format_price(shown)} for 5 s"]
    return []


def _data(response: httpx.Response) -> tuple[Any, str | None]:
    """The envelope's `data`, or None and why it could not be read."""
    if response.status_code == 404:
        return None, f"{response.request.url.path} answered 404"
    try:
        body = response.json()
    except ValueError:
        return None, f"{response.request.url.path} did not answer JSON"
    if response.status_code != 200 or not isinstance(body, Mapping) or body.get("code", 200) != 200:
        code = body.get("code") if isinstance(body, Mapping) else None
        return None, f"{response.request.url.path} answered {response.status_code} (code {code})"
    return body.get("data"), None


async def _prices(client: AsyncKlingClient) -> tuple[bool, list[str], list[str]]:
    """Quote each duration the page offers (text to video) and compare with the page's prices."""
    note = ""
    for path in PRICE_PATHS:  # the MCP server's name first, then the desktop app's
        differences: list[str] = []
        checked = True
        for seconds in DURATIONS:
            body = {"model_id": T2V_MODEL, "inputs": {"prompt": "price check", "duration": seconds}}
            data, problem = _data(await client.catalog_request("POST", path, body))
            price = data.get("unit_price", data.get("price")) if isinstance(data, Mapping) else None
            if problem or isinstance(price, bool) or not isinstance(price, (int, float)):
                checked = False
                note = problem or f"{path}: the quote came in a shape this app does not know"
                break
            if round(price * 100) != price_cents(seconds):
                shown = format_price(price_cents(seconds))
                differences.append(f"price of a {seconds} s clip is ${price:.2f} live, the page shows {shown}")
        if checked:
            return True, differences, []
        if not note.endswith("404"):
            return False, [], [f"price not checked: {note}"]
    return False, [], [f"price not checked: {note}"]


async def check(client: AsyncKlingClient, *, now: float) -> SchemaReport:
    """Read the listing and the quotes and compare; never raises for what WaveSpeed answers."""
    differences: list[str]
    notes: list[str]
    try:
        data, problem = _data(await client.catalog_request("GET", MODELS_PATH))
        if problem:
            understood, differences, notes = False, [], [problem]
        else:
            understood, differences, notes = compare_catalog(data)
        priced, price_differences, price_notes = await _prices(client)
    except httpx.HTTPError as exc:
        return SchemaReport(False, notes=(f"WaveSpeed could not be reached ({type(exc).__name__})",), at=now)
    return SchemaReport(understood, tuple(differences + price_differences), tuple(notes + price_notes), priced, at=now)


class SchemaCheck:
    """The last check, kept for CACHE_S: one read per period however often it is asked for."""

    def __init__(self, *, clock: Callable[[], float] = time.time, cache_s: float = CACHE_S) -> None:
        self._clock = clock
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self.last: SchemaReport | None = None

    def fresh(self) -> SchemaReport | None:
        with self._lock:
            last = self.last
        if last is not None and self._clock() - last.at < self._cache_s:
            return last
        return None

    async def get(self, client: AsyncKlingClient) -> SchemaReport:
        cached = self.fresh()
        if cached is not None:
            return cached
        report = await check(client, now=self._clock())
        with self._lock:
            self.last = report
        (log.warning if report.differences else log.info)("WaveSpeed's live schema and price: %s", report.summary())
        return report
