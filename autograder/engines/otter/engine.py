"""The reference engine: otter-grader's ``otter run`` in a fresh Python process."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .. import privileges, process, syscall_filter
from ..base import Attempt, Engine
from ..limits import Limits
from .worker import CELL_INDEX_KEY

__all__ = ["OtterEngine"]

_log = logging.getLogger(__name__)

KERNEL_STARTS = 2
"""Workers started for one attempt when the Jupyter kernel dies or does not answer while it
starts (:class:`~autograder.engines.otter.worker.KernelStartError`): no cell ran, so a new
worker grades the same notebook from the start (mature runners retry infrastructure, never
the student's code: a kernel death in a cell is :class:`~autograder.engines.base.Engine`'s
retry without that cell)."""


class OtterEngine(Engine):
    """The reference engine: otter-grader's ``otter run`` in a fresh Python process.

    The child (:mod:`autograder.engines.otter.worker`) runs in its own session with the
    memory cap applied, so a timeout kills it together with the Jupyter kernel it started.
    The worker and its kernel also give up every capability and the right to raise a hard
    limit (:mod:`autograder.engines.privileges`) and get the system call filter's Jupyter
    variant (:mod:`autograder.engines.syscall_filter`; sockets and thread scheduling
    allowed): a submission cannot lower the grader's or another submission's limits,
    priority or CPUs. Interrupted cells, retries and status texts: :class:`~autograder.engines.base.Engine`.
    """

    name = "otter"

    def execute(self, notebook: nbformat.NotebookNode, autograder_zip: Path, *, limits: Limits, stop_before: int | None) -> Attempt:
        notebook = nbformat.from_dict(notebook)  # a copy: a retry starts from the same notebook
        # Grade with the standard kernel of this Python: a student's own kernelspec name
        # ("conda-env-ml", "python3.12") does not exist on the grading machine.
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        for index, cell in enumerate(notebook.cells):
            cell.metadata[CELL_INDEX_KEY] = index
        if stop_before is not None:
            notebook.cells = notebook.cells[:stop_before]
        with tempfile.TemporaryDirectory(prefix="gradkit-sub-") as tmp:
            nb_path = Path(tmp, "submission.ipynb")
            nbformat.write(notebook, nb_path)
            return self._run_worker(nb_path, autograder_zip, limits, Path(tmp))

    @staticmethod
    def _run_worker(nb_path: Path, autograder_zip: Path, limits: Limits, tmp: Path) -> Attempt:
        """Run a worker and read what it wrote (the worker's payload and progress files:
        :mod:`autograder.engines.otter.worker`); a worker whose kernel did not start is
        followed by a new one, up to :data:`KERNEL_STARTS` in all.

        Returns:
            Attempt: how the run ended; ``"failed"`` (``grading crashed: the Jupyter kernel
            did not start, N times: ...``) if no kernel started."""
        for start in range(1, KERNEL_STARTS + 1):
            attempt, start_failure = OtterEngine._run_worker_once(nb_path, autograder_zip, limits, tmp)
            if start_failure is None:
                return attempt
            _log.warning("the otter engine's Jupyter kernel did not start (%s), try %d of %d", start_failure, start, KERNEL_STARTS)
        return Attempt("failed", message=f"grading crashed: the Jupyter kernel did not start, {KERNEL_STARTS} times: {start_failure}")

    @staticmethod
    def _run_worker_once(nb_path: Path, autograder_zip: Path, limits: Limits, tmp: Path) -> tuple[Attempt | None, str | None]:
        """Run one worker: (the attempt, None), or (None, why) if its kernel did not start."""
        out, progress = tmp / "outcome.json", tmp / "progress.json"
        for stale in (out, progress):  # a retry's files are its own
            stale.unlink(missing_ok=True)
        job = {
            "autograder_zip": str(autograder_zip.resolve()),
            "notebook": str(nb_path),
            "out": str(out),
            "progress": str(progress),
            "cell_timeout": limits.cell_seconds,
            "output_bytes": limits.output_bytes,
        }
        job_path = tmp / "job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        cmd = [sys.executable, "-m", "autograder.engines.otter.worker", str(job_path)]
        env = {**os.environ, "PYTHONPATH": process.package_root() + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True, preexec_fn=process.child_setup(limits, confine=_confine))
        timed_out = False
        try:
            _, stderr = proc.communicate(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            process.kill(proc.pid)  # the kernel and anything it spawned
            proc.wait()
        state = json.loads(progress.read_text(encoding="utf-8")) if progress.exists() else {}
        if timed_out:
            # every cell ended and no cell was interrupted: the tests hung (a function that
            # ignores the interrupt); otherwise a cell held the kernel
            return Attempt("timed out", cell=state.get("cell", 0), interrupted=state.get("interrupted") or [],
                           in_tests=bool(state.get("tests") and not state.get("interrupted"))), None
        if not out.exists():
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            return Attempt("failed", message=f"grading process died: {tail[0]}"), None
        payload = json.loads(out.read_text(encoding="utf-8"))
        if payload.get("kernel_start_failed"):  # before any cell: nothing of the submission ran
            return None, payload["kernel_start_failed"]
        if payload.get("died"):  # the kernel died (os._exit, a crash, a signal)
            return Attempt("died", cell=state.get("cell", 0), in_tests=bool(state.get("tests"))), None
        if payload.get("failure"):
            return Attempt("failed", message=payload["failure"], results=payload["results"]), None
        return Attempt("graded", scores=payload["scores"], results=payload["results"], notes=payload["notes"]), None


def _confine() -> None:
    """The worker's and its kernel's confinement, between fork and exec (modules imported
    at the top: no import there)."""
    privileges.lock_limits()
    privileges.drop_capabilities()
    syscall_filter.install(jupyter=True)
