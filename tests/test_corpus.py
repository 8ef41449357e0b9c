"""The check corpus: typical mistakes and unusual correct solutions, graded for real.

Every sample in ``tests/corpus/autograd-basics`` is typed into the built student
notebook, graded through ``gradkit grade`` (real kernel, real otter tests, the default
``fork`` engine), and must earn exactly its expected points per question, with the
expected feedback fragments in its results.json. Fragments marked ``public-feedback``
must also appear in the output of the student's own ``grader.check`` when the notebook
runs in a kernel.

The corpus is the fairness corpus of issue 11; the file name's first letter says what a
sample is:

* ``c``, ``h``: correct and honest work (``h``: every correct use of autograd and every
  harmless cell after the answers that issue 11 lists). Full points, ``Completed``, no
  finding of the screen or of the run.
* ``m``: one mistake; ``e``: two mistakes that show error carried forward. Their points
  are those of the README's rubric ("How grading decides").

Two more header lines, read here (``instructor.samples`` ignores them):

* ``# fails: q3_public q3_linear_grads`` (or ``none``): exactly the test cases that fail,
  named after the master notebook's test functions without ``test_`` (the rubric's
  "fails" column);
* ``# structural: q3_linear_grads``: the hidden test cases among them that fail for a
  structural reason (a fault the rubric has a public test charge: a missing or ``...``
  answer, a wrong shape or type, an answer not produced by autograd, a graph that does
  not reach the inputs, the wrong optimizer...). For each of them the question's public
  test must fail too: a public pass means the structure is right, so a hidden failure
  after it can only be about values (issue 11, point 4).
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from instructor.batch import results_file_name
from instructor.cli import main as cli
from instructor.gradebook import Gradebook
from instructor.samples import fill_notebook, load_samples, write_samples

CORPUS = Path(__file__).parent / "corpus" / "autograd-basics"
SAMPLES = load_samples(CORPUS)
MISTAKES = [s for s in SAMPLES if s.name.startswith("m")]
TWO_MISTAKES = [s for s in SAMPLES if s.name.startswith("e")]
CORRECT = [s for s in SAMPLES if s.name.startswith("c")]
HONEST = [s for s in SAMPLES if s.name.startswith("h")]
FULL_MARKS = CORRECT + HONEST

STRUCTURAL_DIAGNOSES = (
    "is still `...`",
    "is None (or not defined)",
    "should have shape",
    "it is transposed",
    "was not read from",
    "should return a pair",
    "returned None",
    "does not require grad",
    "is not a leaf tensor",
    "leaves the autograd graph",
    "no backward pass reached",
    "an elementwise function returns the shape of its input",
    "should be a torch.optim",
    "should use lr=",
)
"""Fragments of the check library's diagnoses of structural faults (the rubric's public
"charges"): a hidden test that fails with one of them must come with a failing public test."""


def _header(sample, key: str) -> set[str] | None:
    """The test-case names of a ``# fails:`` / ``# structural:`` line, or None without one."""
    for line in sample.path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            break
        if line.startswith(f"# {key}:"):
            names = line.split(":", 1)[1].split()
            return set() if names == ["none"] else set(names)
    return None


def cases_of(autograder_zip: Path) -> dict[str, list[tuple[str, bool]]]:
    """question -> [(test case name, hidden)] in the order otter numbers them (``q3 - 1``...),
    read from the zip's ``tests/<question>.py``; a test case is named after its function
    without ``test_`` (``q3_public``)."""
    cases = {}
    with zipfile.ZipFile(autograder_zip) as zf:
        for member in zf.namelist():
            match = re.fullmatch(r"tests/(\w+)\.py", member)
            if not match:
                continue
            listed = []
            for node in ast.parse(zf.read(member).decode("utf-8")).body:
                for deco in getattr(node, "decorator_list", []):
                    if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "test_case":
                        options = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                        listed.append((node.name.removeprefix("test_"), bool(options.get("hidden", False))))
            cases[match.group(1)] = listed
    return cases


def case_outcomes(results: dict, cases: dict[str, list[tuple[str, bool]]]) -> dict[str, tuple[bool, str]]:
    """test case name -> (passed, its message) from a results.json: each question's entry
    holds otter's summary of every test case, public and hidden (``q3 - 2 result: ...``)."""
    outputs = {t["name"]: t.get("output", "") for t in results["tests"]}
    outcomes = {}
    for question, listed in cases.items():
        text = outputs[question]
        if re.search(rf"^{question} results: All test cases passed!", text, re.M):
            outcomes.update({name: (True, "") for name, _ in listed})
            continue
        blocks = re.split(rf"^\s*{question} - (\d+) result:\n", text, flags=re.M)
        by_index = {int(blocks[i]): blocks[i + 1] for i in range(1, len(blocks), 2)}
        assert set(by_index) == set(range(1, len(listed) + 1)), f"cannot read the test cases of {question} from:\n{text}"
        for index, (name, _) in enumerate(listed, 1):
            block = by_index[index]
            assert ("Test case passed" in block) != ("Test case failed" in block), block
            outcomes[name] = ("Test case passed" in block, block)
    return outcomes


def _grade(built, notebooks_dir: Path, out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(notebooks_dir)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")


@pytest.fixture(scope="module")
def corpus_graded(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_samples(built.student_notebook, SAMPLES, root / "corpus")
    return _grade(built, root / "corpus", root / "out"), root


@pytest.fixture(scope="module")
def outcomes(built, corpus_graded):
    """sample name -> test case name -> (passed, message)."""
    _, root = corpus_graded
    cases = cases_of(built.autograder_zip)
    return {s.name: case_outcomes(_results(root, s), cases) for s in SAMPLES}


def _results(root: Path, sample) -> dict:
    return json.loads((root / "out" / "results" / results_file_name(f"corpus/{sample.name}.ipynb")).read_text())


def test_corpus_size():
    on_disk = sorted(p.stem for p in CORPUS.glob("*.py"))
    assert [s.name for s in SAMPLES] == on_disk
    assert len(HONEST) == sum(n.startswith("h") for n in on_disk) >= 20
    assert len(CORRECT) == sum(n.startswith("c") for n in on_disk) >= 8
    assert len(MISTAKES) == sum(n.startswith("m") for n in on_disk) >= 25 + 33  # the fairness corpus's single mistakes and the earlier ones
    assert len(TWO_MISTAKES) == sum(n.startswith("e") for n in on_disk) >= 5
    assert len(SAMPLES) == len(FULL_MARKS + MISTAKES + TWO_MISTAKES), "every sample name starts with c, h, m or e"
    assert all(sum(s.expected.values()) == 10 for s in FULL_MARKS)
    assert all(sum(s.expected.values()) < 10 for s in MISTAKES + TWO_MISTAKES)
    assert all(s.feedback for s in MISTAKES + TWO_MISTAKES), "every mistake names a feedback fragment"
    for sample in SAMPLES:
        fails, structural = _header(sample, "fails"), _header(sample, "structural") or set()
        assert fails is not None, f"{sample.name}: no '# fails:' line"
        assert (fails == set()) == (sample in FULL_MARKS), sample.name
        assert structural <= fails, f"{sample.name}: a structural failure must be listed in '# fails:'"
        assert not any(name.endswith("_public") for name in structural), f"{sample.name}: '# structural:' names hidden tests"
    assert all(len(_header(s, "fails")) >= 2 for s in TWO_MISTAKES)


def test_headers_name_real_test_cases(built):
    names = {name for listed in cases_of(built.autograder_zip).values() for name, _ in listed}
    assert {"q1_public", "q3_linear_grads"} <= names
    for sample in SAMPLES:
        assert _header(sample, "fails") | (_header(sample, "structural") or set()) <= names, sample.name


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample_earns_exactly_its_points_with_its_feedback(sample, corpus_graded, outcomes):
    table, root = corpus_graded
    row = table.loc[f"corpus/{sample.name}.ipynb"]
    assert row["grading_status"] == "Completed"
    assert {q: row[q] for q in sample.expected} == sample.expected
    failed = {name for name, (passed, _) in outcomes[sample.name].items() if not passed}
    assert failed == _header(sample, "fails"), f"{sample.name}: failing test cases"
    results = _results(root, sample)
    outputs = {t["name"]: t.get("output", "") for t in results["tests"]}
    for question, fragments in sample.feedback.items():
        for fragment in fragments:
            assert fragment in outputs[question], f"{sample.name}: {fragment!r} not in the feedback of {question}:\n{outputs[question]}"


@pytest.mark.parametrize("sample", FULL_MARKS, ids=lambda s: s.name)
def test_honest_work_raises_no_finding(sample, corpus_graded):
    """Neither the static screen nor the run-time guards find anything in honest work."""
    _, root = corpus_graded
    with Gradebook(root / "out") as book:
        (row,) = book.rows([f"corpus/{sample.name}.ipynb"])
    assert row.findings == [], f"{sample.name}: {row.findings}"
    assert row.status == "Completed"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_public_and_hidden_tests_agree(sample, built, outcomes):
    """A hidden test that fails for a structural reason has a public test that fails too:
    the ones the sample names (``# structural:``), and any whose message is one of the
    check library's structural diagnoses."""
    cases = cases_of(built.autograder_zip)
    declared = _header(sample, "structural") or set()
    result = outcomes[sample.name]
    for question, listed in cases.items():
        public = [name for name, hidden in listed if not hidden]
        public_failed = any(not result[name][0] for name in public)
        for name, hidden in listed:
            passed, message = result[name]
            if not hidden or passed:
                continue
            diagnosis = next((d for d in STRUCTURAL_DIAGNOSES if d in message), None)
            if name in declared or diagnosis:
                assert public_failed, (
                    f"{sample.name}: hidden {name} failed for a structural reason "
                    f"({'named in # structural:' if name in declared else repr(diagnosis)}) but {public} passed:\n{message}")
        for name in declared & {n for n, _ in listed}:
            assert not result[name][0], f"{sample.name}: {name} is named structural but passed"


PUBLIC = [s for s in SAMPLES if s.public_feedback]


PUBLIC_AT_ONCE = 2
"""Notebooks of :data:`PUBLIC` run at once, each in its own kernel (a kernel uses one core)."""


@pytest.fixture(scope="module")
def public_runs(built, tmp_path_factory) -> dict[str, nbformat.NotebookNode | BaseException]:
    """sample name -> the filled notebook of every :data:`PUBLIC` sample, run as a student
    would, in a real kernel of its own, beside gradkit_checks.py (or what its run raised).

    Each kernel is ipykernel's, forked from one process that imported ipykernel, torch and
    otter once (:mod:`tests.ipykernel_fork`): started the usual way, a kernel spent about
    4.7 of a sample's 5.8 CPU-seconds starting and importing (35 samples: about 200 of the
    suite's CPU-seconds, measured 2026-12-01)."""
    from .ipykernel_fork import warm_kernels

    root = tmp_path_factory.mktemp("public")

    async def run(sample, gate, kernel_manager):
        folder = root / sample.name
        shutil.copytree(built.student_notebook.parent, folder)
        nb = fill_notebook(nbformat.read(built.student_notebook, as_version=4), sample)
        nb.cells = [c for c in nb.cells if "grader.export(" not in c.source]
        async with gate:
            try:
                await NotebookClient(nb, km=kernel_manager(), timeout=300, allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}}).async_execute()
            except Exception as error:  # reported by the sample's own test
                return error
        return nb

    async def run_all(kernel_manager):
        gate = asyncio.Semaphore(PUBLIC_AT_ONCE)
        return await asyncio.gather(*(run(sample, gate, kernel_manager) for sample in PUBLIC))

    with warm_kernels() as kernel_manager:
        return dict(zip((s.name for s in PUBLIC), asyncio.run(run_all(kernel_manager))))


@pytest.mark.parametrize("sample", PUBLIC, ids=lambda s: s.name)
def test_public_feedback_reaches_the_student_in_grader_check(sample, public_runs):
    """The filled notebook run as a student would, in a real kernel, beside gradkit_checks.py."""
    nb = public_runs[sample.name]
    if isinstance(nb, BaseException):
        raise nb
    for question, fragments in sample.public_feedback.items():
        check_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == f'grader.check("{question}")']
        assert len(check_cells) == 1
        shown = json.dumps(check_cells[0].outputs)
        for fragment in fragments:
            assert json.dumps(fragment)[1:-1] in shown, f"{sample.name}: {fragment!r} not shown by grader.check({question!r}):\n{shown[:3000]}"


def test_same_submission_graded_twice_gets_the_same_result(built, corpus_graded, tmp_path):
    table, root = corpus_graded
    again = tmp_path / "again"
    again.mkdir()
    names = ["c03-autograd-grad", "m26-linear-grads-accumulates", "m09-numpy-log", "m23-read-after-step"]
    for name in names:
        shutil.copy(root / "corpus" / f"{name}.ipynb", again / f"{name}.ipynb")
    second = _grade(built, again, tmp_path / "out")
    for name in names:
        first_row = table.loc[f"corpus/{name}.ipynb"]
        second_row = second.loc[f"again/{name}.ipynb"]
        assert first_row.drop("grading_status").equals(second_row.drop("grading_status"))
        first_json = json.loads((root / "out" / "results" / results_file_name(f"corpus/{name}.ipynb")).read_text())
        second_json = json.loads((tmp_path / "out" / "results" / results_file_name(f"again/{name}.ipynb")).read_text())
        assert first_json["tests"] == second_json["tests"]
