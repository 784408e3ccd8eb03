"""History's total and rows, and a failed run's status: counts read as words ("1 task", never
"1 tasks"), a task WaveSpeed failed is shown as refunded and left out of the spend, in English and
Chinese; a failure that was not WaveSpeed's `failed` (never sent, or completed without an output)
promises no refund."""

from __future__ import annotations

import pytest

from kling.api.models import Task
from kling.app.views import history_rows, history_total, job_markdown, status_markdown
from kling.errors import SubmitRefusedError, TaskFailedError
from kling.jobs.run import RunState
from kling.store.journal import Job
from tests.helpers.runner import a_job

I2V = "kwaivgi/kling-v2.0-i2v-master"


def job(task_id: str, status: str = "completed", mode: str = "live", price: int = 130, code: int | None = None) -> Job:
    made = 1_700_000_000.0
    return a_job(
        task_id, model=I2V, mode=mode, params={"prompt": "a cat"}, status=status, error_code=code,
        price_cents=price, created=made, updated=made,
    )  # fmt: skip


@pytest.mark.parametrize("count, en, zh", [(1, "**1 task**", "**共 1 个任务**"), (2, "**2 tasks**", "**共 2 个任务**")])
def test_the_total_counts_tasks_in_words_that_agree_with_the_number(count, en, zh):
    jobs = [job(f"t{n}") for n in range(count)]
    assert en in history_total(jobs, "en") and "1 tasks" not in history_total(jobs, "en")
    assert zh in history_total(jobs, "zh")


def test_failed_live_tasks_are_refunded_and_left_out_of_the_spend():
    jobs = [job("ok"), job("bad", status="failed", code=1001), job("sim", status="failed", mode="preview", price=130)]
    total = history_total(jobs, "en")
    assert "spent on live clips: **$1.30**" in total  # the failed $1.30 is not spent
    assert "1 failed, refunded by WaveSpeed and not counted" in total
    zh = history_total(jobs, "zh")
    assert "**$1.30**" in zh and "失败 1 个，WaveSpeed 已退款" in zh
    rows = {row[-1]: row for row in history_rows(jobs, lang="en")}
    assert rows["bad"][1] == "failed (1001), refunded"
    assert rows["bad"][5] == "$1.30 refunded"
    assert rows["ok"][5] == "$1.30" and rows["sim"][5] == "free"  # a preview failure cost nothing to refund
    assert "refunded" not in rows["sim"][1]
    assert history_rows(jobs, lang="zh")[1][5] == "$1.30 已退款"
    assert "Status: **failed (1001), refunded**" in job_markdown(jobs[1], "en")


def test_without_failures_the_total_says_nothing_of_refunds():
    assert "refund" not in history_total([job("a"), job("b")], "en")
    assert "退款" not in history_total([job("a")], "zh")


def failed_state(error, preview: bool = False) -> RunState:
    task = Task(id="abc123", model=I2V, status=getattr(error, "status", "failed"))
    return RunState(model=I2V, preview=preview, price_cents=130, started=0.0, stage="error", task=task, error=error)


def test_a_task_wavespeed_failed_says_the_price_comes_back_in_both_languages():
    state = failed_state(TaskFailedError("Task abc123 failed: busy", task_id="abc123", code=1001))
    en = status_markdown(state, now=10.0, lang="en")
    assert "WaveSpeed refunds a failed task: the $1.30 comes back" in en and "within a few hours" in en
    assert "$1.30 通常在几小时内退回" in status_markdown(state, now=10.0, lang="zh")
    preview = status_markdown(failed_state(state.error, preview=True), now=10.0, lang="en")
    assert "nothing was charged" in preview and "refunds" not in preview


@pytest.mark.parametrize(
    "error",
    [
        TaskFailedError("Task abc123 completed without an output.", task_id="abc123", status="completed"),
        SubmitRefusedError("bad prompt"),
    ],
    ids=["completed-without-output", "refused"],
)
def test_a_failure_that_was_not_wavespeeds_failed_promises_no_refund(error):
    assert "refund" not in status_markdown(failed_state(error), now=10.0, lang="en")


@pytest.mark.parametrize(
    ("status", "zh"), [("created", "已创建"), ("processing", "处理中"), ("completed", "已完成"), ("failed", "失败")]
)
def test_wavespeeds_task_status_is_named_in_the_pages_language(status, zh):
    task = Task(id="abc123", model=I2V, status=status)
    state = RunState(model=I2V, preview=False, price_cents=130, started=0.0, stage="done", task=task, polls=3)
    assert f"状态 **{zh}**" in status_markdown(state, now=10.0, lang="zh")
    assert f"status **{status}**" in status_markdown(state, now=10.0, lang="en")  # WaveSpeed's own word


def test_a_status_wavespeed_does_not_document_is_shown_as_it_came():
    task = Task(id="abc123", model=I2V, status="pending")
    state = RunState(model=I2V, preview=False, price_cents=130, started=0.0, stage="polled", task=task, polls=1)
    assert "状态 **pending**" in status_markdown(state, now=10.0, lang="zh")
    assert "处理中：可恢复" in history_rows([job("t1", status="processing")], set(), "zh")[0]  # History's too
