"""Child-process entry point of the ``otter`` engine: grade one notebook with ``otter run``.

Run as ``python -m autograder.otter_worker JOB_JSON``, where the job file holds
``autograder_zip``, ``notebook``, ``out`` (result path), ``progress`` (path), and the
limits ``cell_timeout`` (seconds) and ``output_bytes``. It calls otter-grader's
non-containerised runner (the same code as ``otter run``) and writes ``out`` as JSON:
``{"scores": {question: points}, "status": str, "kind": str, "notes": [str], "results": {...}, "fatal_cell": int|null}``
(``kind``: :data:`autograder.status.ENGINE_KINDS`; ``notes``: what ``status`` adds after the
engine's first words, when every test ran)
where ``results`` is the Gradescope-format ``results.json`` otter wrote. The parent reads
only that file.

otter builds nbconvert's ``ExecutePreprocessor`` itself and exposes neither a per-cell
timeout nor an output cap, so this process (gradkit's own, never the student's kernel)
substitutes a subclass with both before calling otter. The subclass also records, in the
``progress`` file, which of the submission's cells is running: when the kernel dies there
(``os._exit``, a segfault), the notebook is graded again without that cell and the ones
after it, so the submission loses only the questions it had not reached.
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

from .outcome import NOT_GRADED, interrupted_note, output_capped_note

CELL_INDEX_KEY = "gradkit_cell"
"""Cell metadata key holding the cell's index in the submitted notebook."""


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

    from .outcome import COMPLETED, KERNEL_DIED, RAN, kernel_died_status

    progress = Path(job["progress"])
    nbconvert.preprocessors.ExecutePreprocessor = limited_preprocessor_class(
        cell_timeout=job["cell_timeout"], output_bytes=job["output_bytes"], progress=progress
    )
    notebook = Path(job["notebook"])
    fatal_cell = None
    status, kind = COMPLETED, RAN
    for attempt in range(2):
        try:
            results, results_json = _otter_run(otter_run, notebook, job["autograder_zip"])
            break
        except DeadKernelError:
            if attempt == 1:
                raise
            fatal_cell = json.loads(progress.read_text())["cell"] if progress.exists() else 0
            status, kind = kernel_died_status(fatal_cell), KERNEL_DIED
            notebook = truncate_notebook(notebook, fatal_cell)
    if results.has_catastrophic_failure():
        return {"scores": {}, "status": f"grading failed: {results.catastrophic_error}", "kind": NOT_GRADED, "results": results_json,
                "fatal_cell": fatal_cell}
    events = json.loads(progress.read_text()).get("events", []) if progress.exists() else []
    if events:
        status = f"{status}; " + "; ".join(events)
    scores = {name: float(tf.score) for name, tf in results.results.items()}
    return {"scores": scores, "status": status, "kind": kind, "notes": events, "results": results_json, "fatal_cell": fatal_cell}


def _otter_run(otter_run, notebook: Path, autograder_zip: str):
    with tempfile.TemporaryDirectory(prefix="gradkit-otter-") as tmp:
        log = io.StringIO()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            results = otter_run(str(notebook), autograder=str(autograder_zip), output_dir=tmp, no_logo=True)
        return results, json.loads(Path(tmp, "results.json").read_text(encoding="utf-8"))


def truncate_notebook(notebook: Path, fatal_cell: int) -> Path:
    """Write a copy of ``notebook`` without its cell ``fatal_cell`` and the cells after it.

    Args:
        notebook: a notebook whose cells carry ``metadata[CELL_INDEX_KEY]``.
        fatal_cell: index (0-based) of the first cell to drop.

    Returns:
        Path: the truncated copy, beside ``notebook``.
    """
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get(CELL_INDEX_KEY, -1) < fatal_cell]
    path = notebook.with_name(f"{notebook.stem}-before-cell-{fatal_cell + 1}.ipynb")
    nbformat.write(nb, path)
    return path


def main(argv: list[str]) -> int:
    """Run the job in ``argv[0]``; always writes the job's ``out`` file (exit 0) unless the
    arguments are wrong (exit 2)."""
    if len(argv) != 1:
        print("usage: python -m autograder.otter_worker JOB_JSON", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        payload = grade(job)
    except Exception as error:  # noqa: BLE001 - a result file is written even when grading crashes
        reason = f"grading crashed: {type(error).__name__}: {error}"
        payload = {"scores": {}, "status": reason, "kind": NOT_GRADED, "fatal_cell": None,
                   "results": {"score": 0, "output": reason + "\n\n" + traceback.format_exc(), "tests": []}}
    tmp = Path(job["out"]).with_suffix(".partial")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, job["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
