"""README's `python scripts/screenshots.py` run as documented (its own preview app, Debian's chromium),
writing into a temporary folder: the five pictures it promises, at the sizes it promises, each a
picture of the page rather than a blank frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tests.helpers.paths import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path("/usr/bin/chromium").exists():
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)", allow_module_level=True)


def test_the_screenshots_script_writes_its_five_pictures(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, "scripts/screenshots.py", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    names = {"i2v.png", "t2v.png", "clip.png", "phone.png", "zh-CN.png"}
    assert {p.name for p in out.iterdir()} == names
    assert sorted(Path(line).name for line in done.stdout.split()) == sorted(names)  # it says what it wrote
    sizes = {name: Image.open(out / name).size for name in names}
    assert sizes["i2v.png"] == sizes["t2v.png"] == sizes["zh-CN.png"] == (1280, 900)
    assert sizes["phone.png"] == (780, 1688)  # 390x844 at device scale 2
    assert sizes["clip.png"][0] == 1280 and sizes["clip.png"][1] >= 900  # the whole page
    for name in names:
        # A page has text, images and edges: far from one flat colour.
        spread = ImageStat.Stat(Image.open(out / name).convert("L")).stddev[0]
        assert spread > 10, f"{name} looks blank (grey-level spread {spread:.1f})"
