"""The two model pages as the simulator reads them: the API's prefix, the model ids and each model's
parameter table (`PARAMETERS`), and the check of a submit's body against it (images apart: see
kling.preview.media). Its own copy, never kling.api.params: the client and the server may disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API = "/api/v3"
I2V_MODEL = "kwaivgi/kling-v2.0-i2v-master"
T2V_MODEL = "kwaivgi/kling-v2.0-t2v-master"


@dataclass(frozen=True)
class Param:
    """One row of a model page's parameter table."""

    kind: str  # "string", "number", "integer", "image"
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None


# The two model pages' tables, as WaveSpeed publishes them.
PARAMETERS: dict[str, dict[str, Param]] = {
    I2V_MODEL: {
        "image": Param("image", required=True),
        "end_image": Param("image"),
        "prompt": Param("string", required=True, max_length=2500),
        "negative_prompt": Param("string"),
        "guidance_scale": Param("number", default=0.5, minimum=0.0, maximum=1.0),
        "duration": Param("integer", default=5, choices=(5, 10)),
    },
    T2V_MODEL: {
        "prompt": Param("string", required=True, max_length=2500),
        "negative_prompt": Param("string"),
        "aspect_ratio": Param("string", default="16:9", choices=("16:9", "9:16", "1:1")),
        "duration": Param("integer", default=5, choices=(5, 10)),
    },
}
MODELS = set(PARAMETERS)


def check_body(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The body with defaults filled in, and every rule it breaks (images are checked apart)."""
    table = PARAMETERS[model]
    problems = [f"unknown parameter {name}" for name in sorted(set(body) - set(table))]
    values: dict[str, Any] = {}
    for name, rule in table.items():
        value = body.get(name, rule.default)
        if value is None or (rule.kind == "string" and value == "" and not rule.required):
            if rule.required:
                problems.append(f"{name} is required")
            continue
        if rule.kind == "integer" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # old examples sent "5"
        if rule.kind in ("string", "image") and not isinstance(value, str):
            problems.append(f"{name} must be a string")
        elif rule.kind == "string" and rule.required and not value.strip():
            problems.append(f"{name} is required")
        elif rule.kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"{name} must be an integer")
        elif rule.kind == "number" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            problems.append(f"{name} must be a number")
        elif rule.choices and value not in rule.choices:
            problems.append(f"{name} must be one of {', '.join(map(str, rule.choices))}")
        elif rule.minimum is not None and not rule.minimum <= value <= rule.maximum:
            problems.append(f"{name} must be between {rule.minimum} and {rule.maximum}")
        elif rule.max_length is not None and len(value) > rule.max_length:
            problems.append(f"{name} is longer than {rule.max_length} characters")
        values[name] = value
    return values, problems
