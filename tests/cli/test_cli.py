"""Every command and flag docs/CLI.md shows, run as a user runs it:
`python -m kling ...` in a subprocess, checked by exit code, stdout, stderr and what the server saw."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.fakes import KEY
from tests.helpers.launch import cli
from tests.helpers.media import image_bytes, probe
from tests.helpers.sim import simulator_process

pytestmark = pytest.mark.slow


def test_history_on_an_empty_data_folder_says_so(tmp_path):
    done = cli("history", key=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "No tasks in" in done.stderr and "Traceback" not in done.stderr


def test_t2v_with_aspect_ratio_and_out_then_history_lists_it(served_simulator, tmp_path):
    done = cli(
        "t2v",
        "--prompt",
        "a red kite over a beach",
        "--negative-prompt",
        "blur",
        "--aspect-ratio",
        "9:16",
        "--out",
        "kite.mp4",
        base_url=served_simulator.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    task_id, path = done.stdout.split()  # the id the moment it exists, then the path
    assert path == "kite.mp4"
    clip = probe(tmp_path / "kite.mp4")
    assert clip.height > clip.width  # 9:16
    [submit] = served_simulator.simulator.submits()
    assert submit.body["aspect_ratio"] == "9:16" and submit.body["negative_prompt"] == "blur"
    assert "$1.30" in done.stderr

    listed = cli("history", base_url=served_simulator.url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert task_id in line and "live" in line and "completed" in line and "$1.30" in line
    assert f"{task_id}.mp4" in line  # where the clip was saved


def test_i2v_with_end_image_and_duration_10(served_simulator, tmp_path):
    (tmp_path / "photo.jpg").write_bytes(image_bytes(800, 600, "JPEG"))
    (tmp_path / "end.png").write_bytes(image_bytes(800, 600, "PNG", color=(10, 200, 90)))
    done = cli(
        "i2v",
        "--image",
        "photo.jpg",
        "--prompt",
        "slow push-in",
        "--end-image",
        "end.png",
        "--duration",
        "10",
        "--guidance-scale",
        "0.7",
        base_url=served_simulator.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    task_id, path = done.stdout.split()
    assert path.endswith(f"{task_id}.mp4") and probe(path).seconds == pytest.approx(10, abs=0.1)
    [submit] = served_simulator.simulator.submits()
    assert submit.body["duration"] == 10 and submit.body["guidance_scale"] == 0.7
    assert submit.body["image"] and submit.body["end_image"] and submit.body["image"] != submit.body["end_image"]
    assert "$2.60" in done.stderr


def test_result_with_out_fetches_a_task_and_history_limit_keeps_the_newest(served_simulator, tmp_path):
    first = cli("t2v", "--prompt", "first", base_url=served_simulator.url, cwd=tmp_path)
    second = cli("t2v", "--prompt", "second", base_url=served_simulator.url, cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    older, newer = first.stdout.split()[0], second.stdout.split()[0]

    done = cli("result", older, "--out", "clip.mp4", base_url=served_simulator.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clip.mp4" and probe(tmp_path / "clip.mp4").codec == "h264"
    assert len(served_simulator.simulator.submits()) == 2  # a result never submits

    listed = cli("history", "--limit", "1", base_url=served_simulator.url, cwd=tmp_path)
    assert listed.returncode == 0 and newer in listed.stdout and older not in listed.stdout


def test_simulator_with_port_require_key_and_the_live_path_against_it(tmp_path):
    """docs/CLI.md: serve the simulator with --require-key, point the CLI at it with the key and base URL."""
    with simulator_process("--require-key", "test", "--time-scale", "0.05") as url:
        assert httpx.post(f"{url}/api/v3/kwaivgi/kling-v2.0-t2v-master", json={"prompt": "x"}).status_code == 401
        done = cli("t2v", "--prompt", "a kite", key="test", base_url=url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Live:" in done.stderr and "Preview mode" not in done.stderr
        assert probe(done.stdout.split()[1]).codec == "h264"
        wrong = cli("t2v", "--prompt", "a kite", key=KEY, base_url=url, cwd=tmp_path)
        assert wrong.returncode == 1 and "401" in wrong.stderr


def test_simulator_serves_on_the_port_it_is_given(tmp_path):
    with simulator_process() as url:
        assert httpx.get(f"{url}/_sim/log").status_code == 200


def test_prune_removes_old_paid_clips_keeps_their_rows_and_dry_run_removes_nothing(tmp_path):
    import time

    from kling.store.journal import Journal

    journal = Journal(tmp_path / "data" / "jobs.sqlite3")
    clips = {}
    for task_id, mode, age_days in (("old-paid", "live", 40), ("new-paid", "live", 1), ("old-prev", "preview", 40)):
        clip = tmp_path / "data" / "outputs" / f"{task_id}.mp4"
        clip.parent.mkdir(parents=True, exist_ok=True)
        clip.write_bytes(b"x" * 2000)
        clips[task_id] = clip
        journal.record(
            task_id=task_id,
            model="kwaivgi/kling-v2.0-t2v-master",
            mode=mode,
            owner="cli",
            key=KEY,
            params={"prompt": task_id},
            price_cents=130,
        )
        journal.update(task_id, status="completed", local_path=str(clip))
        journal._db.execute("UPDATE tasks SET updated = ? WHERE id = ?", (time.time() - age_days * 86400, task_id))
    journal.close()

    dry = cli("prune", "--older-than", "30", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.split() == ["old-paid", str(clips["old-paid"])] and "Would remove 1 paid clip" in dry.stderr
    assert all(clip.exists() for clip in clips.values())

    done = cli("prune", "--older-than", "30", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "old-paid" and "Removed 1 paid clip" in done.stderr
    assert not clips["old-paid"].exists() and clips["new-paid"].exists() and clips["old-prev"].exists()

    listed = cli("history", cwd=tmp_path)
    [line] = [line for line in listed.stdout.splitlines() if "old-paid" in line]
    assert "completed" in line and "clip pruned" in line  # the row stays and says so

    bad = cli("prune", "--older-than", "soon", cwd=tmp_path)
    assert bad.returncode == 2 and "--older-than must be a number of days" in bad.stderr


def test_uncertain_lists_lost_submits_with_their_candidates_and_adopt_and_dismiss_resolve_them(tmp_path):
    from kling.store.journal import Journal, short_hash

    journal = Journal(tmp_path / "data" / "jobs.sqlite3")
    model = "kwaivgi/kling-v2.0-t2v-master"
    ambiguous = journal.record_uncertain(
        model=model, owner="web-ann", key=KEY, params={}, price_cents=260, ip="1.1.1.1", candidates=("aa11", "bb22")
    )
    empty = journal.record_uncertain(model=model, owner="web-bob", key=KEY, params={}, price_cents=130, ip="2.2.2.2")
    journal.close()

    listed = cli("uncertain", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    first, second = listed.stdout.splitlines()
    assert ambiguous in first and "candidates: aa11, bb22" in first and "$2.60" in first and "web-ann" in first
    assert empty in second and "candidates: none" in second

    adopted = cli("adopt", ambiguous, "bb22", cwd=tmp_path)
    assert adopted.returncode == 0, adopted.stderr
    assert adopted.stdout.strip() == "bb22" and "python -m kling result bb22" in adopted.stderr
    again = cli("adopt", ambiguous, "aa11", cwd=tmp_path)  # resolved already: refused, nothing changed
    assert again.returncode == 2 and "not an open lost submit" in again.stderr
    assert cli("adopt", empty, "../etc", cwd=tmp_path).returncode == 2
    dismissed = cli("dismiss", empty, cwd=tmp_path)
    assert dismissed.returncode == 0, dismissed.stderr

    assert cli("uncertain", cwd=tmp_path).stdout == ""
    assert len(cli("uncertain", "--all", cwd=tmp_path).stdout.splitlines()) == 2
    journal = Journal(tmp_path / "data" / "jobs.sqlite3")
    job = journal.get("bb22")
    assert (job.owner, job.price_cents, job.ip_hash, job.status) == ("web-ann", 260, short_hash("1.1.1.1"), "created")
    assert journal.get("aa11") is None and journal.usage(key=KEY, since=0)[:2] == (1, 260)
