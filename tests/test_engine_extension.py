"""Extension point "adding an engine" (README): a third engine, written in ``tests/``
(:mod:`tests.script_engine`), registered through the registry, grades real submissions
end to end with ``grade_batch``; the base class gives it the lifecycle (reading and
screening the submission, the retry without the cell that killed the process, status
texts) without a line of its own."""

from __future__ import annotations

import nbformat
import pytest

from autograder.engines import available_engines, get_engine, register_engine, unregister_engine
from autograder.outcome import kernel_died_status
from instructor.batch import grade_batch
from instructor.gradebook import Gradebook
from instructor.samples import write_samples

from .hostile import with_cell
from .script_engine import ScriptEngine


@pytest.fixture
def script_engine():
    register_engine(ScriptEngine)
    try:
        yield ScriptEngine.name
    finally:
        unregister_engine(ScriptEngine.name)
    assert ScriptEngine.name not in available_engines()


def test_a_registered_engine_grades_real_submissions_end_to_end(script_engine, built, bundled_samples, tmp_path):
    assert script_engine in available_engines() and isinstance(get_engine(script_engine), ScriptEngine)
    chosen = [s for s in bundled_samples if s.name in ("solution", "q2-not-a-leaf")]
    paths = write_samples(built.student_notebook, chosen, tmp_path / "submissions")
    solution = next(p for p in paths if p.stem == "solution")
    exit_after_q2 = with_cell(solution, "f2", "import os\nos._exit(1)", tmp_path / "submissions" / "exit.ipynb")
    out = tmp_path / "out"
    grade_batch(autograder_zip=built.autograder_zip, submissions=[tmp_path / "submissions"], out_dir=out, jobs=1,
                engine=script_engine, progress=False)
    with Gradebook(out) as book:
        rows = {row.label: row for row in book.rows()}
    assert set(rows) == {"submissions/solution.ipynb", "submissions/q2-not-a-leaf.ipynb", "submissions/exit.ipynb"}
    assert {row.engine for row in rows.values()} == {script_engine}
    for sample in chosen:  # the points every bundled sample is written to earn
        row = rows[f"submissions/{sample.name}.ipynb"]
        assert row.status == "Completed", row.status
        assert row.scores == sample.expected, (sample.name, row.scores)
    # the process died after q2's answers: graded again without that cell, by the base class
    cells = nbformat.read(exit_after_q2, as_version=4).cells
    exit_cell = next(i for i, c in enumerate(cells) if "os._exit(1)" in c.source)
    died = rows["submissions/exit.ipynb"]
    assert kernel_died_status(exit_cell) in died.status, died.status
    assert died.raw_scores == {"q1": 2, "q2": 3, "q3": 0}
