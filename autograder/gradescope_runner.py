"""What the autograder zip's ``run_autograder`` runs on Gradescope: gradkit's own engine.

Gradescope (autograder specification, "File hierarchy") unpacks the zip to
``/autograder/source``, puts the student's upload in ``/autograder/submission`` and reads
``/autograder/results/results.json``; the autograder runs as root in a Docker container,
one per submission. Instead of otter's ``run_otter.py`` (which runs the hidden tests in
the student's kernel and takes its results from there), the zip's ``run_autograder`` runs
``source/gradkit_grade.py``, which calls :func:`main` here:

1. **Confinement** (:func:`decide_confinement`): the fork engine, whose child switches to
   the unprivileged user ``setup.sh`` created (:mod:`autograder.engines.user_drop`) when the
   grader is root and that user can import the Python installation, with Landlock on top
   when the kernel offers it; with only one of the two, that one; with neither, the
   ``otter`` engine (otter's own protection only). What was in force is stated in the
   results' ``output``.
2. **Lock-down**: with the uid switch in force, ``/autograder`` becomes mode 700, so the
   hidden tests (``source/tests``), the metadata and ``results/`` are out of the student
   user's reach by plain permissions.
3. **Grading**: the zip is packed again from ``source/`` (the engines read an autograder
   zip) into a root-only temporary folder, and the submission is graded with
   :meth:`autograder.engines.Engine.grade` (static screen, child process, tests sent only
   after the last cell, points computed here with otter's classes, the default
   :class:`~autograder.engines.limits.Limits`).
4. **Results**: the engine's Gradescope ``results.json``; a flagged submission (findings
   of the screen or of the run) gets a ``hidden`` test entry ``Needs instructor review``
   listing them, which instructors see in Gradescope's interface and students do not;
   with ``gradkit: flagged: zero`` (the default) it counts 0 until reviewed, as
   ``gradkit grade`` counts it (:func:`autograder.review.apply_review`), with ``score``
   it keeps the points the tests gave. ``extra_data.gradkit`` (never shown) keeps the
   status, the findings, the points the tests gave and the confinement.

The settings come from ``source/gradkit_gradescope.json``, written by ``gradkit build``.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines.user_drop import DEFAULT_USER
from .review import PENDING_ENTRY

__all__ = ["CONFIG_FILE", "ENGINE_FOLDER", "FLAGGED_CHOICES", "Confinement", "decide_confinement", "gradescope_results", "main"]

CONFIG_FILE = "gradkit_gradescope.json"
"""Member of the zip (``source/`` on Gradescope): ``{"flagged": "zero" | "score", "user": name}``."""

ENGINE_FOLDER = "gradkit_engine"
"""Folder of the zip holding the ``autograder`` package (gradkit is not on PyPI)."""

FLAGGED_CHOICES = ("zero", "score")
"""``gradkit: flagged:`` values: a flagged submission counts 0 until reviewed, or keeps its score."""

REVIEW_ENTRY = PENDING_ENTRY
"""Name of the hidden results entry that lists a flagged submission's findings."""


@dataclass
class Confinement:
    """How the student's code is confined in this container.

    Attributes:
        engine: ``"fork"`` or ``"otter"``.
        user: ``(uid, gid)`` the child switches to, or None.
        user_name: that user's name (for the statement).
        landlock: Landlock ABI in force (0: none).
        notes: why a confinement is not in force.
    """

    engine: str
    user: tuple[int, int] | None = None
    user_name: str = ""
    landlock: int = 0
    notes: list[str] = field(default_factory=list)

    def statement(self) -> str:
        """One paragraph for the results' ``output``: what was in force and what was not."""
        if self.engine == "otter":
            head = ("Confinement: this submission was graded with otter's own protection only (gradkit's otter engine: "
                    "the hidden tests were readable by the submission's code while it ran).")
        else:
            how = []
            if self.user:
                how.append(f"as the unprivileged user {self.user_name} (uid {self.user[0]})")
            how.append(f"under Landlock (ABI {self.landlock})" if self.landlock else "without Landlock")
            if not self.user:
                how.append("with the grader's uid")
            head = "Confinement: gradkit's fork engine; the student code ran " + ", ".join(how) + "."
        return head + (f" Not in force: {'; '.join(self.notes)}." if self.notes else "")

    def to_dict(self) -> dict[str, Any]:
        """``{"engine": str, "user": name or None, "landlock_abi": int, "notes": [str]}``:
        the confinement as ``extra_data.gradkit.confinement`` keeps it (JSON-ready)."""
        return {"engine": self.engine, "user": self.user_name if self.user else None, "landlock_abi": self.landlock, "notes": self.notes}


def decide_confinement(user_name: str) -> Confinement:
    """What this container offers (see module doc, step 1).

    Args:
        user_name: the unprivileged user ``setup.sh`` created.

    Returns:
        Confinement: never raises; what is missing is in ``notes``.
    """
    from .engines.sandbox import landlock_abi
    from .engines.user_drop import lookup_user, python_readable_by

    notes: list[str] = []
    user = None
    if os.geteuid() != 0:
        notes.append("no switch of user: the grader does not run as root")
    else:
        user = lookup_user(user_name)
        if user is None:
            notes.append(f"no switch of user: there is no unprivileged user {user_name!r} (setup.sh creates it)")
        else:
            unreadable = python_readable_by(*user)
            if unreadable:
                notes.append(f"no switch of user: {user_name} cannot import the Python installation ({unreadable})")
                user = None
    abi = landlock_abi()
    if abi < 1:
        notes.append("no Landlock: the kernel does not offer it")
    if user is None and abi < 1:
        return Confinement("otter", notes=notes)
    return Confinement("fork", user=user, user_name=user_name if user else "", landlock=abi, notes=notes)


def gradescope_results(outcome, *, flagged: str, confinement: Confinement) -> dict[str, Any]:
    """The ``results.json`` for Gradescope from an engine's outcome (see module doc, step 4).

    Args:
        outcome: :class:`autograder.outcome.GradingOutcome` of :meth:`Engine.grade`.
        flagged: one of :data:`FLAGGED_CHOICES`.
        confinement: what was in force.

    Returns:
        dict: a Gradescope results dict (``autograder.results_schema`` validates it).

    Raises:
        ValueError: ``flagged`` is not one of :data:`FLAGGED_CHOICES`.
    """
    from .review import PENDING, apply_review
    from .status import GradingStatus, render_student_status

    if flagged not in FLAGGED_CHOICES:
        raise ValueError(f"gradkit: flagged is {flagged!r}; use one of {', '.join(FLAGGED_CHOICES)}")
    findings = list(outcome.findings)
    results = copy.deepcopy(outcome.results)
    # the one status renderer (autograder.status): "needs review: <finding>; graded: <engine's>"
    fields = GradingStatus(outcome.kind, outcome.status, findings=tuple(findings))
    status = fields.text()
    if findings:
        listing = "\n".join(f"- {f.text()}" for f in findings)
        if flagged == "zero":
            _, results = apply_review(outcome.scores, outcome.results, findings, PENDING)
            results["tests"] = [t for t in results["tests"] if t.get("name") != REVIEW_ENTRY]  # apply_review's visible entry
            counts = "It counts 0 points until you review it (`gradkit: flagged: zero`)."
        else:
            counts = "Its score counts as the tests gave it (`gradkit: flagged: score`)."
        results.setdefault("tests", []).insert(0, {
            # no score fields: it is a message to instructors, not a question (readers that list
            # the entries with a max_score as questions keep seeing only the questions)
            "name": REVIEW_ENTRY, "status": "failed", "visibility": "hidden",
            "output": f"gradkit flagged this submission: it contains code that can change how it is graded. {counts}\n{listing}",
        })
    results["output"] = "\n\n".join(filter(None, [confinement.statement(), f"Grading status: {render_student_status(fields)}",
                                                  str(results.get("output", "") or "")]))
    results["execution_time"] = round(max(outcome.seconds, 0.0), 3)
    results["extra_data"] = {"gradkit": {
        "status": status, "flagged": bool(findings), "findings": [f.to_dict() for f in findings], "scores": outcome.scores,
        "confinement": confinement.to_dict(),
    }}
    return results


def _settings(source: Path) -> dict[str, Any]:
    path = source / CONFIG_FILE
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {"flagged": settings.get("flagged", "zero"), "user": settings.get("user", DEFAULT_USER)}


def _pack_zip(source: Path, target: Path) -> None:
    """The autograder zip again, from its unpacked ``source/`` (the engine folder left out)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_file() and relative.parts[0] != ENGINE_FOLDER:
                archive.write(path, relative.as_posix())


def _submission(folder: Path):
    """The uploaded notebook (Otter's rule: the ``.ipynb`` in the submission folder; a zip
    when there is none), as a :class:`autograder.submissions.Submission`."""
    from .submissions import Submission

    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    found = found or sorted(folder.rglob("*.zip"))
    if not found:
        return None
    return Submission(found[0], found[0].name)


def engine_classes() -> tuple[type, type, type]:
    """``(ForkEngine, ZygoteError, OtterEngine)``: the one place this module names the
    engines' modules (``setup.sh`` calls it to check that the engine imports)."""
    from .engines.fork import ForkEngine, ZygoteError
    from .engines.otter import OtterEngine

    return ForkEngine, ZygoteError, OtterEngine


def grade(root: Path) -> dict[str, Any]:
    """Grade ``root/submission`` with ``root/source`` (Gradescope's ``/autograder``) and
    return the results dict (also written to ``root/results/results.json``)."""
    from .engines.limits import Limits
    from .outcome import GradingOutcome

    ForkEngine, ZygoteError, OtterEngine = engine_classes()  # noqa: N806 - classes
    start = time.monotonic()
    source = root / "source"
    settings = _settings(source)
    confinement = decide_confinement(settings["user"])
    submission = _submission(root / "submission")
    with tempfile.TemporaryDirectory(prefix="gradkit-gradescope-") as tmp:  # mode 700, root's
        zip_path = Path(tmp, "autograder.zip")
        _pack_zip(source, zip_path)
        if confinement.user:
            os.chmod(root, 0o700)  # the hidden tests, the metadata and results/: root's only
        if submission is None:
            outcome = GradingOutcome.failure("submission", "no notebook (.ipynb) was uploaded")
        else:
            engine = None
            if confinement.engine == "fork":
                try:
                    engine = ForkEngine(user=confinement.user, landlock=confinement.landlock > 0, one_submission=True)
                    engine.warm_up()  # the zygote imports torch: an environment without it cannot use this engine
                except (ValueError, ZygoteError) as error:
                    if engine is not None:
                        engine.close()
                    engine = None
                    confinement = Confinement("otter", notes=[*confinement.notes, f"the fork engine could not start: {error}"])
            engine = engine or OtterEngine()
            try:
                outcome = engine.grade(submission, zip_path, limits=Limits())
            finally:
                engine.close()
    outcome.seconds = time.monotonic() - start
    results = gradescope_results(outcome, flagged=settings["flagged"], confinement=confinement)
    _write_results(root / "results" / "results.json", results)
    return results


def _write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(results, indent=1), encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """``python source/gradkit_grade.py [AUTOGRADER_DIR]``: grade and write results.json.

    ``AUTOGRADER_DIR`` defaults to the parent of the folder holding ``gradkit_grade.py``
    (``/autograder``). Prints a summary for the autograder's standard output (instructors
    only): points per question, status and confinement, never a hidden test's message.

    Returns:
        int: 0 once results.json is written; 1 when grading itself failed (a results.json
        saying so is still written).
    """
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path(sys.argv[0]).resolve().parent.parent
    try:
        results = grade(root)
    except Exception as error:  # noqa: BLE001 - the student still gets a results.json
        from .outcome import GradingOutcome

        failure = GradingOutcome.failure("submission", f"the autograder failed: {type(error).__name__}: {error}").results
        _write_results(root / "results" / "results.json", failure)
        print(f"gradkit: grading failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    gradkit = results["extra_data"]["gradkit"]
    print(f"gradkit: {gradkit['status']}")
    for question, points in sorted(gradkit["scores"].items()):
        print(f"  {question}: {points:g}")
    print(f"  counted: {sum(t.get('score', 0) for t in results['tests']) if 'score' not in results else results['score']:g}")
    print(f"  {results['output'].splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
