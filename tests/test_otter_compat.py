"""Otter Assign compatibility: every master notebook of tests/otter_compat/ (one per Otter
Assign feature) builds with `gradkit build` as it does with `otter assign`, and grades the
same.

For each notebook, built once per module with both tools:
- the student notebooks have the same code cells;
- the autograder zips hold the same tests (read with otter's own classes: names, points
  possible, per-test-case points, hidden, bodies, success/failure messages);
- the built solution earns every autograded point with both engines (`fork`, `otter`);
- the blank student notebook earns with gradkit's fork engine exactly what `otter run`
  (the `otter` engine) gives otter's own build of it.
Broken master notebooks of each kind end in one line naming the cell, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.autograder_zip import question_points
from autograder.engines import Limits, get_engine
from autograder.otter_tests import load_test_file, read_zip_tests
from autograder.submissions import Submission
from instructor.build import BuildError, build_assignment

CORPUS = Path(__file__).resolve().parent / "otter_compat"
NAMES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file())
REPO = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(CORPUS))
from make_corpus import BEGIN_S, BEGIN_T, END_Q, END_S, END_T, _exception_test, _nb, _question  # noqa: E402
from make_corpus import main as write_corpus  # noqa: E402

sys.path.remove(str(CORPUS))


def test_corpus_covers_the_features():
    assert NAMES == ["config-file", "data-files", "markers", "ok-format", "points-forms", "seed-intercell", "seed-variable"]


def test_committed_corpus_is_what_make_corpus_writes(tmp_path):
    write_corpus(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(CORPUS) for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS
                             and "__pycache__" not in p.parts)
    for path in written:
        assert (tmp_path / path).read_bytes() == (CORPUS / path).read_bytes(), path


def _otter_assign(master: Path, out: Path) -> Path:
    from otter.assign import main as otter_assign

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        otter_assign(str(master), str(out), no_pdfs=True, no_run_tests=True)
    (zip_path,) = sorted((out / "autograder").glob("*.zip"))
    return zip_path


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """name -> (gradkit BuiltAssignment, otter's student notebook, otter's zip), built once."""
    root = tmp_path_factory.mktemp("otter-compat")
    out = {}
    for name in NAMES:
        built = build_assignment(CORPUS / name, root / "dist", verify=False)
        folder = root / "otter-src" / name  # otter assign writes next to nothing in the corpus
        shutil.copytree(CORPUS / name, folder)
        otter_zip = _otter_assign(folder / f"{name}.ipynb", root / "otter-out" / name)
        out[name] = (built, root / "otter-out" / name / "student" / f"{name}.ipynb", otter_zip)
    return out


@pytest.fixture(scope="module")
def engines():
    fork, otter = get_engine("fork"), get_engine("otter")
    yield {"fork": fork, "otter": otter}
    fork.close()


def _code_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _tests(zip_path: Path) -> dict:
    with zipfile.ZipFile(zip_path) as archive:
        tests = read_zip_tests(archive)
    described = {}
    for path, source in tests:
        test_file = load_test_file(source, path)
        described[test_file.name] = {
            "type": type(test_file).__name__,
            "possible": test_file.possible,
            "all_or_nothing": test_file.all_or_nothing,
            "cases": [(c.name, c.body, c.points, c.hidden, c.success_message, c.failure_message) for c in test_file.test_cases],
        }
    return described


@pytest.mark.parametrize("name", NAMES)
def test_same_student_notebook_code_cells(builds, name):
    built, otter_student, _ = builds[name]
    assert _code_cells(built.student_notebook) == _code_cells(otter_student)


@pytest.mark.parametrize("name", NAMES)
def test_same_tests_and_points(builds, name):
    built, _, otter_zip = builds[name]
    ours, theirs = _tests(built.autograder_zip), _tests(otter_zip)
    assert ours == theirs
    assert built.points == question_points(otter_zip) == {q: t["possible"] for q, t in sorted(ours.items())}


EXPECTED_POINTS = {  # otter's own rules, worked out by hand
    "points-forms": {"q1": 2, "q2": 2, "q3": 1, "q4": 4, "q5": 4},  # scalar, list, none (1 split), per case, each
    "ok-format": {"q1": 2, "q2": 1, "q3": 3},
    "config-file": {"q1": 1},
    "markers": {"q1": 1, "q2": 1, "q3": 1},
    "seed-variable": {"q1": 2},
    "seed-intercell": {"q1": 1},
    "data-files": {"q1": 2, "q2": 1},
}


@pytest.mark.parametrize("name", NAMES)
def test_points_follow_otters_rules(builds, name):
    assert builds[name][0].points == EXPECTED_POINTS[name]


def test_points_forms_per_test_case(builds):
    tests = _tests(builds["points-forms"][0].autograder_zip)
    assert [c[2] for c in tests["q2"]["cases"]] == [0.5, 1.5]
    assert [c[2] for c in tests["q3"]["cases"]] == [0.5, 0.5]  # no points: 1 split across the cases
    assert [(c[2], c[3], c[4], c[5]) for c in tests["q4"]["cases"]] == [
        (1, False, "c is positive", "c must be positive"), (3, True, None, None)]
    assert {t["type"] for t in tests.values()} == {"ExceptionTestFile"}
    assert {t["type"] for t in _tests(builds["ok-format"][0].autograder_zip).values()} == {"OKTestFile"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("engine", ["fork", "otter"])
def test_solution_earns_every_point(builds, engines, name, engine):
    built = builds[name][0]
    outcome = engines[engine].grade(Submission(built.solution_notebook, "solution"), built.autograder_zip, limits=Limits())
    assert outcome.status == "Completed", outcome.status
    assert outcome.scores == built.points, outcome.results
    assert outcome.findings == []  # nothing for review: reading the assignment's data file included


@pytest.mark.parametrize("name", NAMES)
def test_blank_student_notebook_earns_what_otter_gives(builds, engines, name):
    built, otter_student, otter_zip = builds[name]
    ours = engines["fork"].grade(Submission(built.student_notebook, "blank"), built.autograder_zip, limits=Limits())
    theirs = engines["otter"].grade(Submission(otter_student, "blank"), otter_zip, limits=Limits())
    assert ours.status == theirs.status == "Completed"
    assert ours.findings == []
    assert ours.scores == theirs.scores
    assert ours.scores == {q: 0.0 for q in built.points}  # every corpus test fails on `...`


@pytest.mark.slow  # runs the zip's run_autograder (otter)
@pytest.mark.parametrize("name", NAMES)
def test_solution_earns_every_point_in_the_gradescope_layout(builds, tmp_path, name):
    """The zip unchanged, run as Gradescope runs it (tests/test_gradescope.py's reproduction)."""
    from .test_gradescope import run_in_gradescope_layout

    built = builds[name][0]
    results, proc = run_in_gradescope_layout(built.autograder_zip, built.solution_notebook, tmp_path / name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = {t["name"]: t["score"] for t in results["tests"] if "max_score" in t}
    assert scores == built.points, results


def _otter_config(zip_path: Path) -> dict:
    with zipfile.ZipFile(zip_path) as archive:
        return json.loads(archive.read("otter_config.json"))


def test_config_keys_keep_otters_meaning(builds):
    # config_file sets show_hidden: true -> after_published, as otter's own build
    built, _, otter_zip = builds["config-file"]
    assert built.hidden_results == "after_published"
    assert _otter_config(built.autograder_zip) == _otter_config(otter_zip)
    assert any("grader.check_all()" in s for s in _code_cells(built.student_notebook))  # from the config file
    # generate: true and no show_hidden: otter's default, hidden
    for name in ("ok-format", "points-forms"):
        built, _, otter_zip = builds[name]
        assert built.hidden_results == "hidden"
        assert _otter_config(built.autograder_zip) == {"show_hidden": False, **_otter_config(otter_zip)}
    # intercell seeding reaches the autograder's configuration
    assert _otter_config(builds["seed-variable"][0].autograder_zip)["seed_variable"] == "rng_seed"
    assert _otter_config(builds["seed-intercell"][0].autograder_zip)["seed"] == 42


def test_no_torch_assignment_installs_its_requirements(builds):
    built = builds["data-files"][0]
    with zipfile.ZipFile(built.autograder_zip) as archive:
        env = yaml.safe_load(archive.read("environment.yml"))
        assert "files/data.csv" in archive.namelist()
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "numpy" in pip and "pandas" in pip
    assert not any(re.match(r"torch\b", line) for line in pip)
    assert (built.student_notebook.parent / "data.csv").read_bytes() == (CORPUS / "data-files" / "data.csv").read_bytes()
    from autograder.shipped_files import shipped_files

    assert shipped_files(built.autograder_zip) == {"data.csv"}


# --- broken master notebooks ---------------------------------------------------------------

_CFG = ("raw", "# ASSIGNMENT CONFIG\ntests:\n  ok_format: false\nexport_cell: false\n")


def _q(name="q1", cfg="points: 1", sol="a = 1  # SOLUTION", test=None):
    return [_question(name, cfg), BEGIN_S, ("code", sol), END_S, BEGIN_T,
            test or _exception_test("test_a", "assert env['a'] == 1"), END_T, END_Q]


BROKEN = {  # name -> (cells, expected cell number, words of the reason)
    "bad-yaml-config": ([("raw", "# ASSIGNMENT CONFIG\ntests: [ok_format: false\n")] + _q(), 1, "not valid YAML"),
    "unknown-config-key": ([("raw", "# ASSIGNMENT CONFIG\nno_such_key: 1\n")] + _q(), 1, "Unexpected key found in config: 'no_such_key'"),
    "unclosed-solution": ([_CFG] + _q(sol="def f():\n    # BEGIN SOLUTION\n    return 1\na = 1"), 4, "BEGIN SOLUTION without END SOLUTION"),
    "unclosed-ignore": ([_CFG, ("code", "# BEGIN IGNORE\nx = 1")] + _q(), 2, "BEGIN IGNORE without END IGNORE"),
    "tests-outside-question": ([_CFG, BEGIN_T, _exception_test("test_a", "assert True"), END_T] + _q(), 2,
                               "Found a begin tests cell outside a question"),
    "duplicate-question": ([_CFG] + _q() + _q(), 10, "question name 'q1' is used again (first in cell 2)"),
    "end-without-begin": ([_CFG, END_Q] + _q(), 2, "Found an end question cell with no begin block cell"),
    "bad-yaml-question": ([_CFG, ("raw", "# BEGIN QUESTION\nname: [q1\n"), BEGIN_S, ("code", "a = 1  # SOLUTION"), END_S, END_Q], 2,
                          "ParserError"),
    "points-list-length": ([_CFG] + _q(cfg="points: [1, 2]"), 2, "length of 'points' is 2 but there are 1 tests"),
    "test-syntax-error": ([_CFG] + _q(test=("code", "def test_a(env):\n    assert env['a'] ==\n")), 7, "invalid Python syntax"),
    "unclosed-question": ([_CFG, _question("q1"), BEGIN_S, ("code", "a = 1  # SOLUTION"), END_S], 2,
                          "BEGIN QUESTION has no END QUESTION"),
    "question-without-name": ([_CFG, ("raw", "# BEGIN QUESTION\npoints: 1\n"), BEGIN_S, ("code", "a = 1  # SOLUTION"), END_S, END_Q], 2,
                              "Question name not specified"),
    "show-hidden-contradiction": ([("raw", "# ASSIGNMENT CONFIG\ngradkit:\n  hidden_results: after_published\n"
                                          "generate:\n  show_hidden: false\n")] + _q(), 1,
                                  "`generate: show_hidden: false` contradicts `gradkit: hidden_results: after_published`"),
    "missing-config-file": ([("raw", "# ASSIGNMENT CONFIG\nconfig_file: nowhere.yml\n")] + _q(), 1, "config_file nowhere.yml: cannot read it"),
    "seed-line-without-seed": ([_CFG, ("code", "import random\nrandom.seed(1)  # SEED")] + _q(), None,
                               "Seeding cell found but no or invalid seed provided"),
}


@pytest.fixture(scope="module")
def broken_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    for name, (cells, _, _) in BROKEN.items():
        (root / name).mkdir()
        nbformat.write(_nb(cells), root / name / f"{name}.ipynb")
    return root


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_master_notebook_gives_one_line_with_the_cell(broken_folder, tmp_path, name):
    _, cell, reason = BROKEN[name]
    with pytest.raises(BuildError) as info:
        build_assignment(broken_folder / name, tmp_path / "dist", verify=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(broken_folder / name / f"{name}.ipynb") + ": ")
    if cell is not None:
        assert f": cell {cell}" in message, message
    assert reason in message, message


def test_gradkit_build_of_a_folder_builds_the_good_and_names_the_broken(broken_folder, tmp_path):
    """`gradkit build` over many folders: no traceback, one error line per broken notebook,
    the good ones built, exit code 1."""
    folders = [broken_folder / n for n in sorted(BROKEN)] + [CORPUS / "markers"]
    proc = subprocess.run([str(Path(sys.executable).parent / "gradkit"), "build", "--no-verify", "--out", str(tmp_path / "dist"),
                           *map(str, folders)], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == len(BROKEN), proc.stderr
    assert "markers: 3 points" in proc.stdout
    assert sum(question_points(tmp_path / "dist" / "markers" / "autograder" / "markers-autograder.zip").values()) == 3


def test_only_reads_of_shipped_files_are_exempt_from_review():
    from autograder.findings import Finding
    from autograder.shipped_files import drop_shipped_file_reads

    def finding(code, message):
        return Finding(cell=3, line=1, code=code, rule="file", message=message)

    kept = [
        finding("df.to_csv('data.csv')", "reads or writes a file (to_csv)"),  # a write
        finding("pd.read_csv('tests/q1.py')", "reads or writes a file (read_csv)"),  # not shipped
        finding("pd.read_csv(path)", "reads or writes a file (read_csv)"),  # computed path
        finding("open('data.csv', 'w')", "opens a file"),
        finding("open('data.csv', mode)", "opens a file"),  # a mode the screen cannot read
        finding("open('data.csv', 'r+')", "opens a file"),
        finding("pd.read_csv('data.csv'); open('/etc/passwd')", "opens a file"),
        finding("x = pickle.loads(open('data.csv', 'rb').read())", "unpickles data, which runs code (loads)"),
    ]
    dropped = [finding("df = pd.read_csv('data.csv')", "reads or writes a file (read_csv)"),
               finding("text = open('./data.csv').read()", "opens a file"),
               finding("f = open('data.csv', 'r', encoding='utf-8')", "opens a file")]
    assert drop_shipped_file_reads(kept + dropped, {"data.csv"}) == kept
    assert drop_shipped_file_reads(dropped, set()) == dropped


def test_ok_format_tests_survive_a_patched_doctest(builds, engines, tmp_path):
    """OK-format tests run with doctest in the fork engine's child: a submission that
    replaces doctest's runner (every doctest "passes") has it put back before the tests run,
    earns nothing from it and is flagged."""
    built = builds["ok-format"][0]
    nb = nbformat.read(built.student_notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import doctest\nclass R(doctest.DocTestRunner):\n    def summarize(self, verbose=None):\n"
        "        return doctest.TestResults(0, 1)\nsetattr(doctest, 'DocTestRunner', R)"))
    path = tmp_path / "ok-format.ipynb"
    nbformat.write(nb, path)
    outcome = engines["fork"].grade(Submission(path, "patched"), built.autograder_zip, limits=Limits())
    assert outcome.scores == {q: 0.0 for q in built.points}
    assert any("doctest.DocTestRunner was replaced" in f.message for f in outcome.findings), outcome.findings
