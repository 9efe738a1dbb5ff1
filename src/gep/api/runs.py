"""Account runs as background jobs.

``POST /runs {spec_path}`` checks the spec, stores a job and hands it to a thread pool, which runs
:func:`gep.engine.run.run_account` into ``<data dir>/runs/<id>`` and imports the result into the store
(unpublished). The engine's progress callback writes status, fraction (0..1) and step name into the
job row (at most every 0.2 s), so ``GET /runs/{id}`` shows progress from any server process.
Jobs left queued or running by a stopped server are marked failed when the app starts again.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gep.api.audit import record
from gep.api.deps import AnalystUser, SessionDep, SettingsDep, ViewerUser
from gep.api.errors import ERROR_RESPONSES, ApiError
from gep.store import repository as repo
from gep.store.models import RunJob

log = logging.getLogger("gep.api.runs")
router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)

PROGRESS_INTERVAL_S = 0.2
INTERRUPTED = "interrupted: the server stopped before the run finished"


class RunIn(BaseModel):
    spec_path: str = Field(description="account spec (TOML) on the server")
    publish: bool = Field(default=False, description="publish the account when the run succeeds (admin only)")


class RunCreated(BaseModel):
    id: str


class RunOut(BaseModel):
    id: str
    status: str
    progress: float
    step: str
    error: str | None
    account_id: int | None
    problems: list[dict[str, Any]]
    spec_path: str
    created_by: str
    created_at: str | None
    updated_at: str | None


class RunManager:
    """A thread pool running account jobs; each job uses its own database sessions."""

    def __init__(self, sessions: sessionmaker[Session], data_dir: Path, workers: int) -> None:
        self.sessions = sessions
        self.data_dir = data_dir
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gep-run")
        self.futures: dict[str, Future] = {}

    def submit(self, job_id: str, publish: bool = False) -> Future:
        future = self.executor.submit(self._work, job_id, publish)
        self.futures[job_id] = future
        return future

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    def mark_interrupted(self) -> int:
        """Fail the jobs a previous server left queued or running; returns how many."""
        with self.sessions() as session:
            result = session.execute(
                update(RunJob)
                .where(RunJob.status.in_(("queued", "running")))
                .values(status="failed", error=INTERRUPTED)
            )
            session.commit()
            return result.rowcount or 0

    def _update(self, job_id: str, **fields: Any) -> None:
        with self.sessions() as session:
            job = session.get(RunJob, job_id)
            if job is None:
                return
            for key, value in fields.items():
                setattr(job, key, value)
            session.commit()

    def _work(self, job_id: str, publish: bool) -> None:
        from gep.engine.run import run_account
        from gep.problems import GepInputError
        from gep.spec import load_spec

        with self.sessions() as session:
            job = session.get(RunJob, job_id)
            spec_path, out_dir = Path(job.spec_path), Path(job.out_dir)
        self._update(job_id, status="running", step="start", progress=0.0)
        last = [0.0]

        def progress(step: str, fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                self._update(job_id, step=step[:500], progress=max(0.0, min(1.0, float(fraction))))

        try:
            spec, problems = load_spec(spec_path)
            if spec is None:
                raise GepInputError(problems)
            run_account(spec, out_dir, progress=progress)
            with self.sessions() as session:
                account = repo.import_account(session, out_dir, published=publish)
                job = session.get(RunJob, job_id)
                job.status, job.progress, job.step, job.account_id = "done", 1.0, "done", account.id
                session.commit()
        except GepInputError as exc:
            self._update(
                job_id,
                status="failed",
                error=exc.render("en"),
                problems=[p.to_dict() for p in exc.problems],
            )
        except Exception as exc:  # a job must end in a state the client can read
            log.exception("run %s failed", job_id)
            self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}")


def run_out(job: RunJob) -> RunOut:
    return RunOut(
        id=job.id,
        status=job.status,
        progress=job.progress,
        step=job.step,
        error=job.error,
        account_id=job.account_id,
        problems=job.problems or [],
        spec_path=job.spec_path,
        created_by=job.created_by,
        created_at=repo.iso(job.created_at),
        updated_at=repo.iso(job.updated_at),
    )


@router.post("/runs", status_code=202, summary="Start an account run in the background (analyst)")
def start_run(
    body: RunIn, request: Request, session: SessionDep, user: AnalystUser, settings: SettingsDep
) -> RunCreated:
    from gep.spec import load_spec

    if body.publish and not user.has_role("admin"):
        raise ApiError(403, "api_forbidden", role=user.role, required="admin")
    spec_path = Path(body.spec_path).expanduser()
    spec, problems = load_spec(spec_path)
    if spec is None:
        raise ApiError(422, "api_spec_invalid", path=str(spec_path), details=[p.to_dict() for p in problems])
    job_id = uuid.uuid4().hex
    out_dir = settings.data_path / "runs" / job_id
    session.add(
        RunJob(
            id=job_id, status="queued", spec_path=str(spec_path.resolve()), out_dir=str(out_dir), created_by=user.name
        )
    )
    record(session, user, "run.start", f"run:{job_id}", {"spec_path": str(spec_path), "publish": body.publish}, request)
    session.commit()
    request.app.state.runs.submit(job_id, publish=body.publish)
    return RunCreated(id=job_id)


@router.get("/runs/{run_id}", summary="Status and progress of a run")
def get_run(run_id: str, session: SessionDep, _user: ViewerUser) -> RunOut:
    job = session.get(RunJob, run_id)
    if job is None:
        raise ApiError(404, "api_run_not_found", run_id=run_id)
    return run_out(job)


@router.get("/runs", summary="Recent runs, newest first (viewer)")
def list_runs(session: SessionDep, _user: ViewerUser, limit: int = 50) -> list[RunOut]:
    query = select(RunJob).order_by(RunJob.created_at.desc()).limit(max(1, min(limit, 1000)))
    return [run_out(job) for job in session.scalars(query)]
