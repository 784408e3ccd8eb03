"""The simulator's model listing and price quote: WaveSpeed's catalog endpoints, answered from the
simulator's own copy of the model pages (`PARAMETERS`), never from kling.api.params.

The shapes follow the one client that reads each (docs/API.md, "The catalog"): the listing as
WaveSpeed's desktop app types it (`data: [{model_id, name, base_price, api_schema: {components:
{schemas: {Request: {type, properties, required}}}}}]`), the quote as that app reads its pricing
answer (`data.unit_price`, dollars). Unconfirmed: `maxLength` on the prompt (the app's type has no
such key; the page states 2500 characters), and the quote's request body on `/model/price` (the MCP
server's path; the body `{model_id, inputs}` is the desktop app's for `/model/pricing`).

Fault switches (`Faults.catalog`): "duration_removed" (10 s gone from every `duration` enum),
"field_renamed" (`negative_prompt` listed as `negative_prompts`), "not_found" (both endpoints 404),
"unknown_shape" (the listing's `data` an object, the quote's a string). `Faults.balance` sets what
`GET /api/v3/balance` answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kling.preview.faults import envelope
from kling.preview.models import API, PARAMETERS, Param
from kling.preview.routes import RouteTable, authorized

if TYPE_CHECKING:
    from kling.preview.simulator import Simulator

PRICE_PER_5S_USD = 1.30  # the model pages' table
_TYPES = {"string": "string", "image": "string", "number": "number", "integer": "integer"}


def _property(name: str, rule: Param, fault: str) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": _TYPES[rule.kind], "title": name.replace("_", " ").title()}
    if rule.kind == "image":
        prop["x-ui-component"] = "uploader"
    if rule.default is not None:
        prop["default"] = rule.default
    choices = list(rule.choices)
    if name == "duration" and fault == "duration_removed":
        choices = [c for c in choices if c != 10]
    if choices:
        prop["enum"] = choices
    if rule.minimum is not None:
        prop["minimum"], prop["maximum"] = rule.minimum, rule.maximum
        prop["x-ui-component"] = "slider"
    if rule.max_length is not None:
        prop["maxLength"] = rule.max_length
    return prop


def model_entry(model: str, table: dict[str, Param], fault: str) -> dict[str, Any]:
    properties = {}
    for name, rule in table.items():
        shown = "negative_prompts" if (name == "negative_prompt" and fault == "field_renamed") else name
        properties[shown] = _property(name, rule, fault)
    for hidden in ("enable_base64_output", "enable_sync_mode"):
        properties[hidden] = {"type": "boolean", "default": False}
    request = {"type": "object", "properties": properties, "required": [n for n, r in table.items() if r.required]}
    return {
        "model_id": model,
        "name": model.split("/")[-1],
        "type": "image-to-video" if "i2v" in model else "text-to-video",
        "base_price": PRICE_PER_5S_USD,
        "api_schema": {"openapi": "3.0.0", "components": {"schemas": {"Request": request}}},
    }


async def models(sim: Simulator, request: Request) -> Response:
    """GET /api/v3/models: each model's input schema, as the desktop app reads it."""
    denied = authorized(sim, request)
    if denied:
        return denied
    fault = sim.faults.catalog
    if fault == "not_found":
        return sim.faults.error(404, "Not Found")
    if fault == "unknown_shape":
        return JSONResponse(envelope({"items": "models moved"}))
    return JSONResponse(envelope([model_entry(m, table, fault) for m, table in PARAMETERS.items()]))


async def price(sim: Simulator, request: Request) -> Response:
    """POST /api/v3/model/price: a quote for one model's inputs, in dollars."""
    denied = authorized(sim, request)
    if denied:
        return denied
    fault = sim.faults.catalog
    if fault == "not_found":
        return sim.faults.error(404, "Not Found")
    try:
        body = await request.json()
    except ValueError:
        return sim.faults.error(400, "The request body is not valid JSON.")
    model = body.get("model_id") if isinstance(body, dict) else None
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if model not in PARAMETERS or not isinstance(inputs, dict):
        return sim.faults.error(400, "model_id and inputs are required")
    if fault == "unknown_shape":
        return JSONResponse(envelope("priced elsewhere"))
    seconds = inputs.get("duration", PARAMETERS[model]["duration"].default)
    if seconds not in PARAMETERS[model]["duration"].choices:
        return sim.faults.error(400, "duration must be one of 5, 10")
    return JSONResponse(envelope({"model_id": model, "unit_price": round(PRICE_PER_5S_USD * int(seconds) / 5, 2)}))


# Served before the submit catch-all (kling.preview.simulator.ROUTE_TABLES).
CATALOG: RouteTable = (
    (f"{API}/models", ("GET",), models),
    (f"{API}/model/price", ("POST",), price),
)
