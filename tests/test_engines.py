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

import re
from pathlib import Path

import pytest

from autograder.engines import DEFAULT_ENGINE, Limits, available_engines, get_engine
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

DIFFERENTIAL_SINGLE_MISTAKES = {
    "m34-loss3-backward-twice",          # issue 11 case 3: error carried forward to the step
    "m35-linear-grads-template",         # issue 11 case 4: `...` left in a function
    "m36-f1-stub-y1-inline",             # issue 11 case 4: stub function, answers inline
    "m37-f1-math-log-autograd-grad",     # issue 11 case 4: math.log inside f1
    "m38-typed-in-after-backward",       # issue 11 case 9: provenance of a typed-in answer
    "m42-closed-form-no-grad",           # issue 11 case 5: autograd detection (hooks)
    "m43-squeeze-targets",               # issue 11 case 8: broadcasting (torch warns in the kernel)
    "m51-no-clone-zeroed-in-cell",       # the record cell sees the answer as it was when given
    "m53-adam",                          # an optimizer the zygote never exercised
}
"""The fairness corpus's single mistakes the differential test grades with both engines.

Every other corpus sample is in the differential run: the correct and honest ones (``c``,
``h``: the record cells, cells after the answers, plots, all run differently in a kernel
and in a forked child), the two-mistake ones (``e``) and the earlier mistakes (``m01`` to
``m33``). The single mistakes from ``m34`` on are checked by the same tests on the same
records in both engines, so one of each new kind is enough; the others would add about
7 s each to this (already the slowest) test with the otter engine (about 14 s per
notebook, 2 jobs). ``tests/test_corpus.py`` grades all of them with the default engine.
"""


def _in_differential_run(name: str) -> bool:
    """Whether the differential test grades the sample ``name`` (see DIFFERENTIAL_SINGLE_MISTAKES)."""
    match = re.fullmatch(r"m(\d+)-.*", name)
    return not match or int(match.group(1)) < 34 or name in DIFFERENTIAL_SINGLE_MISTAKES


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
        samples = [s for s in load_samples(folder) if _in_differential_run(s.name)]
        write_samples(built.student_notebook, samples, root / name)
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
        assert {f"{name}/{p.stem}.ipynb" for p in folder.glob("*.py") if _in_differential_run(p.stem)} <= labels, name
    assert {f"corpus/{name}.ipynb" for name in DIFFERENTIAL_SINGLE_MISTAKES} <= labels
    assert sum(label.startswith(("corpus/h", "corpus/e")) for label in labels) >= 25
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


def test_fork_engine_results_json_matches_otter_for_unflagged_submissions(both_engines):
    otter, fork = both_engines["otter"], both_engines["fork"]
    compared = 0
    for label, row in otter.items():
        if row.findings or not row.status.startswith("Completed"):
            continue
        assert fork[label].results == row.results, label
        compared += 1
    assert compared >= 50
