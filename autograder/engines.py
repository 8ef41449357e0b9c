"""Grading engines: named ways of turning one submission into a :class:`GradingOutcome`.

Modelled on papermill's ``engines.py``: a small registry of named engines behind one base
class. ``gradkit grade --engine NAME`` picks one; ``otter`` (the reference) runs otter-grader's
own non-containerised runner (``otter run``) in a child process per submission.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import nbformat

from . import privileges, syscall_filter
from .limits import Limits
from .otter_worker import CELL_INDEX_KEY, truncate_notebook
from .outcome import NOT_GRADED, RAN, TIMED_OUT, GradingOutcome, timed_out_status
from .install_lines import strip_notebook_install_lines
from .non_code_answers import explain_non_code_answers
from .screen import screen_notebook
from .shipped.gradkit_submission import restore_assignment_name, zip_assignment_name
from .shipped_files import drop_shipped_file_reads, shipped_files
from .submissions import Submission, SubmissionError, read_submission

__all__ = ["DEFAULT_ENGINE", "Engine", "OtterEngine", "available_engines", "get_engine", "register_engine"]

_REGISTRY: dict[str, type["Engine"]] = {}


def register_engine(cls: type["Engine"]) -> type["Engine"]:
    """Class decorator: make an :class:`Engine` subclass available under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_engines() -> list[str]:
    """Names of the registered engines, sorted."""
    return sorted(_REGISTRY)


def get_engine(name: str) -> "Engine":
    """A new instance of the engine registered as ``name``.

    Raises:
        KeyError: no engine has that name (the message lists the known ones).
    """
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise KeyError(f"unknown grading engine {name!r}; available: {', '.join(available_engines())}") from None


class Engine(ABC):
    """Grades one submission against an autograder zip.

    Subclasses set ``name`` and implement :meth:`grade_notebook`; :meth:`grade` reads the
    submission first, so a file that is not a notebook never reaches an engine.
    """

    name: ClassVar[str]

    def grade(self, submission: Submission, autograder_zip: Path, *, limits: Limits) -> GradingOutcome:
        """Grade ``submission``; never raises for a bad submission.

        Args:
            submission: the file to grade.
            autograder_zip: the Otter autograder zip built by ``gradkit build``.
            limits: time, memory and output limits.

        Returns:
            GradingOutcome: scores, status and results.json as the tests gave them, with
            the static screen's findings (:mod:`autograder.screen`) added to those the
            engine made; a failure outcome (all questions 0) when the file is not a
            gradable notebook or grading failed.

        Before an engine sees it, the notebook is read as Jupyter reads it (schema slips
        repaired and noted in the status, :mod:`autograder.notebook_reader`), a missing
        assignment name is taken from the zip (:mod:`autograder.shipped.gradkit_submission`) and
        package-install lines are replaced by ``pass`` (:mod:`autograder.install_lines`);
        afterwards, answers held by raw or markdown cells are pointed out in the test
        output and status (:mod:`autograder.non_code_answers`). Both engines therefore
        see the same notebook.
        """
        start = time.monotonic()
        try:
            read = read_submission(submission)
        except SubmissionError as error:
            return GradingOutcome.failure(submission.label, str(error), time.monotonic() - start)
        notebook = read.notebook
        assignment_name, shipped = _zip_facts(Path(autograder_zip))
        notes = [read.status_note(), restore_assignment_name(notebook, assignment_name)]
        submitted = [(cell.cell_type, cell.source) for cell in notebook.cells]  # for the feedback
        strip_notebook_install_lines(notebook)  # not run at grading, no finding (Colab's %pip cell)
        findings = screen_notebook(notebook)  # before anything runs
        findings = drop_shipped_file_reads(findings, shipped)  # the assignment's data files
        outcome = self.grade_notebook(notebook, submission.label, Path(autograder_zip), limits=limits)
        outcome.findings = findings + outcome.findings
        for note in filter(None, notes):
            outcome.status = f"{outcome.status}; {note}"
        explain_non_code_answers(submitted, outcome)
        outcome.seconds = time.monotonic() - start
        return outcome

    def prepare(self, autograder_zip: Path) -> None:
        """Check and load ``autograder_zip`` once before a batch (no-op by default).

        Raises:
            ValueError: the engine cannot grade with this zip (the message says why).
        """

    def warm_up(self) -> None:
        """Start what the calling grading thread will reuse (no-op by default), so that its
        start-up time is not counted in a submission's ``seconds``."""

    def close(self) -> None:
        """Release what the engine keeps between submissions (processes); idempotent."""

    @abstractmethod
    def grade_notebook(self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, *, limits: Limits) -> GradingOutcome:
        """Execute ``notebook`` and run the autograder's tests on it (see :meth:`grade`)."""


@register_engine
class OtterEngine(Engine):
    """The reference engine: otter-grader's ``otter run`` in a fresh Python process.

    The child (:mod:`autograder.otter_worker`) runs in its own session with the memory
    cap applied, so a timeout kills it together with the Jupyter kernel it started. A
    cell that runs past ``limits.cell_timeout`` is interrupted and the notebook goes on;
    a kernel that dies, or a submission that runs past ``limits.timeout``, is graded again
    without the cell that was running and the cells after it.
    """

    name = "otter"

    def grade_notebook(self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, *, limits: Limits) -> GradingOutcome:
        # Grade with the standard kernel of this Python: a student's own kernelspec name
        # ("conda-env-ml", "python3.12") does not exist on the grading machine.
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        for index, cell in enumerate(notebook.cells):
            cell.metadata[CELL_INDEX_KEY] = index
        with tempfile.TemporaryDirectory(prefix="gradkit-sub-") as tmp:
            nb_path = Path(tmp, "submission.ipynb")
            nbformat.write(notebook, nb_path)
            payload = self._run_worker(nb_path, autograder_zip, limits, Path(tmp))
            if payload is None:  # wall-clock timeout: grade what ran before the stuck cell
                # Cut at the first cell that was interrupted (a cell that ignores the
                # interrupt keeps the kernel busy for every later cell), else at the cell
                # that was running.
                progress = Path(tmp, "progress.json")
                state = json.loads(progress.read_text()) if progress.exists() else {}
                if state.get("tests") and not state.get("interrupted"):
                    # every cell ended; the tests hung (a function that ignores the interrupt):
                    # running the notebook again would hang the same way, at twice the cost
                    return GradingOutcome.failure(label, f"timed out after {limits.timeout:g} s while the tests ran "
                                                         "(a function the tests call did not return)")
                cell = min(state.get("interrupted") or [state.get("cell", 0)])
                status = timed_out_status(limits.timeout, cell)
                payload = self._run_worker(truncate_notebook(nb_path, cell), autograder_zip, limits, Path(tmp))
                if payload is None:
                    return GradingOutcome.failure(label, f"timed out after {limits.timeout:g} s")
                if payload["kind"] == RAN and not payload.get("notes"):  # as before: only a plain "Completed" becomes "timed out"
                    payload["status"], payload["kind"] = status, TIMED_OUT
        return GradingOutcome(label=label, scores=payload["scores"], status=payload["status"], results=payload["results"],
                              kind=payload["kind"])

    @staticmethod
    def _run_worker(nb_path: Path, autograder_zip: Path, limits: Limits, tmp: Path) -> dict | None:
        """Run one worker; its payload, or None on a wall-clock timeout."""
        out = tmp / "outcome.json"
        out.unlink(missing_ok=True)
        job = {
            "autograder_zip": str(autograder_zip.resolve()),
            "notebook": str(nb_path),
            "out": str(out),
            "progress": str(tmp / "progress.json"),
            "cell_timeout": min(limits.cell_timeout, limits.timeout),
            "output_bytes": limits.output_bytes,
        }
        job_path = tmp / "job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        cmd = [sys.executable, "-m", "autograder.otter_worker", str(job_path)]
        env = {**os.environ, "PYTHONPATH": _package_root() + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True, preexec_fn=_child_setup(limits))
        try:
            _, stderr = proc.communicate(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            _kill_group(proc)  # the kernel and anything it spawned
        if not out.exists():
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            reason = f"grading process died: {tail[0]}"
            return {"scores": {}, "status": reason, "kind": NOT_GRADED, "results": GradingOutcome.failure("", reason).results}
        return json.loads(out.read_text(encoding="utf-8"))


def _zip_facts(autograder_zip: Path) -> tuple[str | None, frozenset[str]]:
    """What :meth:`Engine.grade` takes from the autograder zip for every submission: its
    assignment name (:func:`~autograder.shipped.gradkit_submission.zip_assignment_name`) and the
    data files students were handed (:func:`~autograder.shipped_files.shipped_files`).

    Read once per zip, not per submission: cached by resolved path, modification time and
    size, so a rebuilt zip is read again. ``(None, frozenset())`` for a zip that cannot be
    read (the engines report that themselves).
    """
    try:
        stat = autograder_zip.stat()
    except OSError:
        return None, frozenset()
    return _read_zip_facts(str(autograder_zip.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_zip_facts(path: str, mtime_ns: int, size: int) -> tuple[str | None, frozenset[str]]:
    return zip_assignment_name(Path(path)), frozenset(shipped_files(Path(path)))


def _child_setup(limits: Limits, *, confine: bool = True):
    """``preexec_fn`` of a worker: the memory cap, and SIGKILL when gradkit dies
    (``PR_SET_PDEATHSIG``), so a killed grading run leaves no worker behind; the worker's
    kernel then exits by itself (ipykernel polls its parent).

    With ``confine`` (the ``otter`` engine's worker, whose kernel runs student code), the
    worker and its kernel also give up every capability and the right to raise a hard
    limit (:mod:`autograder.privileges`) and get the system call filter's Jupyter variant
    (:mod:`autograder.syscall_filter`; sockets and thread scheduling allowed): a
    submission cannot lower the grader's or another submission's limits, priority or CPUs.
    """

    def setup() -> None:
        limits.apply_to_current_process()
        if confine:  # modules imported at the top: no import between fork and exec
            privileges.lock_limits()
            privileges.drop_capabilities()
            syscall_filter.install(jupyter=True)
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    return setup


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


from . import fork_engine  # noqa: E402 - registers the "fork" engine (it subclasses Engine)

DEFAULT_ENGINE = "fork"
"""The engine ``gradkit grade`` uses unless ``--engine`` says otherwise."""
