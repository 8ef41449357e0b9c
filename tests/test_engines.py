"""The engine boundary and the differential test: the ``fork`` engine against the
reference ``otter`` engine (otter-grader's own ``otter run``) on every corpus.

Both engines grade the same folders: the check corpus, the bundled samples, the hostile
class of the batch tests and the anti-cheat corpus; by default one sample of each kind
of each corpus and the whole hostile class, with ``pytest --full-differential`` every
sample (:func:`differential_samples`). Per submission they must agree on
every question's points (as counted, after the review rule) and on ``grading_status``.
A flagged submission's status ends with the engine's own account of the run
(``...; graded: <status>``): the otter engine is not hardened (a patched otter runner
fools it), which is what the screen is for, so there the two must agree on the
screen's findings, not on what the attack achieved.
"""

from __future__ import annotations


import pytest

from autograder.engines import DEFAULT_ENGINE, available_engines, get_engine
from instructor.batch import grade_batch
from instructor.gradebook import Gradebook
from instructor.samples import load_samples, write_samples

from .differential import CORPORA, LIMITS, SHARED_CORPORA, differential_samples, kind
from .hostile import GRADE_OPTIONS, write_hostile_class


@pytest.fixture(scope="module")
def full_differential(request) -> bool:
    return request.config.getoption("--full-differential")


def test_registry_names_both_engines_and_fork_is_the_default():
    assert {"otter", "fork"} <= set(available_engines())
    assert DEFAULT_ENGINE == "fork"
    with pytest.raises(KeyError, match="available: fork, otter"):
        get_engine("docker")


@pytest.fixture(scope="module")
def both_engines(built, full_differential, hostile_graded, tmp_path_factory, request):
    """engine -> {label: gradebook row}: the chosen samples of each corpus and the hostile
    class, graded by each engine under :data:`LIMITS`. The fork engine's grading of the
    hostile class is tests/test_batch.py's (``hostile_graded``: ``gradkit grade`` under the
    same limits), not graded a second time; the otter engine's of the bundled samples and the
    cheat corpus is the session's (``otter_shared``, tests/differential.py, also read by
    the three-way test of tests/test_gradescope_engine.py), asked for after this fixture's own
    grading so that the other xdist worker, if it is making it, has had time to."""
    root = tmp_path_factory.mktemp("differential")
    folders = []
    for name, folder in CORPORA.items():
        chosen = differential_samples(folder, full_differential)
        write_samples(built.student_notebook, [s for s in load_samples(folder) if s.name in chosen], root / name)
        folders.append(root / name)
    # the hostile class is written from the bundled solution and q3-accumulated notebooks
    write_samples(built.student_notebook, load_samples(CORPORA["bundled"]), root / "class-source")
    write_hostile_class(root / "class-source", root / "class")
    assert GRADE_OPTIONS == ("--jobs", "2", "--timeout", str(LIMITS.timeout), "--cell-timeout", str(LIMITS.cell_timeout),
                             "--memory-mb", str(LIMITS.memory_mb))  # the fork engine's run of the class: the same limits
    rows = {}
    for engine in ("otter", "fork"):
        out = root / f"out-{engine}"
        own = ([f for f in folders if f.name not in SHARED_CORPORA] + [root / "class"]) if engine == "otter" else folders
        grade_batch(autograder_zip=built.autograder_zip, submissions=own, out_dir=out, jobs=2, limits=LIMITS, engine=engine,
                    progress=False)
        with Gradebook(out) as book:
            rows[engine] = {row.label: row for row in book.rows()}
    shared = request.getfixturevalue("otter_shared")
    assert {label.split("/", 1)[0] for label in shared} == set(SHARED_CORPORA) and not set(shared) & set(rows["otter"])
    rows["otter"].update(shared)
    with Gradebook(hostile_graded.out) as book:
        hostile = {row.label: row for row in book.rows()}
    assert all(label.startswith("class/") for label in hostile) and not set(hostile) & set(rows["fork"])
    rows["fork"].update(hostile)
    return rows


def test_every_corpus_kind_is_in_the_differential_run(both_engines, full_differential):
    labels = set(both_engines["fork"])
    assert labels == set(both_engines["otter"])
    expected = set()
    for name, folder in CORPORA.items():
        on_disk = sorted(p.stem for p in folder.glob("*.py"))
        chosen = differential_samples(folder, full_differential)
        assert {kind(n) for n in chosen} == {kind(n) for n in on_disk}, name        # every kind, both modes
        assert len(chosen) == (len(on_disk) if full_differential else len({kind(n) for n in on_disk})), name
        expected |= {f"{name}/{n}.ipynb" for n in chosen}
    assert {label for label in labels if not label.startswith("class/")} == expected
    corpus = sorted(p.stem for p in CORPORA["corpus"].glob("*.py"))
    assert sum(label.startswith(("corpus/h", "corpus/e")) for label in labels) == (
        sum(n.startswith(("h", "e")) for n in corpus) if full_differential else 2)
    assert sum(label.startswith("class/") for label in labels) == 13
    assert len(labels) == len(expected) + 13


def test_one_sample_of_each_kind_by_default(tmp_path):
    """The default selection, exactly: the first sample of each kind of each corpus."""
    assert differential_samples(CORPORA["corpus"], False) == [
        "c01-float64-from-the-start", "e01-backward-twice-and-lr", "h01-backward-retain-graph", "m01-int-tensor-q1"]
    assert differential_samples(CORPORA["bundled"], False) == ["q1-hard-coded", "solution", "untouched"]
    assert differential_samples(CORPORA["anticheat"], False) == ["a01-otter-testfile-run", "b04-traceback-walk-mark-passed"]
    for folder in CORPORA.values():
        assert differential_samples(folder, True) == sorted(p.stem for p in folder.glob("*.py"))
    for name in ("x2-b", "x1-a", "y1"):
        (tmp_path / f"{name}.py").write_text("# sample: s\n# expect: q1=0\n")
    assert differential_samples(tmp_path, False) == ["x1-a", "y1"]


def _first_finding(status: str) -> str:
    """``needs review: <first finding>`` without the count of further findings (the fork
    engine adds run-time ones) and without the engine's own account of the run."""
    return status.split("; graded: ")[0].split(" (and ")[0]


def test_engines_agree_on_every_submission(both_engines, built):
    otter, fork = both_engines["otter"], both_engines["fork"]
    disagreements = []
    for label in sorted(otter):
        a, b = otter[label], fork[label]
        static_a = [f for f in a.findings if f.rule != "runtime"]
        static_b = [f for f in b.findings if f.rule != "runtime"]
        per_question_a = {q: a.scores.get(q, 0.0) for q in built.points}  # as grades.csv shows them
        per_question_b = {q: b.scores.get(q, 0.0) for q in built.points}
        if per_question_a != per_question_b:
            disagreements.append(f"{label}: scores otter {a.scores} != fork {b.scores}")
        if static_a != static_b:
            disagreements.append(f"{label}: screen findings differ")
        if static_a:  # flagged: both count 0 and say why; the runs themselves may differ
            if _first_finding(a.status) != _first_finding(b.status):
                disagreements.append(f"{label}: status otter {a.status!r} != fork {b.status!r}")
        elif a.status != b.status:
            disagreements.append(f"{label}: status otter {a.status!r} != fork {b.status!r}")
    assert not disagreements, "\n".join(disagreements)


def test_fork_engine_results_json_matches_otter_for_unflagged_submissions(both_engines, full_differential):
    otter, fork = both_engines["otter"], both_engines["fork"]
    compared = set()
    for label, row in otter.items():
        if row.findings or not row.status.startswith("Completed"):
            continue
        assert fork[label].results == row.results, label
        compared.add(label)
    # full marks raise no finding and complete (tests/test_corpus.py): every one selected is compared
    assert {label for label in otter if label.startswith(("corpus/c", "corpus/h", "bundled/solution"))} <= compared
    assert len(compared) >= (50 if full_differential else 3)
