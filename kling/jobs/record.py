"""What one run leaves behind: its journal row (written before the first poll), its spend
reservation (released once the row counts, kept while the outcome is unknown), and its lost submit
when nothing identified the task."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kling.api.models import Request, Task
from kling.api.params import I2VRequest
from kling.errors import DownloadError, NotFoundError, SubmitUncertainError, TaskFailedError
from kling.jobs.guard import Reservation
from kling.jobs.run import Run, RunState
from kling.media.images import PreparedImage
from kling.store.journal import UNKNOWN, Journal
from kling.store.stamps import stamp_clip

if TYPE_CHECKING:
    from kling.jobs.runner import Runner


class RunRecord:
    """What one run leaves behind: its journal row, its spend reservation, its registration so a
    later resume joins this wait. One method per event; `on_state` is the run's listener."""

    def __init__(
        self,
        runner: Runner,
        owner: str,
        key: str | None,
        params: dict[str, Any],
        *,
        ip: str = "",
        reservation: Reservation | None = None,
        continues: str | None = None,
        typed: bool = False,
    ) -> None:
        self.runner = runner
        self.owner, self.key, self.params, self.ip = owner, key, params, ip
        self.continues = continues  # the task whose last frame this one starts from
        self.reservation = reservation
        # A task id someone typed that the journal does not hold: it is journaled only once
        # WaveSpeed has answered it with a task, so unknown ids leave nothing behind.
        self.typed = typed
        self.resumed = False  # the run waits for a task made earlier, not for its own submit
        self.run: Run | None = None
        self.task_id: str | None = None
        self.status = ""

    def on_state(self, state: RunState) -> None:
        answered = not self.typed or state.stage == "polled"
        if state.task is not None and state.task.id != self.task_id and answered:
            self.submitted(state, state.task)
        if state.stage in ("done", "error"):
            self.finished(state)
        elif self.task_id is not None:
            self.status_changed(state)

    def submitted(self, state: RunState, task: Task) -> None:
        """The task exists (made, recovered, or resumed): journal it before the first poll, and
        from then on it counts against the spend guard through its row, not the reservation."""
        self.task_id = task.id
        runner, journal = self.runner, self.runner.journal
        if state.stage == "submitted" and self.run is not None:
            runner._runs.setdefault(task.id, self.run)  # a later resume joins this wait
        if journal is not None and self.typed and journal.get(task.id) is None:
            self._record_typed(journal, state, task)
        elif journal is not None and (state.stage == "submitted" or journal.get(task.id) is None):
            journal.record(
                task_id=task.id,
                model=task.model or state.model,
                mode="preview" if state.preview else "live",
                owner=self.owner,
                key=self.key,
                params=self.params,
                price_cents=state.price_cents,
                ip=self.ip,
                continues=self.continues,
            )
        self._release()

    def _record_typed(self, journal: Journal, state: RunState, task: Task) -> None:
        """A typed id WaveSpeed knows. One of this owner's own lost submits may have made it: then it
        is adopted with that submit's price, address and time; otherwise it is a task made outside
        this journal (the dashboard, another tool), recorded at no price."""
        model = task.model or state.model
        mine = [job for job in journal.claims(task.id) if job.owner == self.owner]
        if mine:
            journal.adopt(mine[0].id, task.id, model=model)
            return
        journal.record(
            task_id=task.id,
            model=model,
            mode="preview" if state.preview else "live",
            owner=self.owner,
            key=self.key,
            params=self.params,
            price_cents=0,
            ip=self.ip,
        )

    def status_changed(self, state: RunState) -> None:
        changes = journal_changes(state)
        if state.stage == "polled" and changes.get("status") == self.status:
            return  # no change worth a write
        self._write(changes)

    def finished(self, state: RunState) -> None:
        if self.task_id is not None:
            changes = journal_changes(state)
            if self.resumed and isinstance(state.error, NotFoundError) and state.error.http_status == 404:
                # WaveSpeed does not know a task made earlier: final, never resumed at start again.
                # (A 404 on our own fresh submit past the first minute leaves the row resumable once.)
                changes["status"] = UNKNOWN
            self._write(changes)
            self._stamp(state)
            if state.preview and state.stage == "done" and self.runner.journal is not None:
                # Preview clips are free to make again: the oldest go past their cap (never this one).
                self.runner.disk.preview_clips(self.runner.journal, keep=state.path)
            return
        if isinstance(state.error, SubmitUncertainError):
            self.lost(state, state.error)
            return
        if self.typed:
            return  # an id WaveSpeed did not answer with a task: its lookup keeps counting for an hour
        self._release()  # refused or failed before any task existed: nothing is owed

    def _stamp(self, state: RunState) -> None:
        """The clip just saved carries its recipe before anyone is handed it (the watchers see
        "done" only after this listener returns), whether a page, the API, MCP or the CLI asked."""
        journal = self.runner.journal
        job = journal.get(self.task_id) if journal is not None and self.task_id else None
        if state.stage == "done" and state.path is not None and job is not None:
            stamp_clip(job, state.path)

    def lost(self, state: RunState, error: SubmitUncertainError) -> None:
        """A task may exist and be billed, and nothing identified it. Journaled as a lost submit (its
        price, owner, address and candidates), it counts against every limit across restarts until
        the operator resolves it; without a journal the reservation stays, in this process."""
        journal = self.runner.journal
        if journal is None or state.preview:
            return
        journal.record_uncertain(
            model=error.model or state.model,
            owner=self.owner,
            key=self.key,
            params=self.params,
            price_cents=state.price_cents,
            ip=self.ip,
            candidates=error.candidates,
        )
        self._release()

    def _write(self, changes: dict[str, Any]) -> None:
        self.status = changes.get("status", self.status)
        if self.runner.journal is not None and self.task_id is not None:
            self.runner.journal.update(self.task_id, **changes)

    def _release(self) -> None:
        if self.runner.guard is not None and self.reservation is not None:
            self.runner.guard.release(self.reservation)
            self.reservation = None


def journal_changes(state: RunState) -> dict[str, Any]:
    """The journal columns a run state sets."""
    task = state.task
    changes: dict[str, Any] = {}
    if task is not None and task.status:
        changes.update(
            status=task.status,
            output_url=task.video_url or "",
            nsfw=int(task.nsfw),
            inference_ms=task.inference_ms,
            error_code=task.error_code,
            error=task.error,
        )
    if state.stage == "done" and state.path is not None:
        changes.update(status="completed", local_path=str(state.path), error="")
    elif state.stage == "error" and state.error is not None:
        error = state.error
        changes["error"] = str(error)
        if isinstance(error, TaskFailedError):
            changes.update(status=error.status, error_code=error.code)
        elif isinstance(error, DownloadError):
            changes.update(status="completed", output_url=error.url)  # done, clip not saved: resumable
    return changes


def stored_path(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str) and value and not value.startswith(("http://", "https://")) else None


def journal_params(request: Request, journal: Journal | None) -> dict[str, Any]:
    """The settings of a request, without a key; images as a stored copy or their URL."""
    params: dict[str, Any] = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "duration": request.duration,
    }
    if isinstance(request, I2VRequest):
        params["guidance_scale"] = request.guidance_scale
        for name in ("image", "end_image"):
            value = getattr(request, name)
            if isinstance(value, PreparedImage):
                params[name] = str(journal.store_image(value)) if journal else ""
            elif value:
                params[name] = str(value)
    else:
        params["aspect_ratio"] = request.aspect_ratio
    return params
