"""The real-tool notebook corpus (issue 12), graded with both engines.

``tests/realtools/make.py`` turns the solution into every case of
``tests/realtools/manifest.yaml`` (jupytext and nbstripout run for real; the hosted tools'
shapes field by field). The corpus is graded once per engine in one batch: every case by
the fork engine, and by the reference otter engine the first case of each kind of the
manifest (every case with ``pytest --full-differential``, :func:`otter_cases`); every case
graded must earn exactly its scores and status, ``gradkit check`` must accept exactly the
files ``gradkit grade`` grades and name the same review lines, and the Gradescope zip must
grade the notebooks whose metadata a tool changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.review import NEEDS_REVIEW
from instructor.batch import grade_batch
from instructor.samples import fill_notebook, load_sample
from student.check import CheckUsageError, check_notebook, format_report, prepare_check
from tests.realtools.make import MAKERS

REALTOOLS = Path(__file__).parent / "realtools"
MANIFEST = yaml.safe_load((REALTOOLS / "manifest.yaml").read_text(encoding="utf-8"))
CASES = {entry["case"]: entry for entry in MANIFEST}
SOLUTION = Path(__file__).resolve().parent.parent / "assignments" / "autograd-basics" / "samples" / "solution.py"
ENGINES = ("fork", "otter")
KINDS = ("as-written", "no-metadata", "repaired", "review", "non-code-answer", "refused")
"""The manifest's kinds of case (its header says what each stands for)."""


def otter_cases(full: bool) -> list[str]:
    """The cases the otter engine grades (the fork engine grades all of them).

    By default the first case of each kind, in the manifest's order: within a kind the
    otter engine (about 8 CPU-seconds a notebook) would show again what the first case
    shows, since the fork engine's results are compared with it on the same file reading.
    With ``full`` (``--full-differential``) every case.

    Returns:
        list[str]: case names, sorted.
    """
    if full:
        return sorted(CASES)
    first: dict[str, str] = {}
    for entry in MANIFEST:
        first.setdefault(entry["kind"], entry["case"])
    return sorted(first.values())


def pytest_generate_tests(metafunc):
    """``test_each_case_earns_its_scores_and_status``: every case with the fork engine, the
    cases of :func:`otter_cases` with the otter engine."""
    if {"engine", "case"} <= set(metafunc.fixturenames):
        otter = otter_cases(metafunc.config.getoption("--full-differential"))
        pairs = [(case, engine) for case in sorted(CASES) for engine in ENGINES if engine == "fork" or case in otter]
        metafunc.parametrize(("case", "engine"), pairs, ids=[f"{case}-{engine}" for case, engine in pairs])


@pytest.fixture(scope="module")
def corpus(built, tmp_path_factory) -> dict[str, Path]:
    """Every case of the manifest, made from the solution; the handed-out student notebook
    sits beside the jupytext round trip (a student who kept it)."""
    root = tmp_path_factory.mktemp("realtools")
    solution = root / "solution.ipynb"
    nbformat.write(fill_notebook(nbformat.read(built.student_notebook, as_version=4), load_sample(SOLUTION)), solution)
    folder = root / "corpus"
    folder.mkdir()
    paths = {name: MAKERS[name](solution, folder) for name in CASES}
    for beside in (built.student_notebook, built.student_notebook.parent / "gradkit_checks.py"):
        shutil.copy(beside, paths["jupytext-percent"].parent / beside.name)
    shutil.copy(built.student_notebook.parent / "gradkit_checks.py", folder)
    return paths


@pytest.fixture(scope="module")
def full_differential(request) -> bool:
    return request.config.getoption("--full-differential")


@pytest.fixture(scope="module")
def graded(built, corpus, full_differential, tmp_path_factory) -> dict[str, dict]:
    """engine -> {case: (scores, status, results, feedback text)}, each engine grading its
    cases (the fork engine all, the otter engine :func:`otter_cases`) in one batch."""
    found = {}
    for engine in ENGINES:
        out = tmp_path_factory.mktemp(f"realtools-{engine}")
        cases = sorted(CASES) if engine == "fork" else otter_cases(full_differential)
        summary = grade_batch(autograder_zip=built.autograder_zip, submissions=[corpus[case] for case in cases], out_dir=out,
                              engine=engine, progress=False, jobs=2)
        rows = summary.table.iloc[1:]
        by_case = {}
        for _, row in rows.iterrows():
            case = Path(row["file"]).stem
            results = json.loads(next((out / "results").glob(f"*{case}.ipynb.json")).read_text(encoding="utf-8"))
            feedback = next((out / "feedback").glob(f"*{case}.ipynb.md")).read_text(encoding="utf-8")
            by_case[case] = ({q: float(row[q]) for q in ("q1", "q2", "q3")}, row["grading_status"], results, feedback)
        assert sorted(by_case) == cases, engine  # each case graded once
        found[engine] = by_case
    return found


def test_manifest_names_every_case_and_what_it_stands_for():
    assert set(CASES) == set(MAKERS)
    assert {entry["kind"] for entry in MANIFEST} == set(KINDS)
    for name, entry in CASES.items():
        assert entry["kind"] in KINDS, name
        assert entry.get("note", "").strip() and "\n" not in entry["note"].strip(), name
        assert set(entry["scores"]) == {"q1", "q2", "q3"} and (entry.get("status") or entry.get("status_startswith")), name


def test_corpus_files_are_what_the_tools_wrote(corpus):
    """The cases really carry the shapes they stand for (the tools ran, the slips are there)."""
    raw = {name: path.read_bytes() for name, path in corpus.items()}
    data = {name: json.loads(text.decode("utf-8-sig")) for name, text in raw.items() if CASES[name]["checked"]["accepted"]}
    assert "otter" not in data["jupytext-percent"]["metadata"] and "jupytext" in (corpus["jupytext-percent"].with_suffix(".py")).read_text()
    assert all(not c.get("outputs") for c in data["nbstripout"]["cells"] if c["cell_type"] == "code")
    assert "widgets" not in data["nbstripout"]["metadata"]
    assert data["colab"]["nbformat_minor"] == 0 and "colab" in data["colab"]["metadata"]
    assert raw["bom-crlf"].startswith(b"\xef\xbb\xbf") and b"\r\n" in raw["bom-crlf"]
    assert data["ids-on-minor-4"]["nbformat_minor"] == 4 and all("id" in c for c in data["ids-on-minor-4"]["cells"])
    assert data["nbformat3"]["nbformat"] == 3
    assert len(raw["large-image"]) > 30_000_000
    assert any(c["cell_type"] == "raw" and "def f2(" in "".join(c["source"]) for c in data["raw-answer-cell"]["cells"])


def test_each_case_earns_its_scores_and_status(graded, engine, case):  # parametrized by pytest_generate_tests
    scores, status, results, feedback = graded[engine][case]
    expected = CASES[case]
    assert scores == {q: float(v) for q, v in expected["scores"].items()}, (engine, case, status)
    if "status" in expected:
        assert status == expected["status"], (engine, case)
    else:
        assert status.startswith(expected["status_startswith"]), (engine, case, status)
    if "feedback" in expected:
        assert expected["feedback"] in feedback, feedback
        public = next(t for t in results["tests"] if t["name"] == "Public Tests")
        assert expected["feedback"] in public["output"]


def test_both_engines_agree(graded, full_differential):
    otter = graded["otter"]
    assert {CASES[c]["kind"] for c in otter} == set(KINDS)  # one case of every kind at least, both modes
    assert len(otter) == (len(CASES) if full_differential else len(KINDS))
    assert {c: v[:2] for c, v in graded["fork"].items() if c in otter} == {c: v[:2] for c, v in otter.items()}


def test_one_case_of_each_kind_by_default():
    """The default selection, exactly: the first case of each kind in the manifest's order."""
    assert otter_cases(False) == ["clean", "colab-shell-escape", "jupytext-percent", "kaggle", "raw-answer-cell",
                                  "truncated-download"]
    assert otter_cases(True) == sorted(CASES)


def test_check_and_grade_accept_the_same_files(graded, corpus):
    """`gradkit check` refuses a file exactly when `gradkit grade` cannot grade it, and
    names the same lines the grading side sends to review."""
    for case, path in corpus.items():
        scores, status, _, _ = graded["fork"][case]
        graded_ok = not status.startswith(f"{path.name}:")  # a file that could not be graded
        try:
            prepared = prepare_check(path)
            accepted, review = True, prepared.report.review
        except CheckUsageError:
            accepted, review = False, []
        assert accepted == graded_ok == CASES[case]["checked"]["accepted"], (case, status)
        assert len(review) == CASES[case]["checked"]["review"], (case, review)
        if review:
            assert status.startswith(NEEDS_REVIEW) and review[0] in status, (review, status)


def test_check_runs_the_round_trip_and_the_colab_notebook(corpus, built, tmp_path):
    """The whole `gradkit check` (a kernel) on the notebook that lost its Otter metadata
    (tests from the handed-out notebook beside it, or --tests) and on Colab's, whose install
    line is reported as not run."""
    report = check_notebook(corpus["jupytext-percent"], ["q2"])
    assert report.tests_from == (corpus["jupytext-percent"].parent / built.student_notebook.name).resolve()
    assert report.all_passed, format_report(report)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(corpus["jupytext-percent"], alone)
    shutil.copy(built.student_notebook.parent / "gradkit_checks.py", alone)
    with pytest.raises(CheckUsageError, match="--tests"):
        check_notebook(alone / corpus["jupytext-percent"].name, ["q1"])
    report = check_notebook(alone / corpus["jupytext-percent"].name, ["q1"], tests_from=built.student_notebook)
    assert report.all_passed, format_report(report)

    report = check_notebook(corpus["colab"], ["q1"])
    text = format_report(report)
    assert report.all_passed and not report.review, text
    assert [(line.cell, line.line) for line in report.not_run] == [(1, 1), (1, 2)]
    assert "cell 1, line 1: not run here nor when graded (installs packages): `%pip install -q otter-grader`" in text


def test_check_tells_the_student_which_lines_need_review(corpus):
    prepared = prepare_check(corpus["colab-shell-escape"])
    text = format_report(prepared.report)
    assert "WILL NEED REVIEW" in text and "cell 1, line 2: runs a shell command (!)" in text
    assert "cell 1, line 1: not run here nor when graded" in text


@pytest.mark.parametrize("case", ["jupytext-percent", "bom-crlf"])
def test_gradescope_zip_grades_what_tools_changed(built, corpus, case, tmp_path):
    """The zip itself (its run_autograder, gradkit's engine inside) grades the round trip and the BOM
    file in full: the step before grading restores the assignment name and drops the mark."""
    from tests.test_gradescope import run_in_gradescope_layout

    upload = tmp_path / "upload"
    upload.mkdir()
    notebook = shutil.copy(corpus[case], upload / corpus[case].name)
    results, proc = run_in_gradescope_layout(built.autograder_zip, Path(notebook), tmp_path / "root")
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = {t["name"]: t["score"] for t in results["tests"] if "max_score" in t}
    assert scores == {q: float(v) for q, v in CASES[case]["scores"].items()}, results.get("output", "")[-2000:]


def test_check_says_the_answer_cell_is_raw(corpus):
    report = check_notebook(corpus["raw-answer-cell"], ["q2"])
    assert not report.all_passed
    # the public test misses only `x2` (the grading feedback also names the hidden tests' `f2`, `w2`)
    assert "cell 16 is a raw cell, so it did not run; it holds `x2`: make it a code cell" in report.questions[0].output, report.questions[0].output
