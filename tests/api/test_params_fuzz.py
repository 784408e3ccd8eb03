"""Hostile input: anything for every parameter, random bytes as images. The only exception ever
raised is ValidationError, and refused input never produces a request."""

from __future__ import annotations

import asyncio
import random

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling.api.client import AsyncKlingClient
from kling.api.models import PollPolicy
from kling.api.params import ASPECT_RATIOS, I2VRequest, T2VRequest
from kling.app.tabs.generate import field_checks
from kling.errors import ValidationError
from tests.helpers.fakes import KEY, FakeAPI, FakeTime
from tests.helpers.media import image_bytes

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.lists(st.integers(), max_size=3),
)
# Lone surrogates too (a str holds them, no UTF-8 request can): Hypothesis's text() never draws them.
SURROGATES = st.text(alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=40)
PROMPTS = st.one_of(st.text(max_size=2600), st.text(min_size=2490, max_size=2510), SURROGATES, ANYTHING)
DURATIONS = st.one_of(st.sampled_from([5, 10, "5", "10", 5.0, 7, "7", -5, 0, True]), ANYTHING)
GUIDANCE = st.one_of(st.floats(-2, 3), st.sampled_from([0.0, 1.0, "0.5", float("nan"), float("inf")]), ANYTHING)
ASPECTS = st.one_of(st.sampled_from(ASPECT_RATIOS), ANYTHING)
GOOD_IMAGE = image_bytes(400, 400)
IMAGES = st.one_of(
    st.binary(max_size=2048),
    st.just(GOOD_IMAGE),
    st.builds(lambda cut: GOOD_IMAGE[:cut], st.integers(0, len(GOOD_IMAGE))),  # truncated
    st.sampled_from(["", "not a url", "ftp://x/y.png", "https://example.com/a.png", "data:image/png;base64,!!"]),
    ANYTHING,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def submit_counting_requests(request) -> tuple[BaseException | None, int]:
    api = FakeAPI()
    clock = FakeTime()
    client = AsyncKlingClient(
        KEY,
        base_url="https://api.example",
        transport=httpx.MockTransport(api),
        poll=PollPolicy(first=0, jitter=0),
        sleep=clock.sleep,
        clock=clock.clock,
        rng=random.Random(0),
    )
    try:
        asyncio.run(client.submit(request))
    except BaseException as exc:  # noqa: BLE001 - the test is about which exceptions escape
        return exc, len(api.requests)
    return None, len(api.requests)


@FAST
@given(prompt=PROMPTS, negative=PROMPTS, aspect=ASPECTS, duration=DURATIONS)
def test_t2v_anything(prompt, negative, aspect, duration):
    request = T2VRequest(prompt=prompt, negative_prompt=negative, aspect_ratio=aspect, duration=duration)
    error, requests = submit_counting_requests(request)
    assert error is None or isinstance(error, ValidationError), repr(error)
    assert (requests == 0) == (error is not None)
    names = ["prompt", "negative_prompt", "aspect_ratio", "duration", "session"]
    checks = field_checks(request, names)
    assert len(checks) == len(names)
    assert all(check["is_valid"] for check in checks) == (error is None)


@FAST
@given(image=IMAGES, end=st.one_of(st.none(), IMAGES), prompt=PROMPTS, guidance=GUIDANCE, duration=DURATIONS)
def test_i2v_anything(image, end, prompt, guidance, duration):
    request = I2VRequest(image=image, prompt=prompt, guidance_scale=guidance, duration=duration, end_image=end)
    error, requests = submit_counting_requests(request)
    assert error is None or isinstance(error, ValidationError), repr(error)
    if error is not None:
        assert requests == 0
    names = ["image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image", "session"]
    checks = field_checks(request, names)
    assert len(checks) == len(names)
    assert all(check["is_valid"] for check in checks) == (error is None)
