"""Grading engines: named ways of turning one submission into a :class:`GradingOutcome`.

Modelled on papermill's ``engines.py``: a small registry of named engines behind one base
class. ``gradkit grade --engine NAME`` picks one; ``otter`` (the reference) runs otter-grader's
own non-containerised runner (``otter run``) in a child process per submission.
"""

from __future__ import annotations

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

from .outcome import GradingOutcome
from .submissions import Submission, SubmissionError, read_submission_notebook

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

    def grade(self, submission: Submission, autograder_zip: Path, *, timeout: float) -> GradingOutcome:
        """Grade ``submission``; never raises for a bad submission.

        Args:
            submission: the file to grade.
            autograder_zip: the Otter autograder zip built by ``gradkit build``.
            timeout: wall-clock limit in seconds for the whole submission.

        Returns:
            GradingOutcome: scores, status and results.json; a failure outcome (all
            questions 0) when the file is not a gradable notebook or grading failed.
        """
        start = time.monotonic()
        try:
            notebook = read_submission_notebook(submission.path)
        except SubmissionError as error:
            return GradingOutcome.failure(submission.label, str(error), time.monotonic() - start)
        outcome = self.grade_notebook(notebook, submission.label, Path(autograder_zip), timeout=timeout)
        outcome.seconds = time.monotonic() - start
        return outcome

    @abstractmethod
    def grade_notebook(
        self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, *, timeout: float
    ) -> GradingOutcome:
        """Execute ``notebook`` and run the autograder's tests on it (see :meth:`grade`)."""


@register_engine
class OtterEngine(Engine):
    """The reference engine: otter-grader's ``otter run`` in a fresh Python process.

    The child runs :mod:`autograder.otter_worker` in its own session (process group), so a
    timeout kills it together with the Jupyter kernel it started.
    """

    name = "otter"

    def grade_notebook(
        self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, *, timeout: float
    ) -> GradingOutcome:
        # Grade with the standard kernel of this Python: a student's own kernelspec name
        # ("conda-env-ml", "python3.12") does not exist on the grading machine.
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        with tempfile.TemporaryDirectory(prefix="gradkit-sub-") as tmp:
            nb_path = Path(tmp, "submission.ipynb")
            out_path = Path(tmp, "outcome.json")
            nbformat.write(notebook, nb_path)
            cmd = [sys.executable, "-m", "autograder.otter_worker", str(autograder_zip.resolve()), str(nb_path), str(out_path)]
            env = {**os.environ, "PYTHONPATH": _package_root() + os.pathsep + os.environ.get("PYTHONPATH", "")}
            proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            try:
                _, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return GradingOutcome.failure(label, f"timed out after {timeout:g} s")
            finally:
                _kill_group(proc)  # the kernel and anything it spawned
            if not out_path.exists():
                tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
                return GradingOutcome.failure(label, f"grading process died: {tail[0]}")
            payload = json.loads(out_path.read_text(encoding="utf-8"))
        return GradingOutcome(label=label, scores=payload["scores"], status=payload["status"], results=payload["results"])


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


DEFAULT_ENGINE = OtterEngine.name
"""The engine ``gradkit grade`` uses unless ``--engine`` says otherwise."""
