"""What igogo keeps of finished jobs for display: records that pin no frames or results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._job import Job

__all__ = ["RECORD_LINES", "JobRecord"]

RECORD_LINES: Final = 20
"""Lines of a finished job's output its :class:`JobRecord` keeps for tables and rows."""


class JobRecord:
    """What igogo keeps of a finished job for its tables, once nobody holds the Job.

    The job history, the job table and the finished control rows show ended
    jobs through records: name, cell, final state, times, a one-line error and
    the last lines printed.  A record holds no result, no exception and so no
    frames: a job that failed with 300 MB in a local gives that memory back as
    soon as the user drops the :class:`Job` (and the Job, while held, keeps
    everything).  ``igogo.jobs()`` lists the Job itself while it is alive.
    """

    __slots__ = ("ended_at", "error", "host_data", "id", "name", "origin", "output",
                 "started_at", "state")  # fmt: skip

    def __init__(self, job: Job[Any]) -> None:
        from ._errors import error_text

        self.id = job.id
        self.name = job.name
        self.origin = job.origin
        self.state = job.state
        self.started_at = job.started_at
        self.ended_at = job.ended_at
        self.error = error_text(job._exception)
        self.output = "\n".join(job.output.split("\n")[-RECORD_LINES:])
        self.host_data: dict[str, Any] = {}
        """Free space for integrations, as :attr:`Job.host_data` (never the Job's own)."""

    @property
    def elapsed(self) -> float:
        return (self.ended_at or self.started_at) - self.started_at

    def done(self) -> bool:
        return True

    def stopped(self) -> bool:
        return self.state in ("stopped", "timed out")

    def __repr__(self) -> str:
        where = "" if self.origin is None else f" from {self.origin}"
        return f"<igogo.Job #{self.id} {self.name!r}{where} {self.state}>"
