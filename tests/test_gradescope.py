"""The autograder zip, run unchanged in a reproduction of Gradescope's layout.

Gradescope (autograder specification, "File hierarchy"): the zip is unpacked to
``/autograder/source``, the student's upload is in ``/autograder/submission``, metadata in
``/autograder/submission_metadata.json``, the working directory is ``/autograder``, the zip's
``run_autograder`` runs, and ``/autograder/results/results.json`` is read. ``setup.sh`` ran
once when the image was built: it installed mamba and the ``otter-env`` environment from the
zip's ``environment.yml``.

Here that layout lives in a temporary root, not ``/autograder``, and the grading
environment is this test's own virtualenv standing in for ``otter-env``. Everything else
is the zip's own files, executed as they are.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.shipped import gradkit_checks
from autograder.shipped.gradkit_visibility import OTTER_SHOWN_VISIBILITY
from autograder.results_schema import ResultsSchemaError, validate_results, validate_results_file
from instructor.build import SUBMISSION_SCRIPT, VISIBILITY_SCRIPT, build_assignment
from instructor.samples import fill_notebook

ASSIGNMENT = Path(__file__).resolve().parent.parent / "assignments" / "autograd-basics"

GRADESCOPE_ROOT = "/autograder"
"""The autograder directory Otter writes into run_autograder and run_otter.py."""

HIDDEN_FEEDBACK = "`grad1` has the wrong value"
"""q1-math-log's feedback from a hidden q1 test (must never be visible before its time)."""


def _mamba_stand_in(bin_dir: Path) -> None:
    """A ``mamba`` for run_autograder's ``eval "$(mamba shell hook --shell bash)"`` and
    ``mamba activate otter-env``: activating otter-env puts this virtualenv's bin first on
    PATH, as the real activation puts the environment setup.sh built."""
    venv_bin = Path(sys.executable).parent
    hook = (
        'mamba() {\n'
        '  if [ "$1" = activate ] && [ "$2" = otter-env ]; then\n'
        f'    export PATH="{venv_bin}:$PATH"\n'
        '  else\n'
        '    echo "mamba stand-in: unsupported: mamba $*" >&2; return 1\n'
        '  fi\n'
        '}\n'
    )
    script = bin_dir / "mamba"
    script.write_text(
        "#!/bin/bash\n"
        'if [ "$*" = "shell hook --shell bash" ]; then\n'
        f"cat <<'HOOK'\n{hook}HOOK\n"
        "else\n"
        '  echo "mamba stand-in: unsupported: mamba $*" >&2; exit 1\n'
        "fi\n",
        encoding="utf-8",
    )
    script.chmod(0o755)


def run_in_gradescope_layout(autograder_zip: Path, submission: Path, root: Path, timeout: float = 900,
                             prefix: tuple[str, ...] = ()):
    """Grade ``submission`` the way Gradescope does, inside ``root`` instead of /autograder.

    ``prefix``: a command run_autograder is started through (``prefix + [run_autograder]``),
    e.g. one that does in a private mount namespace what the zip's setup.sh does to a
    container (tests/test_gradescope_engine.py).

    Returns:
        (results dict, CompletedProcess of run_autograder).
    """
    assert not Path(GRADESCOPE_ROOT).exists(), "this test must not run where a real /autograder exists"
    root.mkdir(parents=True)
    source = root / "source"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(source)
    (root / "submission").mkdir()
    shutil.copy(submission, root / "submission" / submission.name)
    (root / "results").mkdir()  # created by Gradescope's harness (it writes results/stdout there)
    (root / "submission_metadata.json").write_text(json.dumps({
        "id": 123456,
        "created_at": "2026-11-29T12:00:00.000000-08:00",
        "assignment": {"title": "autograd-basics", "due_date": "2026-12-01T23:59:00.000000-08:00"},
        "users": [{"name": "Ada Student", "email": "ada@example.edu", "id": 42}],
        "previous_submissions": [],
    }), encoding="utf-8")

    # THE ONE SUBSTITUTION: Otter renders its autograder_dir (default "/autograder") as a
    # literal into run_autograder (`python /autograder/source/run_otter.py`, gradkit's
    # submission line before it and visibility line after it) and run_otter.py (`run_autograder("/autograder")`, i.e.
    # otter.run.run_autograder.main(autograder_dir)). /autograder does not exist on this
    # machine and must not be created, so in exactly these two files the literal
    # "/autograder" becomes `root`. No other byte of the zip changes.
    uses = {  # every place the literal may appear: a path under it, or Otter's main() argument
        "run_autograder": rf"{GRADESCOPE_ROOT}/(source|results|submission)/",
        "run_otter.py": rf'run_autograder\("{GRADESCOPE_ROOT}"\)',
    }
    for name, use in uses.items():
        path = source / name
        text = path.read_text(encoding="utf-8")
        assert 0 < text.count(GRADESCOPE_ROOT) == len(re.findall(use, text)), f"{name}: unexpected use of {GRADESCOPE_ROOT}:\n{text}"
        path.write_text(text.replace(GRADESCOPE_ROOT, str(root)), encoding="utf-8")
    assert GRADESCOPE_ROOT not in (source / "otter_config.json").read_text(encoding="utf-8")
    run_autograder = source / "run_autograder"
    run_autograder.chmod(run_autograder.stat().st_mode | stat.S_IXUSR)  # Gradescope makes it executable

    shims = root.parent / f"{root.name}-bin"
    shims.mkdir()
    _mamba_stand_in(shims)
    home = root.parent / f"{root.name}-home"
    home.mkdir()
    # A bare environment: no PYTHONPATH, no virtualenv on PATH until `mamba activate otter-env`.
    env = {"PATH": f"{shims}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    proc = subprocess.run([*prefix, str(run_autograder)], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    results_path = root / "results" / "results.json"
    assert results_path.is_file(), f"run_autograder wrote no results.json (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(results_path.read_text(encoding="utf-8")), proc


def _visible_texts(results: dict) -> list[str]:
    """Every text a student sees on Gradescope while grades are not yet published and the
    due date has not passed: entries whose visibility is ``visible`` (a test without one
    inherits the top-level visibility, whose default is ``visible``)."""
    top = results.get("visibility", "visible")
    texts = [results.get("output", "")] if top == "visible" else []
    for test in results["tests"]:
        if test.get("visibility", top) == "visible":
            texts += [test.get("name", ""), test.get("output", "")]
    return texts


def _sample_notebook(student_notebook: Path, sample, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / student_notebook.name  # a student uploads the notebook under its own name
    nbformat.write(fill_notebook(nbformat.read(student_notebook, as_version=4), sample), path)
    return path


def _check_visibility(results: dict, sample, expected_visibility: str) -> None:
    question_entries = [t for t in results["tests"] if "max_score" in t]
    assert sorted(t["name"] for t in question_entries) == ["q1", "q2", "q3"]
    assert all(t["visibility"] == expected_visibility for t in question_entries), [(t["name"], t["visibility"]) for t in question_entries]
    # the hidden feedback is in results.json (so the check below is not vacuous) ...
    q1 = next(t for t in question_entries if t["name"] == "q1")
    assert HIDDEN_FEEDBACK in q1["output"]
    # ... but not in anything a student can see now
    for text in _visible_texts(results):
        assert HIDDEN_FEEDBACK not in text, f"hidden feedback visible to students:\n{text}"
    public = [t for t in results["tests"] if t.get("name") == "Public Tests"]
    assert len(public) == 1 and public[0]["visibility"] == "visible"
    assert results.get("stdout_visibility", "hidden") == "hidden"


@pytest.fixture(scope="module")
def math_log_sample(bundled_samples):
    return next(s for s in bundled_samples if s.name == "q1-math-log")


@pytest.fixture(scope="module")
def gradescope_run(math_log_zip_run):
    """q1-math-log (a hidden q1 test fails) graded by the built zip in Gradescope's layout
    (the session's run, tests/conftest.py's ``math_log_zip_run``)."""
    return math_log_zip_run


def test_zip_runs_unchanged_in_gradescope_layout(gradescope_run, math_log_sample):
    results, proc = gradescope_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mamba stand-in: unsupported" not in proc.stderr
    scores = {t["name"]: t["score"] for t in results["tests"] if "max_score" in t}
    assert scores == math_log_sample.expected
    assert {t["name"]: t["max_score"] for t in results["tests"] if "max_score" in t} == {"q1": 2, "q2": 3, "q3": 5}


def test_gradescope_results_follow_the_schema(gradescope_run):
    validate_results(gradescope_run[0], source="Gradescope-layout results.json")


def test_hidden_results_are_shown_after_the_due_date_only(built, gradescope_run, math_log_sample):
    """The bundled assignment sets `gradkit: hidden_results: after_due_date`."""
    assert built.hidden_results == "after_due_date"
    results, proc = gradescope_run
    _check_visibility(results, math_log_sample, "after_due_date")
    assert HIDDEN_FEEDBACK not in proc.stdout  # the autograder's stdout (instructors only) is summary tables


def test_zip_carries_cpu_torch_requirements_and_the_check_library(built):
    with zipfile.ZipFile(built.autograder_zip) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "run_otter.py", "environment.yml", "otter_config.json", VISIBILITY_SCRIPT,
                SUBMISSION_SCRIPT} <= names
        assert archive.read("files/gradkit_checks.py") == Path(gradkit_checks.__file__).read_bytes()
        setup = archive.read("setup.sh").decode()
        env = yaml.safe_load(archive.read("environment.yml"))
        otter_config = json.loads(archive.read("otter_config.json"))
    # setup.sh (not run here: it installs mamba and apt packages) builds otter-env from environment.yml
    assert re.search(r"mamba env create -f \S+/source/environment\.yml", setup)
    assert env["name"] == "otter-env"
    assert "python=3.11" in env["dependencies"]  # the Python gradkit's build verifies with
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
    torch = [line for line in pip if re.match(r"torch\b", line)]
    assert torch == ["torch==2.13.0+cpu"], pip  # a local version that only the CPU index has
    assert any(line.startswith("otter-grader") for line in pip)
    assert otter_config["show_hidden"] is True and otter_config["pdf"] is False


@pytest.mark.slow  # runs the zip's run_autograder (otter)
def test_otters_show_hidden_gives_after_published(math_log_sample, tmp_path):
    """Without a `gradkit:` setting, Otter's own `generate: show_hidden: true` keeps its
    meaning (`after_published`), and the zip has no visibility step."""
    assignment = tmp_path / "assignments" / ASSIGNMENT.name
    shutil.copytree(ASSIGNMENT, assignment, ignore=shutil.ignore_patterns("samples"))
    master = assignment / f"{ASSIGNMENT.name}.ipynb"
    nb = nbformat.read(master, as_version=4)
    config = yaml.safe_load(nb.cells[0].source)
    del config["gradkit"]
    config["generate"] = {**(config.get("generate") or {}), "show_hidden": True}
    nb.cells[0].source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    nbformat.write(nb, master)
    built = build_assignment(assignment, tmp_path / "dist", verify=False)
    assert built.hidden_results == OTTER_SHOWN_VISIBILITY == "after_published"
    with zipfile.ZipFile(built.autograder_zip) as archive:
        assert VISIBILITY_SCRIPT not in archive.namelist()
        assert VISIBILITY_SCRIPT not in archive.read("run_autograder").decode()
    notebook = _sample_notebook(built.student_notebook, math_log_sample, tmp_path / "upload")
    results, proc = run_in_gradescope_layout(built.autograder_zip, notebook, tmp_path / "root")
    assert proc.returncode == 0, proc.stderr[-3000:]
    validate_results(results)
    _check_visibility(results, math_log_sample, "after_published")
    # neither setting: Otter's default show_hidden false, hidden
    del config["generate"]["show_hidden"]
    nb.cells[0].source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    nbformat.write(nb, master)
    built = build_assignment(assignment, tmp_path / "dist", verify=False)
    assert built.hidden_results == "hidden"
    with zipfile.ZipFile(built.autograder_zip) as archive:
        assert json.loads(archive.read("otter_config.json"))["show_hidden"] is False


def test_bad_gradkit_setting_is_refused(tmp_path):
    from instructor.build import BuildError

    assignment = tmp_path / ASSIGNMENT.name
    shutil.copytree(ASSIGNMENT, assignment, ignore=shutil.ignore_patterns("samples"))
    master = assignment / f"{ASSIGNMENT.name}.ipynb"
    nb = nbformat.read(master, as_version=4)
    original = nb.cells[0].source
    for bad, message in (
        ("hidden_results: after_deadline", "hidden_results is 'after_deadline'"),
        ("hidden_result: after_due_date", "unknown setting(s) hidden_result"),
    ):
        nb.cells[0].source = re.sub(r"hidden_results: \w+", bad, original)
        nbformat.write(nb, master)
        with pytest.raises(BuildError, match=re.escape(message)):
            build_assignment(assignment, tmp_path / "dist", verify=False)
    # show_hidden keeps Otter's meaning: agreeing with hidden_results is fine, contradicting it is not
    nb.cells[0].source = original.replace("generate:\n", "generate:\n  show_hidden: true\n")
    nbformat.write(nb, master)
    assert build_assignment(assignment, tmp_path / "dist", verify=False).hidden_results == "after_due_date"
    nb.cells[0].source = original.replace("generate:\n", "generate:\n  show_hidden: false\n")
    nbformat.write(nb, master)
    with pytest.raises(BuildError, match="`generate: show_hidden: false` contradicts `gradkit: hidden_results: after_due_date`"):
        build_assignment(assignment, tmp_path / "dist", verify=False)


def test_every_results_json_of_gradkit_grade_follows_the_schema(graded_samples):
    samples, _, out = graded_samples
    files = sorted((out / "results").glob("*.json"))
    assert len(files) == len(samples)
    for path in files:
        validate_results_file(path)


def test_a_broken_results_json_is_refused_naming_the_field(gradescope_run):
    results = json.loads(json.dumps(gradescope_run[0]))
    results["tests"][1]["visibility"] = "after_deadline"
    results["tests"][2]["status"] = "ok"
    results["scroe"] = 3
    with pytest.raises(ResultsSchemaError) as caught:
        validate_results(results, source="broken.json")
    message = str(caught.value)
    assert "broken.json" in message
    assert "$.tests[1].visibility: 'after_deadline' is not one of" in message
    assert "$.tests[2].status: 'ok' is not one of ['passed', 'failed']" in message
    assert "$.scroe: unknown field" in message
    with pytest.raises(ResultsSchemaError, match=r"\$: needs a top-level 'score' or a 'tests' list"):
        validate_results({"output": "nothing graded"})
