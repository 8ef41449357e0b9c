"""The engine boundary and the differential test: the ``fork`` engine against the
reference ``otter`` engine (otter-grader's own ``otter run``) on every corpus.

Both engines grade the same folders: the check corpus, the bundled samples, the hostile
class of the batch tests and the anti-cheat corpus. Per submission they must agree on
every question's points (as counted, after the review rule) and on ``grading_status``.
A flagged submission's status ends with the engine's own account of the run
(``...; graded: <status>``): the otter engine is not hardened (a patched otter runner
fools it), which is what the screen is for, so there the two must agree on the
screen's findings, not on what the attack achieved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.engines import DEFAULT_ENGINE, available_engines, get_engine
from autograder.limits import Limits
from instructor.batch import grade_batch
from instructor.gradebook import Gradebook
from instructor.samples import load_samples, write_samples

from .hostile import write_hostile_class

REPO = Path(__file__).resolve().parent.parent
CORPORA = {
    "corpus": REPO / "tests" / "corpus" / "autograd-basics",
    "bundled": REPO / "assignments" / "autograd-basics" / "samples",
    "anticheat": REPO / "tests" / "anticheat" / "autograd-basics",
}
LIMITS = Limits(timeout=60, cell_timeout=8)


def test_registry_names_both_engines_and_fork_is_the_default():
    assert {"otter", "fork"} <= set(available_engines())
    assert DEFAULT_ENGINE == "fork"
    with pytest.raises(KeyError, match="available: fork, otter"):
        get_engine("docker")


@pytest.fixture(scope="module")
def both_engines(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("differential")
    folders = []
    for name, folder in CORPORA.items():
        write_samples(built.student_notebook, load_samples(folder), root / name)
        folders.append(root / name)
    write_hostile_class(root / "bundled", root / "class")
    folders.append(root / "class")
    rows = {}
    for engine in ("otter", "fork"):
        out = root / f"out-{engine}"
        grade_batch(autograder_zip=built.autograder_zip, submissions=folders, out_dir=out, jobs=2, limits=LIMITS,
                    engine=engine, progress=False)
        with Gradebook(out) as book:
            rows[engine] = {row.label: row for row in book.rows()}
    return rows


def test_every_corpus_is_in_the_differential_run(both_engines):
    labels = set(both_engines["fork"])
    assert labels == set(both_engines["otter"])
    for name, folder in CORPORA.items():
        assert {f"{name}/{p.stem}.ipynb" for p in folder.glob("*.py")} <= labels, name
    assert sum(label.startswith("class/") for label in labels) == 13
    assert len(labels) >= 80


def _first_finding(status: str) -> str:
    """``needs review: <first finding>`` without the count of further findings (the fork
    engine adds run-time ones) and without the engine's own account of the run."""
    return status.split("; graded: ")[0].split(" (and ")[0]


def test_engines_agree_on_every_submission(both_engines, built):
    otter, fork = both_engines["otter"], both_engines["fork"]
    disagreements = []
    for label in sorted(otter):
        a, b = otter[label], fork[label]
        static_a = [f for f in a.findings if f["rule"] != "runtime"]
        static_b = [f for f in b.findings if f["rule"] != "runtime"]
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


def test_fork_engine_results_json_matches_otter_for_unflagged_submissions(both_engines):
    otter, fork = both_engines["otter"], both_engines["fork"]
    compared = 0
    for label, row in otter.items():
        if row.findings or not row.status.startswith("Completed"):
            continue
        assert fork[label].results == row.results, label
        compared += 1
    assert compared >= 50
