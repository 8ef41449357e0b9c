"""``gradkit build``: turn a master notebook into a student version and an autograder zip.

Runs Otter Assign on a staged copy of the assignment folder (with the check library
``gradkit_checks.py`` added, and the hidden tests' value checks ``gradkit_reference.py``, for
the zip only: :data:`autograder.shipped.STAGED`), lays the output out at stable paths, then proves the
result: the solution notebook must earn every point and the blank student notebook none.

Every ASSIGNMENT CONFIG key Otter Assign 7 accepts keeps Otter's meaning; gradkit's own
settings live under a ``gradkit:`` key, taken out (and a ``config_file`` merged in) by
:mod:`instructor.assign_config` before Otter Assign sees the staged copy. A notebook Otter
rejects gives one line with the cell number and Otter's reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import shipped
from autograder.shipped import gradkit_visibility
from autograder.shipped_files import STUDENT_FILES_MANIFEST
from autograder.autograder_zip import AutograderZipError, question_points
from autograder.manual_questions import MANUAL_QUESTIONS_FILE, manual_questions_json
from autograder.engines import Limits, engine_here, get_engine
from autograder.points import points_possible
from autograder.status import RAN
from autograder.submissions import Submission
from instructor.zip_engine import engine_members, run_autograder_line, setup_lines, with_engine_requirements
from instructor.assign_config import AssignConfigError, check_question_blocks, prepare_assignment_config

logger = logging.getLogger(__name__)

__all__ = ["BuildError", "BuiltAssignment", "ZIP_DATE_TIME", "build_assignment", "find_master_notebook", "normalise_zip",
           "stable_cell_ids"]

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
"""The timestamp of every member of a built autograder zip (the earliest a zip can hold)."""

# the shipped files' names are defined once, in autograder.shipped
VISIBILITY_SCRIPT = shipped.file_name(shipped.VISIBILITY)
"""File name of :mod:`autograder.shipped.gradkit_visibility` at the root of the zip (``source/``)."""

SUBMISSION_SCRIPT = shipped.file_name(shipped.SUBMISSION)
"""File name of :mod:`autograder.shipped.gradkit_submission` at the root of the zip (``source/``)."""

_STAGING_IGNORE = shutil.ignore_patterns("dist", ".ipynb_checkpoints", "__pycache__", ".*")


class BuildError(Exception):
    """The assignment cannot be built; the message names the file and what is wrong."""


@dataclass(frozen=True)
class BuiltAssignment:
    """Where ``gradkit build`` put one assignment.

    Attributes:
        name: the assignment's name (its folder name).
        student_notebook: ``<out>/<name>/student/<name>.ipynb``.
        solution_notebook: ``<out>/<name>/autograder/<name>.ipynb``.
        autograder_zip: ``<out>/<name>/autograder/<name>-autograder.zip``.
        points: autograded question name -> points possible, from otter's test files
            (:func:`autograder.autograder_zip.question_points`; ``manual: true`` questions have
            no test file and are not in it).
        hidden_results: when Gradescope shows students the hidden test results, one of
            ``autograder.shipped.gradkit_visibility.HIDDEN_RESULTS_CHOICES``.
        manual_points: question name -> points possible, of the manually graded questions
            (``manual: true``; recorded in the zip, see :mod:`instructor.manual_build`).
        verification_note: why the build was verified with another engine than the
            default (:func:`autograder.engines.engine_here`: the fork engine needs Linux
            Landlock); None when verified with the default, or not verified.
        flagged: ``gradkit: flagged:``, whether a flagged submission's score counts on
            Gradescope (``"zero"``, the default, or ``"score"``).
    """

    name: str
    student_notebook: Path
    solution_notebook: Path
    autograder_zip: Path
    points: dict[str, float]
    hidden_results: str = gradkit_visibility.DEFAULT_HIDDEN_RESULTS
    manual_points: dict[str, float] = field(default_factory=dict)
    verification_note: str | None = None
    flagged: str = "zero"


def find_master_notebook(assignment_dir: Path) -> Path:
    """The master notebook of an assignment folder: ``<dir>/<dir name>.ipynb``.

    Raises:
        BuildError: the folder does not exist or has no such notebook.
    """
    assignment_dir = Path(assignment_dir)
    if not assignment_dir.is_dir():
        raise BuildError(f"{assignment_dir}: not an assignment folder")
    master = assignment_dir / f"{assignment_dir.name}.ipynb"
    if not master.is_file():
        found = sorted(p.name for p in assignment_dir.glob("*.ipynb"))
        raise BuildError(
            f"{assignment_dir}: expected the master notebook {master.name}"
            + (f" (found {', '.join(found)})" if found else " (no notebook found)")
        )
    return master


def build_assignment(assignment_dir: Path, out_dir: Path, *, verify: bool = True, timeout: float = 600) -> BuiltAssignment:
    """Build one assignment into ``out_dir/<name>/`` and verify it.

    Args:
        assignment_dir: folder holding the master notebook ``<name>.ipynb`` (Otter Assign
            format) and any support files it lists.
        out_dir: output root (``dist/``); ``out_dir/<name>/student`` and
            ``out_dir/<name>/autograder`` are replaced, other folders there are kept.
        verify: grade the solution (must earn every point) and the blank student notebook
            (must earn none) with the built zip.
        timeout: seconds allowed for each verification run.

    Returns:
        BuiltAssignment: the output paths and points.

    Raises:
        BuildError: no master notebook, a bad ``gradkit:`` setting, Otter Assign failed, the
            zip's requirements ask for a non-CPU torch, or verification failed.
    """
    assignment_dir = Path(assignment_dir).resolve()
    master = find_master_notebook(assignment_dir)
    name = assignment_dir.name
    target = Path(out_dir).resolve() / name
    with tempfile.TemporaryDirectory(prefix="gradkit-build-") as tmp:
        stage = Path(tmp, name)
        logger.info("%s: building %s into %s", name, master, target)
        shutil.copytree(assignment_dir, stage, ignore=_STAGING_IGNORE)
        for module in shipped.STAGED:  # the master notebook's files: / autograder_files: list them
            shutil.copyfile(shipped.source(module), stage / shipped.file_name(module))
        try:
            prepared = prepare_assignment_config(stage / master.name, master)
            hidden_results, flagged = prepared.hidden_results, prepared.flagged
            check_question_blocks(stage / master.name, master)
        except AssignConfigError as error:
            raise BuildError(str(error)) from None
        result = Path(tmp, "otter-output")
        logger.info("%s: ASSIGNMENT CONFIG prepared (hidden_results %s); running Otter Assign", name, hidden_results)
        _run_otter_assign(stage / master.name, result, master)
        zips = sorted((result / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise BuildError(f"{master}: Otter Assign wrote {len(zips)} autograder zips, expected 1")
        members = _read_zip(zips[0])  # the zip is read once here and written once by _write_normalised
        files = {info.filename: data for info, data in members}
        tested = sorted(Path(n).stem for n in files if n.startswith("tests/") and n.endswith(".py"))
        _check_cpu_torch(files["environment.yml"], master)
        manual_points = _manual_questions(stage / master.name, tested, master)
        logger.info("%s: Otter Assign wrote %s: tests of %s; graded by hand: %s", name, zips[0].name, ", ".join(tested) or "none",
                    ", ".join(manual_points) or "none")
        added = {"run_autograder": _run_autograder_with_steps(files.get("run_autograder", b""), hidden_results, zips[0].name),
                 SUBMISSION_SCRIPT: shipped.source(shipped.SUBMISSION).read_bytes(),
                 STUDENT_FILES_MANIFEST: _student_files_manifest(result / "student", master.name),
                 # gradkit's engine grades on Gradescope (issue 15): the package, its entry script, settings
                 **engine_members(flagged=flagged),
                 "setup.sh": files["setup.sh"] + setup_lines(_autograder_dir(files.get("run_autograder", b""))).encode("utf-8"),
                 "environment.yml": with_engine_requirements(files["environment.yml"])}
        if hidden_results == "after_due_date":
            added[VISIBILITY_SCRIPT] = shipped.source(shipped.VISIBILITY).read_bytes()
        if manual_points:
            added[MANUAL_QUESTIONS_FILE] = manual_questions_json(manual_points).encode("utf-8")
        for part in ("student", "autograder"):  # other folders (samples, grading output) stay
            shutil.rmtree(target / part, ignore_errors=True)
        shutil.copytree(result / "student", target / "student")
        shutil.copytree(result / "autograder", target / "autograder", ignore=shutil.ignore_patterns("*.zip"))
        for notebook in (target / "student" / master.name, target / "autograder" / master.name):
            stable_cell_ids(notebook, master)
        zip_path = target / "autograder" / f"{name}-autograder.zip"
        _write_normalised(_with_members(members, added), zip_path)
        logger.info("%s: wrote %s (added %s) and %s", name, zip_path, ", ".join(sorted(added)), target / "student" / master.name)
        _refuse_solutions_left_in(target / "student" / master.name, target / "autograder" / master.name, tested, master)
    try:
        points = question_points(zip_path)
    except AutograderZipError as error:
        if not tested:
            raise BuildError(f"{master}: Otter Assign found no autograded question (no test cells between "
                             "BEGIN TESTS and END TESTS inside a question)") from None
        raise BuildError(f"{master}: {error}") from None
    built = BuiltAssignment(
        name=name,
        student_notebook=target / "student" / master.name,
        solution_notebook=target / "autograder" / master.name,
        autograder_zip=zip_path,
        points=points,
        hidden_results=hidden_results,
        manual_points=manual_points,
        flagged=flagged,
    )
    if verify:
        note = _verify(built, master, timeout=timeout)
        if note:
            built = dataclasses.replace(built, verification_note=note)
    else:
        logger.info("%s: not verified (--no-verify)", name)
    return built


def _refuse_solutions_left_in(student: Path, solution: Path, questions: list[str], master: Path) -> None:
    """BuildError when one of the autograded ``questions`` has its answer cells reach the
    student notebook unchanged (:mod:`instructor.solutions_removed`), with or without
    verification: the student folder is removed so that no notebook holding an answer is
    left to hand out."""
    from .solutions_removed import questions_with_solution_left_in

    left = questions_with_solution_left_in(student, solution, questions)
    if left:
        shutil.rmtree(student.parent, ignore_errors=True)
        where = "; ".join(f"{q}: cell{'s' if len(cells) > 1 else ''} {', '.join(map(str, cells))}" for q, cells in left.items())
        raise BuildError(f"{master}: the student notebook would hold the solution ({where}): Otter Assign removes only "
                         "answer code between `# BEGIN SOLUTION` and `# END SOLUTION` raw cells (and, inside them, lines "
                         "ending in `# SOLUTION` or between `# BEGIN SOLUTION`/`# END SOLUTION` comments)")


def _manual_questions(staged: Path, tested: list[str], master: Path) -> dict[str, float]:
    """The master notebook's manual questions, found with Otter Assign's parser
    (:func:`instructor.manual_build.find_manual_questions`), checked against ``tested``,
    the questions that have a test file in the zip Otter wrote.

    Returns:
        dict[str, float]: manual question -> points possible ({} when none).

    Raises:
        BuildError: otter's parser rejects the notebook, a manual question also has tests,
            or every question is manual.
    """
    from .manual_build import find_manual_questions

    try:
        manual = find_manual_questions(staged)
    except ValueError as error:
        raise BuildError(f"{master}: Otter Assign cannot read its questions: {error}") from None
    if manual and not tested:
        raise BuildError(f"{master}: every question ({', '.join(manual)}) is `manual: true`; gradkit grades an "
                         "assignment with at least one autograded question (an all-manual one is not supported yet)")
    both = [q for q in sorted(manual) if q in tested]
    if both:
        raise BuildError(f"{master}: question(s) {', '.join(both)} are `manual: true` but have tests; "
                         "a question is either graded by hand or by its tests: remove `manual: true` or the tests")
    return manual


def _check_cpu_torch(environment_yml: bytes, master: Path) -> None:
    """Refuse a zip whose environment would install a CUDA torch on Gradescope.

    Otter puts the assignment's ``requirements:`` lines in the zip's ``environment.yml``
    (pip section), whose bytes ``environment_yml`` is. A torch requirement must pin a ``+cpu`` build or come with the CPU
    index ``https://download.pytorch.org/whl/cpu``.

    Raises:
        BuildError: torch is required without either.
    """
    import yaml

    env = yaml.safe_load(environment_yml)
    pip = [line for dep in env.get("dependencies", []) if isinstance(dep, dict) for line in dep.get("pip", [])]
    torch = [line for line in pip if re.match(r"torch\b(?![-_.\w])", line.strip(), flags=re.IGNORECASE)]
    cpu_index = any("download.pytorch.org/whl/cpu" in line for line in pip if line.strip().startswith("-"))
    if torch and not cpu_index and not all("+cpu" in line for line in torch):
        raise BuildError(
            f"{master}: the requirements ask for {', '.join(torch)} without the CPU-only build; on Gradescope "
            "that installs the multi-GB CUDA torch. Add `--extra-index-url https://download.pytorch.org/whl/cpu` "
            "and pin e.g. `torch==2.13.0+cpu` in the assignment's requirements file"
        )


def _run_autograder_with_steps(run_autograder: bytes, hidden_results: str, zip_name: str) -> bytes:
    """Otter's ``run_autograder`` with its ``python <dir>/source/run_otter.py`` line
    (``<dir>`` is the autograder directory Otter wrote into it, ``/autograder`` on
    Gradescope) replaced by gradkit's engine (:func:`instructor.zip_engine.run_autograder_line`,
    issue 15) and gradkit's steps around it; the build ships the scripts they run at the
    zip's root (``source/`` on Gradescope).

    * Before it, always: :mod:`autograder.shipped.gradkit_submission`
      gives a submitted notebook without ``metadata.otter.assignment_name`` (a jupytext
      round trip drops it) the zip's assignment name and drops a UTF-8 byte order mark, so
      Otter grades it as the engines of ``gradkit grade`` do instead of refusing it.
    * After it, for ``hidden_results == "after_due_date"`` only:
      :mod:`autograder.shipped.gradkit_visibility` rewrites
      ``<dir>/results/results.json``; the grading step's exit code is kept.

    Raises:
        BuildError: (naming ``zip_name``) ``run_autograder`` has no ``run_otter.py`` line, or,
            for the visibility step, does not end with it.
    """
    text = run_autograder.decode("utf-8")
    match = re.search(r"^python (\S+)/source/run_otter\.py\s*$", text, flags=re.MULTILINE)
    if match is None:
        raise BuildError(f"{zip_name}: Otter's run_autograder has no run_otter.py line; cannot add the submission step")
    ag_dir = match.group(1)
    if hidden_results == "after_due_date" and not text.rstrip("\n").endswith(match.group(0).rstrip()):
        raise BuildError(f"{zip_name}: Otter's run_autograder does not end by running run_otter.py; cannot add the visibility step")
    before = (
        f"# gradkit: a notebook that lost its Otter metadata (jupytext) gets the assignment name back;\n"
        f"# see source/{SUBMISSION_SCRIPT}\n"
        f"python {ag_dir}/source/{SUBMISSION_SCRIPT} {ag_dir}/submission/ {ag_dir}/source/otter_config.json\n"
    )
    text = text[:match.start()] + before + text[match.start():]
    # gradkit's engine grades, not Otter's run_otter.py (the file stays in the zip, unused)
    text = text.replace(match.group(0).rstrip(), run_autograder_line(ag_dir).rstrip("\n"), 1)
    if hidden_results == "after_due_date":
        text = text.rstrip("\n") + "\n" + (
            f"grade_status=$?\n"
            f"# gradkit: entries with hidden test results get visibility {hidden_results} (Otter's\n"
            f"# show_hidden gives only hidden or after_published); see source/{VISIBILITY_SCRIPT}\n"
            f"python {ag_dir}/source/{VISIBILITY_SCRIPT} {ag_dir}/results/results.json {hidden_results} || exit 1\n"
            f"exit $grade_status\n"
        )
    return text.encode("utf-8")


def _autograder_dir(run_autograder: bytes) -> str:
    """The autograder directory Otter wrote into ``run_autograder`` (``/autograder``)."""
    match = re.search(r"^python (\S+)/source/run_otter\.py\s*$", run_autograder.decode("utf-8"), flags=re.MULTILINE)
    return match.group(1) if match else "/autograder"


def _student_files_manifest(student_dir: Path, notebook_name: str) -> bytes:
    """The zip's ``STUDENT_FILES_MANIFEST``: a sorted JSON list of the relative paths of the
    files students get next to their notebook (Otter's ``files:``), as opposed to
    ``autograder_files:``, which the zip's ``files/`` holds too but students never see;
    :mod:`autograder.shipped_files` exempts reads of the former only."""
    import json

    handed_out = sorted(p.relative_to(student_dir).as_posix() for p in student_dir.rglob("*")
                        if p.is_file() and p.name != notebook_name)
    return (json.dumps(handed_out, indent=1) + "\n").encode("utf-8")


def stable_cell_ids(notebook: Path, master: Path) -> None:
    """Give the cells Otter Assign created (random ``id``) ids derived from their position
    and content, so that a rebuild of unchanged sources writes the same notebooks. Cells
    that keep the master notebook's id are left alone. Rewrites ``notebook`` in place (if it
    exists)."""
    import hashlib

    import nbformat

    if not notebook.is_file():
        return
    known = {c.get("id") for c in nbformat.read(master, as_version=4).cells}
    nb = nbformat.read(notebook, as_version=4)
    used = {c.get("id") for c in nb.cells if c.get("id") in known}
    for index, cell in enumerate(nb.cells):
        if "id" not in cell or cell["id"] in known:
            continue
        digest = hashlib.sha256(f"{index}\0{cell.cell_type}\0{cell.source}".encode("utf-8")).hexdigest()
        new_id = next(digest[i:i + 8] for i in range(0, 56) if digest[i:i + 8] not in used)
        used.add(new_id)
        cell["id"] = new_id
    nbformat.write(nb, notebook)


def normalise_zip(source: Path, target: Path) -> None:
    """Write ``source``'s members to ``target`` so that equal contents give equal bytes.

    Otter Assign stamps each member with the build time; a rebuild of unchanged sources
    would then give a new zip, a new autograder hash, and ``gradkit grade`` would regrade
    the class. Here members are sorted by name and each gets :data:`ZIP_DATE_TIME`,
    permissions ``0644`` (``0755`` for ``run_autograder``, ``setup.sh`` and other files
    Otter marked executable), no extra fields or comments, and DEFLATE at level 9. The file
    is written atomically.

    Args:
        source: the zip Otter wrote.
        target: where to write the normalised zip (may equal ``source``).
    """
    _write_normalised(_read_zip(source), target)


def _read_zip(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """Every file member of the zip at ``path`` (directories left out), in zip order."""
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info)) for info in archive.infolist() if not info.is_dir()]


def _with_members(members: list[tuple[zipfile.ZipInfo, bytes]], added: dict[str, bytes]) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """``members`` with the data of those named in ``added`` (name -> bytes) replaced (their
    permission bits kept), and the other names of ``added`` appended as plain ``0644`` files."""
    out = [(info, added.get(info.filename, data)) for info, data in members]
    present = {info.filename for info, _ in members}
    return out + [(zipfile.ZipInfo(name), data) for name, data in added.items() if name not in present]


def _write_normalised(members: list[tuple[zipfile.ZipInfo, bytes]], target: Path) -> None:
    """Write ``members`` to ``target`` as :func:`normalise_zip` describes."""
    tmp = Path(target).with_name(f".{Path(target).name}.tmp")
    with zipfile.ZipFile(tmp, "w") as out:
        for info, data in sorted(members, key=lambda m: m[0].filename):
            executable = bool((info.external_attr >> 16) & 0o111) or info.filename in ("run_autograder", "setup.sh")
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3  # Unix, so the permission bits below are read
            fixed.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            out.writestr(fixed, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    tmp.replace(target)


def _run_otter_assign(staged: Path, result: Path, master: Path) -> None:
    """Run Otter Assign on the staged master notebook into ``result``.

    Raises:
        BuildError: Otter Assign rejected the notebook; one line: the master notebook, the
            cell number (counting every cell from 1, as Otter's own messages do) when it is
            known, and Otter's reason.
    """
    from otter.assign import main as otter_assign

    log = io.StringIO()
    with _cell_tracking() as where:
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                otter_assign(str(staged), str(result), no_pdfs=True, no_run_tests=True)
            logger.debug("Otter Assign's output for %s:\n%s", master, log.getvalue().rstrip())
        except Exception as error:  # noqa: BLE001 - Otter Assign raises many types for a malformed notebook
            index = where.get("index")
            if index is None and where.get("lines"):
                index = _cell_with_lines(staged, where["lines"])
            raise BuildError(_otter_reason(staged, error, index, master)) from None


_OTTER_CELL = re.compile(r"\s*\((?:question (?P<question>[^,]+), )?cell number (?P<cell>\d+)\)\s*$")


def _otter_reason(staged: Path, error: Exception, index: int | None, master: Path) -> str:
    """One line: ``<master>: cell N (question q): Otter Assign rejects it: <reason>``."""
    reason = " ".join(str(error).split()) or type(error).__name__
    reason = re.sub(r" in \[.*\]$", "", reason)  # Otter's assertions append the cell's lines
    if len(reason) > 400:
        reason = reason[:400] + "..."
    if type(error).__name__ not in ("AssignNotebookFormatException", "ValueError", "RuntimeError"):
        reason = f"{type(error).__name__}: {reason}"
    match = _OTTER_CELL.search(reason)
    where = ""
    if match:  # Otter's own AssignNotebookFormatException names the cell
        reason = reason[:match.start()]
        where = f"cell {match.group('cell')}" + (f" (question {match.group('question')})" if match.group("question") else "")
    elif index is not None:
        where = f"cell {index + 1}"
    else:
        question = re.search(r"""(?:question|"|')\s*"?'?([A-Za-z_][\w.-]*)""", reason)
        cell = _question_cell(staged, question.group(1)) if question else None
        if cell is not None:
            where = f"cell {cell + 1} (question {question.group(1)})"
    return f"{master}: {where + ': ' if where else ''}Otter Assign rejects the master notebook: {reason}"


def _cell_with_lines(master: Path, lines: list[str]) -> int | None:
    """Index of the first cell of ``master`` holding every one of ``lines`` (stripped)."""
    import nbformat

    wanted = {line.strip() for line in lines}
    try:
        cells = nbformat.read(master, as_version=4).cells
    except Exception:  # noqa: BLE001 - only for a message
        return None
    for index, cell in enumerate(cells):
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if wanted <= {line.strip() for line in text.splitlines()}:
            return index
    return None


def _question_cell(master: Path, name: str) -> int | None:
    """Index of the ``BEGIN QUESTION`` cell of question ``name`` in ``master``, if any, found
    with Otter Assign's own block and config parsing (``otter.assign.blocks``)."""
    import nbformat
    import yaml
    from otter.assign.blocks import BlockType, get_cell_config, is_block_boundary_cell

    try:
        cells = nbformat.read(master, as_version=4).cells
    except Exception:  # noqa: BLE001 - only for a message
        return None
    for index, cell in enumerate(cells):
        if is_block_boundary_cell(cell, BlockType.QUESTION):
            try:
                config = get_cell_config(cell)
            except yaml.YAMLError:
                continue
            if isinstance(config, dict) and str(config.get("name")) == name:
                return index
    return None


@contextlib.contextmanager
def _cell_tracking():
    """While Otter Assign walks the master notebook's cells, keep the index of the cell it is
    at (``where["index"]``; ``None`` once the walk is over), so that an error Otter raises
    without naming a cell (a test cell's bad YAML or syntax, a question's bad config) can
    name it, and the lines of a cell whose SOLUTION/IGNORE markers Otter asserts on
    (``where["lines"]``). Wraps ``otter.assign.notebook_transformer``'s per-cell
    ``is_ignore_cell`` call and cell walk and ``otter.assign.solutions``' two line strippers
    for the duration of the build only."""
    from otter.assign import notebook_transformer as nt, solutions

    where: dict = {"index": None}
    active = [False]
    originals = (nt.is_ignore_cell, nt.NotebookTransformer._get_transformed_cells, solutions.replace_solutions,
                 solutions.remove_ignored_lines)
    original_ignore, original_walk = originals[:2]

    def is_ignore_cell(cell):
        if active[0]:
            where["index"] = 0 if where["index"] is None else where["index"] + 1
        return original_ignore(cell)

    def walk(self, cells):
        active[0], where["index"] = True, None
        transformed = original_walk(self, cells)
        active[0], where["index"] = False, None  # an error after the walk is not about one cell
        return transformed

    def keeping_lines(strip):
        def wrapper(lines, *args, **kwargs):
            try:
                return strip(lines, *args, **kwargs)
            except AssertionError:  # unclosed/nested SOLUTION or IGNORE block: Otter asserts
                where["lines"] = [line for line in lines if line.strip()]
                raise
        return wrapper

    nt.is_ignore_cell, nt.NotebookTransformer._get_transformed_cells = is_ignore_cell, walk
    solutions.replace_solutions = keeping_lines(originals[2])
    solutions.remove_ignored_lines = keeping_lines(originals[3])
    try:
        yield where
    finally:
        (nt.is_ignore_cell, nt.NotebookTransformer._get_transformed_cells, solutions.replace_solutions,
         solutions.remove_ignored_lines) = originals


def _verify(built: BuiltAssignment, master: Path, *, timeout: float) -> str | None:
    """Grade the solution and the blank student notebook with the default engine, or the
    reference ``otter`` engine where the default cannot run; the note saying so, or None.
    The engine is closed (its processes stopped) whatever happens."""
    name, note = engine_here()
    engine = get_engine(name)
    logger.info("%s: verifying with the %s engine: the solution must earn every point, the blank notebook none", built.name, name)
    try:
        engine.prepare(built.autograder_zip)
        engine.expect(2)  # the solution and the blank notebook
        _verify_with(engine, built, master, timeout=timeout)
    except ValueError as error:  # the engine cannot grade with this zip
        raise BuildError(f"{master}: cannot verify the build: {error}") from None
    finally:
        engine.close()
    return note


def _verify_with(engine, built: BuiltAssignment, master: Path, *, timeout: float) -> None:
    possible = points_possible(built.points)
    solution = engine.grade(Submission(built.solution_notebook, "solution"), built.autograder_zip, limits=Limits(timeout=timeout))
    if solution.total != possible:
        lost = {q: f"{solution.scores.get(q, 0):g}/{p:g}" for q, p in built.points.items() if solution.scores.get(q, 0) != p}
        raise BuildError(
            f"{master}: the solution does not pass every test ({solution.total:g}/{possible:g} points; "
            f"status: {solution.status}; questions short of full marks: {lost}). "
            f"Failing output:\n{_failing_output(solution.results)}"
        )
    logger.info("%s: the solution earned %g/%g points in %.1f s", built.name, solution.total, possible, solution.seconds)
    blank = engine.grade(Submission(built.student_notebook, "student"), built.autograder_zip, limits=Limits(timeout=timeout))
    logger.info("%s: the blank student notebook earned %g points in %.1f s (%s)", built.name, blank.total, blank.seconds, blank.status)
    if blank.kind != RAN or blank.total != 0:
        earned = {q: s for q, s in blank.scores.items() if s}
        raise BuildError(
            f"{master}: the blank student notebook earns points ({blank.total:g}/{possible:g}; {earned}; "
            f"status: {blank.status}); make every test fail on the template's `...` placeholders"
        )


def _failing_output(results: dict) -> str:
    return "\n".join(t.get("output", "") for t in results.get("tests", []) if t.get("score", 0) != t.get("max_score", 0))[:4000]
