"""A third grading engine, written the way the README's "Adding an engine" says, for the
extension test (``tests/test_engine_extension.py``): the notebook's code cells as a plain
Python script (no Jupyter kernel, no sandbox: not for untrusted submissions), then the
autograder zip's otter tests against the script's namespace, in one child process.

The engine implements only :meth:`~autograder.engines.base.Engine.execute`; reading and
screening the submission, the cell-by-cell retry after a death or a timeout and the status
texts come from the base class. Run as ``python tests/script_engine.py JOB_JSON`` for the
child's side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.engines import Attempt, Engine, Limits, process
from autograder.engines.fork.bundle import read_bundle, score


class ScriptEngine(Engine):
    """Runs the code cells with ``exec`` in a child Python, then the tests there.

    Registered by the extension test (``register_engine(ScriptEngine)``, then removed), not
    on import: the rest of the suite sees the two engines the kit ships.
    """

    name = "script"

    def execute(self, notebook: nbformat.NotebookNode, autograder_zip: Path, *, limits: Limits, stop_before: int | None) -> Attempt:
        bundle = read_bundle(autograder_zip)
        cells = [(i, c.source) for i, c in enumerate(notebook.cells) if c.cell_type == "code" and (stop_before is None or i < stop_before)]
        with tempfile.TemporaryDirectory(prefix="gradkit-script-") as tmp:
            for name, data in bundle.support.items():
                Path(tmp, name).parent.mkdir(parents=True, exist_ok=True)
                Path(tmp, name).write_bytes(data)
            progress, out = Path(tmp, "progress.txt"), Path(tmp, "out.json")
            job = {"cells": cells, "tests": bundle.tests, "progress": str(progress), "out": str(out)}
            Path(tmp, "job.json").write_text(json.dumps(job), encoding="utf-8")
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([process.package_root(), tmp])}
            child = subprocess.Popen([sys.executable, __file__, str(Path(tmp, "job.json"))], cwd=tmp, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=process.child_setup(limits))
            try:
                child.wait(timeout=limits.timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                process.kill(child.pid)
                child.wait()
            seen = progress.read_text(encoding="utf-8").split() if progress.exists() else []
            cell = int(seen[-1]) if seen and seen[-1] != "tests" else (cells[-1][0] if cells else 0)
            in_tests = bool(seen) and seen[-1] == "tests"
            if timed_out:
                return Attempt("timed out", cell=cell, in_tests=in_tests)
            if not out.exists():
                return Attempt("died", cell=cell, in_tests=in_tests)
            scores, results = score(bundle, json.loads(out.read_text(encoding="utf-8")))
            return Attempt("graded", scores=scores, results=results)


def _child(job_path: str) -> None:
    """The child: each cell with ``exec`` (an error does not stop the next), then the tests."""
    import otter
    from IPython.core.inputtransformer2 import TransformerManager

    from autograder.otter_tests import load_test_file

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    otter.Notebook.init_grading_mode("tests")  # export() and check_all() do nothing
    otter.Notebook.check = lambda self, question, global_env=None: None  # every test runs after the last cell
    namespace: dict = {"__name__": "__main__"}
    transform = TransformerManager().transform_cell
    with open(job["progress"], "a", encoding="utf-8") as progress:
        for index, source in job["cells"]:
            progress.write(f"{index}\n")
            progress.flush()
            try:
                exec(compile(transform(source), f"<cell {index}>", "exec"), namespace)
            except Exception:  # noqa: BLE001 - as in a notebook: the next cell still runs
                pass
        progress.write("tests\n")
    results = {}
    for path, source in job["tests"]:
        test_file = load_test_file(source, path)
        test_file.run(namespace)
        results[path] = [[r.passed is True, str(r.message)] for r in test_file.test_case_results]
    Path(job["out"]).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    _child(sys.argv[1])
