"""A request is checked once: `validate()` marks the copy it returns, the runner, the client and
`payload()` take a marked request as it is, and any change to it drops the mark."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from kling.api import params
from kling.api.params import I2VRequest, T2VRequest
from kling.errors import ValidationError
from kling.media.images import PreparedImage
from tests.helpers.media import image_bytes
from tests.helpers.runner import finish, make_runner


@pytest.fixture
def checks(monkeypatch) -> Counter[str]:
    """How often each text field is checked: `_text` still runs, each call is counted."""
    counted: Counter[str] = Counter()
    text = params._text

    def counting(value, field, *args):
        counted[field] += 1
        return text(value, field, *args)

    monkeypatch.setattr(params, "_text", counting)
    return counted


def test_validate_marks_its_copy_and_a_marked_request_is_handed_back_as_is(checks):
    unchecked = T2VRequest(prompt=" a kite ", duration="10")  # type: ignore[arg-type]
    checked = unchecked.validate()
    assert not unchecked.checked and checked.checked and checked is not unchecked
    assert checked.validate() is checked
    assert checked.payload() == {"prompt": "a kite", "aspect_ratio": "16:9", "duration": 10}
    assert checks["prompt"] == 1  # validate, then nothing more for validate() and payload()


def test_the_mark_is_not_a_constructor_argument_and_a_changed_request_is_checked_again():
    with pytest.raises(TypeError):
        T2VRequest(prompt="x", _checked=True)  # type: ignore[call-arg]
    checked = T2VRequest(prompt="a kite").validate()
    changed = dataclasses.replace(checked, duration=7)
    assert not changed.checked
    with pytest.raises(ValidationError, match="duration"):
        changed.payload()


def test_an_uploaded_i2v_request_stays_checked_and_still_sends_only_urls(checks):
    checked = I2VRequest(image=image_bytes(600, 600), prompt="go").validate()
    assert isinstance(checked.image, PreparedImage)
    with pytest.raises(TypeError):
        checked.payload()  # the client must upload or inline the PreparedImage first
    sent = checked.sent_as("https://cdn.x/a.png", None)
    assert sent.checked and not I2VRequest(image="https://cdn.x/a.png", prompt="go").sent_as("x", None).checked
    assert sent.payload() == {"image": "https://cdn.x/a.png", "prompt": "go", "guidance_scale": 0.5, "duration": 5}
    assert checks["prompt"] == 1
    with pytest.raises(ValidationError, match="upload the file first"):
        checked.sent_as("/tmp/a.png", None).payload()  # the images are looked at whatever the mark


@pytest.mark.parametrize("given_checked", [False, True])
def test_a_run_checks_its_request_once(tmp_path, fake_time, checks, given_checked):
    """Runner.start, the client's stream and payload() used to check the request again each."""
    runner, sim = make_runner(tmp_path, fake_time=fake_time)
    request = T2VRequest(prompt="a kite")
    if given_checked:  # as the page hands it over: checked in its own thread beforehand
        request = request.validate()

    async def go():
        state = await finish(runner.start(request, owner="browser-a"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    assert state.error is None and len(sim.submits()) == 1
    assert checks["prompt"] == 1 and checks["negative_prompt"] == 1
