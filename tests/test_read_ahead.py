"""Submissions read and screened ahead of grading (issue 16): ``Engine.read_and_screen``
handed to ``Engine.grade(prepared=...)`` grades exactly as ``grade`` alone, and
``grade_batch``'s read-ahead during the engines' start-up (:mod:`instructor.read_ahead`)
writes the same outputs as grading without it, also when reading ahead raises.

Everything is real: the built assignment, the fork engine's zygote, nbformat's reading.
Only gradkit's own ``ForkEngine.read_and_screen`` is wrapped, never replaced: to raise for
chosen submissions (the real one reads every other), or to let another thread act while
a submission is read (the real reading still returns its value)."""

from __future__ import annotations

import dataclasses
import json
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.engines import ForkEngine, Limits, PreparedSubmission, get_engine
from autograder.outcome import GradingOutcome
from autograder.submissions import Submission
from instructor.batch import grade_batch
from instructor.build import build_assignment
from instructor.read_ahead import ReadAhead
from instructor.samples import load_samples, write_samples

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"
READ_AHEAD_THREAD = "gradkit-read-ahead"


def _bad_files(folder: Path) -> None:
    """Files that are not gradable notebooks: truncated JSON, a broken zip, an HTML page,
    a zip without a notebook."""
    (folder / "corrupt.ipynb").write_bytes(b'{"cells": [{"cell_type": "code", "sou')
    (folder / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "page.ipynb").write_text("<!DOCTYPE html><html><body>Sign in</body></html>", encoding="utf-8")
    with zipfile.ZipFile(folder / "empty.zip", "w") as archive:
        archive.writestr("README.txt", "no notebook here")


def _variants(solution: Path, folder: Path) -> None:
    """Notebooks that take every branch of the reading: an install line (replaced by
    ``pass``), no Otter metadata (the assignment name restored, noted), an old-style
    cell without an id (repaired, noted), an answer in a raw cell (explained afterwards)."""
    nb = nbformat.read(solution, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    code[0].source = "%pip install torch\n" + code[0].source
    nb.metadata.pop("otter", None)
    nbformat.write(nb, folder / "install-no-metadata.ipynb")
    nb = nbformat.read(solution, as_version=4)
    raw = next(cell for cell in nb.cells if cell.cell_type == "code" and "def f1" in cell.source)
    raw.cell_type = "raw"
    del raw["outputs"], raw["execution_count"]
    nbformat.write(nb, folder / "answer-in-raw-cell.ipynb")
    data = json.loads(solution.read_text(encoding="utf-8"))
    del data["nbformat_minor"]  # as some tools write it
    data["cells"][0].pop("id", None)
    (folder / "schema-slips.ipynb").write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def small_class(built, tmp_path_factory) -> Path:
    """The bundled samples, the reading variants and the bad files, in one folder."""
    folder = tmp_path_factory.mktemp("class")
    paths = write_samples(built.student_notebook, load_samples(ASSIGNMENT / "samples"), folder)
    _variants(next(p for p in paths if p.stem == "solution"), folder)
    _bad_files(folder)
    return folder


OUTPUTS = ("grades.csv", "students.csv", "results", "feedback")


def _outputs(out: Path, skip: str | None = None) -> dict[str, bytes]:
    """relative path -> bytes of grades.csv, students.csv, results/ and feedback/; with
    ``skip``, without the files whose name holds it and the CSV lines that do."""
    files = {}
    for name in OUTPUTS:
        path = out / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if not file.is_file() or (skip and skip in file.name):
                continue
            data = file.read_bytes()
            if skip and file.suffix == ".csv":
                data = b"".join(line for line in data.splitlines(keepends=True) if skip.encode() not in line)
            files[str(file.relative_to(out))] = data
    return files


@pytest.fixture(scope="module")
def without_read_ahead(built, small_class, tmp_path_factory):
    """The class graded with the read-ahead off (each submission read in its grading thread)."""
    out = tmp_path_factory.mktemp("off") / "out"
    summary = grade_batch(autograder_zip=built.autograder_zip, submissions=[small_class], out_dir=out, jobs=2, progress=False,
                          read_ahead=False)
    assert summary.read_ahead == 0 and summary.phases["read ahead"] == 0.0
    return summary, out


def test_a_batch_read_ahead_writes_the_same_outputs(built, small_class, without_read_ahead, tmp_path):
    off, off_out = without_read_ahead
    on = grade_batch(autograder_zip=built.autograder_zip, submissions=[small_class], out_dir=tmp_path / "out", jobs=2, progress=False)
    # every submission was read during the zygote's start-up (seconds), which reading a dozen files (ms) fits in many times
    assert on.read_ahead == len(on.graded) == len(off.graded) == 14
    assert on.phases["read ahead"] > 0
    assert _outputs(tmp_path / "out") == _outputs(off_out)
    statuses = {label.split("/")[-1]: status for label, status in zip(off.table["file"], off.table["grading_status"])}
    # the class takes every path of the reading: the comparison covers them
    assert "not valid notebook JSON" in statuses["corrupt.ipynb"] and "HTML page" in statuses["page.ipynb"]
    assert "not a readable zip" in statuses["broken.zip"] and "holds no notebook" in statuses["empty.zip"]
    assert "assignment name taken from the autograder" in statuses["install-no-metadata.ipynb"]
    assert "notebook read as Jupyter reads it" in statuses["schema-slips.ipynb"]
    assert "raw cell" in statuses["answer-in-raw-cell.ipynb"]


def test_a_submission_whose_reading_ahead_raises_is_still_graded(built, small_class, without_read_ahead, tmp_path, monkeypatch):
    """Reading ahead raises for one submission: its grading thread reads it, as without the
    read-ahead. Another raises wherever it is read (a bug): reported as the batch reports
    an engine's exception, read ahead or not."""
    off, off_out = without_read_ahead
    real = ForkEngine.read_and_screen
    calls: list[tuple[str, str]] = []

    def raising(self, submission, autograder_zip):
        calls.append((threading.current_thread().name, submission.label))
        if submission.label.endswith("q1-math-log.ipynb") and threading.current_thread().name == READ_AHEAD_THREAD:
            raise RuntimeError("reading ahead broke")
        if submission.label.endswith("q3-transposed.ipynb"):
            raise RuntimeError("reading broke")
        return real(self, submission, autograder_zip)

    monkeypatch.setattr(ForkEngine, "read_and_screen", raising)
    on = grade_batch(autograder_zip=built.autograder_zip, submissions=[small_class], out_dir=tmp_path / "out", jobs=2, progress=False)
    ahead = {label for thread, label in calls if thread == READ_AHEAD_THREAD}
    assert len(ahead) == 14  # the read-ahead tried every one
    assert on.read_ahead == 12  # and handed out all but the two that raised
    math_log = next(label for label in on.graded if label.endswith("q1-math-log.ipynb"))
    transposed = next(label for label in on.graded if label.endswith("q3-transposed.ipynb"))
    assert (READ_AHEAD_THREAD, math_log) in calls and sum(1 for _, label in calls if label == math_log) == 2  # read again by its thread
    assert _outputs(tmp_path / "out", skip="q3-transposed") == _outputs(off_out, skip="q3-transposed")
    status = dict(zip(on.table["file"], on.table["grading_status"]))[transposed]
    assert status == "grading failed: RuntimeError: reading broke"  # instructor.batch's report of an engine's exception
    assert set(_outputs(tmp_path / "out")) == set(_outputs(off_out))


@pytest.fixture(scope="module")
def engine(built):
    engine = get_engine("fork")
    engine.expect(1)
    yield engine
    engine.close()


def _fields(outcome: GradingOutcome) -> dict:
    """Every field of an outcome but its timings (``seconds``, the phases' values)."""
    fields = dataclasses.asdict(outcome)
    fields.pop("seconds")
    fields["phases"] = sorted(fields["phases"])
    return fields


def test_grade_with_a_prepared_submission_equals_grade(built, small_class, engine):
    names = ["solution.ipynb", "q1-math-log.ipynb", "install-no-metadata.ipynb", "answer-in-raw-cell.ipynb",
             "schema-slips.ipynb", "corrupt.ipynb", "page.ipynb", "empty.zip"]
    kinds = set()
    for name in names:
        sub = Submission(small_class / name, f"class/{name}")
        alone = engine.grade(sub, built.autograder_zip, limits=Limits())
        prepared = engine.read_and_screen(sub, built.autograder_zip)
        kinds.add(type(prepared))
        once = engine.grade(sub, built.autograder_zip, limits=Limits(), prepared=prepared)
        twice = engine.grade(sub, built.autograder_zip, limits=Limits(), prepared=prepared)  # the value is not changed by grading
        assert _fields(once) == _fields(alone) == _fields(twice), name
        assert once is not twice
        if isinstance(prepared, PreparedSubmission):
            assert once.seconds >= prepared.seconds
    assert kinds == {PreparedSubmission, GradingOutcome}
    sub = Submission(small_class / "solution.ipynb", "class/solution.ipynb")
    other = engine.read_and_screen(Submission(small_class / "q1-math-log.ipynb", "class/q1-math-log.ipynb"), built.autograder_zip)
    with pytest.raises(ValueError):
        engine.grade(sub, built.autograder_zip, limits=Limits(), prepared=other)


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return build_assignment(ASSIGNMENT, tmp_path_factory.mktemp("dist"), verify=False).autograder_zip


def test_read_ahead_hands_each_reading_out_once(zip_path, tmp_path):
    """No engine started: the read-ahead's own rules, with the real reading."""
    (tmp_path / "a.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])))
    (tmp_path / "b.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])))
    (tmp_path / "c.ipynb").write_bytes(b"not json")
    subs = [Submission(tmp_path / n, n) for n in ("a.ipynb", "b.ipynb", "c.ipynb")]
    engine = ForkEngine()
    ahead = ReadAhead(engine, zip_path, subs, threads=1)
    first = ahead.take(subs[0])  # taken before the thread started: never read ahead
    ahead.start()
    ahead._thread.join()  # no start-up ended: it reads everything
    assert first is None
    a_again, b, c = ahead.take(subs[0]), ahead.take(subs[1]), ahead.take(subs[2])
    assert a_again is None and isinstance(b, PreparedSubmission) and isinstance(c, GradingOutcome)
    assert dataclasses.replace(b, seconds=0) == dataclasses.replace(engine.read_and_screen(subs[1], zip_path), seconds=0)
    assert b.notebook is not engine.read_and_screen(subs[1], zip_path).notebook
    assert ahead.take(subs[1]) is None  # handed out once
    assert ahead.prepared == 2
    ahead.close()

    stopped = ReadAhead(engine, zip_path, subs, threads=1)
    stopped.warm_up_ended()  # every start-up is over before the thread starts: nothing is read
    stopped.start()
    stopped.close()
    assert [stopped.take(s) for s in subs] == [None, None, None] and stopped.prepared == 0
    off = ReadAhead(engine, zip_path, subs, threads=1, enabled=False)
    off.start()
    off.close()
    assert off.take(subs[1]) is None


class _WhileRead(ForkEngine):
    """The real reading, with ``hooks[label]()`` called after reading that submission (what
    other threads do meanwhile)."""

    hooks: dict

    def read_and_screen(self, submission, autograder_zip):
        value = super().read_and_screen(submission, autograder_zip)
        self.hooks.get(submission.label, lambda: None)()
        return value


def _notebooks(folder: Path, names: tuple[str, ...]) -> list[Submission]:
    subs = []
    for name in names:
        (folder / name).write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])))
        subs.append(Submission(folder / name, name))
    return subs


def test_a_reading_finished_after_its_submission_was_taken_is_dropped(zip_path, tmp_path):
    subs = _notebooks(tmp_path, ("a.ipynb", "b.ipynb"))
    engine = _WhileRead()
    ahead = ReadAhead(engine, zip_path, subs, threads=1)
    engine.hooks = {"a.ipynb": lambda: ahead.take(subs[0])}  # its grading thread takes it (and reads it) meanwhile
    ahead.start()
    ahead._thread.join()
    assert ahead.take(subs[0]) is None and isinstance(ahead.take(subs[1]), PreparedSubmission)
    assert ahead.prepared == 1 and ahead._ready == {}
    ahead.close()


def test_the_reading_stops_when_every_start_up_has_ended(zip_path, tmp_path):
    subs = _notebooks(tmp_path, ("a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb"))
    engine = _WhileRead()
    ahead = ReadAhead(engine, zip_path, subs, threads=2)
    engine.hooks = {"a.ipynb": ahead.warm_up_ended, "b.ipynb": ahead.warm_up_ended}  # the two start-ups end meanwhile
    ahead.start()
    ahead._thread.join()
    assert [type(ahead.take(s)) for s in subs] == [PreparedSubmission, PreparedSubmission, type(None), type(None)]
    ahead.close()


def _at_depth(frames: int, call):
    """``call()`` run ``frames`` Python frames deeper than a fresh thread's start: what it
    returned, or the type and text of what it raised."""
    result = {}

    def nested(k: int):
        if k:
            return nested(k - 1)
        try:
            result["value"] = call()
        except BaseException as error:  # noqa: BLE001 - compared, not handled
            result["value"] = ("raised", type(error).__name__, str(error))

    thread = threading.Thread(target=nested, args=(frames,))
    thread.start()
    thread.join()
    return result["value"]


def _summary(value):
    if isinstance(value, PreparedSubmission):
        return ("prepared", value.notes, value.findings)
    if isinstance(value, GradingOutcome):
        return ("failure", value.status)
    return value


def test_the_reading_does_not_depend_on_how_deep_the_caller_is(zip_path, tmp_path):
    # the read-ahead thread reads with fewer frames on its stack than a grading thread (and
    # `gradkit grade` without it, or another caller, with yet another number): a notebook
    # nested near Python's recursion limit (JSON in its metadata, an expression in a cell)
    # was read, refused or failed with a RecursionError depending on which thread read it,
    # so a class graded with and without reading ahead could differ (red team atk6)
    subs = []
    for depth in range(940, 1000, 4):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        nb.metadata["deep"] = "DEEP"  # written as text: json.dumps itself recurses
        text = json.dumps(nb).replace('"DEEP"', "[" * depth + "]" * depth)
        (tmp_path / f"json{depth}.ipynb").write_text(text, encoding="utf-8")
        subs.append(Submission(tmp_path / f"json{depth}.ipynb", f"json{depth}.ipynb"))
    for depth in range(280, 520, 16):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = " + "-" * depth + "1\n")])
        (tmp_path / f"code{depth}.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
        subs.append(Submission(tmp_path / f"code{depth}.ipynb", f"code{depth}.ipynb"))
    engine = ForkEngine()
    for sub in subs:
        seen = {frames: _summary(_at_depth(frames, lambda: engine.read_and_screen(sub, zip_path))) for frames in (0, 15, 60)}
        assert seen[0] == seen[15] == seen[60], sub.label
