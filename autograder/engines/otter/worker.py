"""Child-process entry point of the ``otter`` engine: grade one notebook with ``otter run``.

Run as ``python -m autograder.engines.otter.worker JOB_JSON``, where the job file holds
``autograder_zip``, ``notebook``, ``out`` (result path), ``progress`` (path), and the
limits ``cell_timeout`` (seconds) and ``output_bytes``. It calls otter-grader's
non-containerised runner (the same code as ``otter run``) and writes ``out`` as JSON, one
of:

* ``{"scores": {question: points}, "notes": [str, ...], "results": {...}}``: graded;
  ``results`` is the Gradescope-format ``results.json`` otter wrote, ``notes`` the status
  notes (interrupted cells, capped output);
* ``{"failure": str, "results": {...}}``: otter could not grade (its catastrophic
  failure, or this process crashed);
* ``{"died": true}``: the kernel died; the ``progress`` file says in which cell;
* ``{"kernel_start_failed": str}``: the Jupyter kernel died or did not answer before any
  cell ran (nothing of the submission ran; the parent starts a new worker once).

The parent (:class:`autograder.engines.otter.OtterEngine`) reads only these two files and
decides what happens next (:class:`autograder.engines.base.Engine`).

otter builds nbconvert's ``ExecutePreprocessor`` itself and exposes neither a per-cell
timeout nor an output cap, so this process (gradkit's own, never the student's kernel)
substitutes a subclass with both before calling otter. The subclass also records, in the
``progress`` file, which of the submission's cells is running and whether otter's tests
have started.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

import nbformat

from ...outcome import interrupted_note, output_capped_note

CELL_INDEX_KEY = "gradkit_cell"
"""Cell metadata key holding the cell's index in the submitted notebook."""


class KernelStartError(RuntimeError):
    """The Jupyter kernel died or did not answer ``kernel_info`` while it started, before
    any cell of the submission ran (jupyter_client's ``RuntimeError: Kernel died before
    replying to kernel_info``, or a start timeout). Nothing the student wrote has run, so
    the grade cannot depend on it: :class:`~autograder.engines.otter.OtterEngine` starts
    a new worker once (seen once in about 500 otter-engine runs, ten whole test suites under load,
    2026-12-01)."""


def limited_preprocessor_class(*, cell_timeout: float, output_bytes: int, progress: Path):
    """A subclass of nbconvert's ``ExecutePreprocessor`` with this run's limits bound.

    A new class per run (not class-level mutable state on a shared class).

    Args:
        cell_timeout: seconds before a cell is interrupted.
        output_bytes: bytes of output kept in total.
        progress: file that gets ``{"cell": index, "events": [...], "interrupted": [...]}``
            as each submitted cell starts; events are notes such as an interrupted cell or
            capped output, ``interrupted`` the indices of cells interrupted on timeout.
    """
    from nbconvert.preprocessors import ExecutePreprocessor

    class LimitedExecutePreprocessor(ExecutePreprocessor):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.timeout = int(cell_timeout)
            self.interrupt_on_timeout = True
            self.error_on_timeout = {
                "ename": "CellTimeout",
                "evalue": f"the cell ran longer than {cell_timeout:g} s and was interrupted",
                "traceback": [],
            }
            self._output_budget = output_bytes
            self._output_noted = False
            self._events: list[str] = []
            self._events_cell = 0
            self._interrupted: list[int] = []
            self._last_indexed = -1
            self._final = -1
            self._in_tests = False

        # nbclient's setup_kernel calls these two synchronous wrappers (the async versions
        # are bound to them at class creation, so overriding those would not be called)
        def start_new_kernel(self, **kwargs):
            try:
                return super().start_new_kernel(**kwargs)
            except Exception as error:  # noqa: BLE001 - any start failure, before any cell ran
                raise KernelStartError(f"{type(error).__name__}: {error}") from error

        def start_new_kernel_client(self):
            try:
                return super().start_new_kernel_client()  # on failure nbclient has shut the kernel down
            except Exception as error:  # noqa: BLE001 - as above
                raise KernelStartError(f"{type(error).__name__}: {error}") from error

        def preprocess(self, nb, resources=None, km=None):
            positions = [c.get("metadata", {}).get(CELL_INDEX_KEY) for c in nb.cells]
            self._final = max((p for p in positions if p is not None), default=-1)
            return super().preprocess(nb, resources, km)

        def preprocess_cell(self, cell, resources, index):
            # nbconvert runs every cell through here (NotebookClient.execute_cell is bound
            # to the base class's coroutine, so overriding that would not be called)
            position = cell.get("metadata", {}).get(CELL_INDEX_KEY)
            if position is not None:
                self._events_cell = position
                self._last_indexed = index
                self._note()
            elif 0 <= self._last_indexed < index and self._events_cell == self._final and not self._in_tests:
                # a cell otter added after the notebook's last own cell: its tests (otter
                # also adds check cells in the middle, after cells with tests in metadata)
                self._in_tests = True
                self._note()
            return super().preprocess_cell(cell, resources, index)

        async def _async_handle_timeout(self, timeout, cell=None):
            if self._in_tests:  # not a notebook cell: leaving cells out would not help
                self._note(f"the tests ran past {cell_timeout:g} s and were interrupted")
                return await super()._async_handle_timeout(timeout, cell)
            self._interrupted.append(self._events_cell)
            self._note(interrupted_note(self._events_cell, cell_timeout))
            return await super()._async_handle_timeout(timeout, cell)

        def _note(self, event: str | None = None) -> None:
            if event is not None and event not in self._events:
                self._events.append(event)
            progress.write_text(json.dumps({"cell": self._events_cell, "events": self._events, "interrupted": self._interrupted,
                                            "tests": self._in_tests}), encoding="utf-8")

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {})))
            if self._output_budget - size < 0:
                self._output_budget = -1
                if not self._output_noted:
                    self._output_noted = True
                    self._note(output_capped_note(output_bytes, self._events_cell))
                    outs.append(nbformat.v4.new_output("stream", name="stderr", text="[gradkit: output cap reached; further output dropped]\n"))
                return None
            self._output_budget -= size
            return super().output(outs, msg, display_id, cell_index)

    return LimitedExecutePreprocessor


def grade(job: dict) -> dict:
    """Grade the job's notebook with otter and return the payload (see module doc)."""
    import nbconvert.preprocessors
    from nbclient.exceptions import DeadKernelError
    from otter.run import main as otter_run

    progress = Path(job["progress"])
    nbconvert.preprocessors.ExecutePreprocessor = limited_preprocessor_class(
        cell_timeout=job["cell_timeout"], output_bytes=job["output_bytes"], progress=progress
    )
    try:
        results, results_json = _otter_run(otter_run, Path(job["notebook"]), job["autograder_zip"])
    except DeadKernelError:
        return {"died": True}
    except KernelStartError as error:
        return {"kernel_start_failed": str(error)}
    if results.has_catastrophic_failure():
        return {"failure": f"grading failed: {results.catastrophic_error}", "results": results_json}
    notes = json.loads(progress.read_text()).get("events", []) if progress.exists() else []
    scores = {name: float(tf.score) for name, tf in results.results.items()}
    return {"scores": scores, "notes": notes, "results": results_json}


def _otter_run(otter_run, notebook: Path, autograder_zip: str):
    with tempfile.TemporaryDirectory(prefix="gradkit-otter-") as tmp:
        log = io.StringIO()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            results = otter_run(str(notebook), autograder=str(autograder_zip), output_dir=tmp, no_logo=True)
        return results, json.loads(Path(tmp, "results.json").read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    """Run the job in ``argv[0]``; always writes the job's ``out`` file (exit 0) unless the
    arguments are wrong (exit 2)."""
    if len(argv) != 1:
        print("usage: python -m autograder.engines.otter.worker JOB_JSON", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        payload = grade(job)
    except Exception as error:  # noqa: BLE001 - a result file is written even when grading crashes
        reason = f"grading crashed: {type(error).__name__}: {error}"
        payload = {"failure": reason, "results": {"score": 0, "output": reason + "\n\n" + traceback.format_exc(), "tests": []}}
    tmp = Path(job["out"]).with_suffix(".partial")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, job["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
