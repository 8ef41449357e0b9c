"""What the differential test of the two engines grades (tests/test_engines.py), and the
otter engine's grading of the bundled samples and the cheat corpus that it shares with the
three-way test (tests/test_gradescope_engine.py) through the ``otter_shared`` fixture of
tests/conftest.py: both chose the same notebooks, so the otter engine grades them once."""

from __future__ import annotations

from pathlib import Path

from autograder.engines import Limits

REPO = Path(__file__).resolve().parent.parent
CORPORA = {
    "corpus": REPO / "tests" / "corpus" / "autograd-basics",
    "bundled": REPO / "assignments" / "autograd-basics" / "samples",
    "anticheat": REPO / "tests" / "anticheat" / "autograd-basics",
}
SHARED_CORPORA = ("bundled", "anticheat")
"""The corpora the otter engine grades once for both tests (:func:`grade_shared_with_otter`)."""
LIMITS = Limits(timeout=60, cell_timeout=20)
"""The hostile run's limits (tests/hostile.py's GRADE_OPTIONS): 20 s a cell, so that the otter
engine's ``import torch`` cell is not interrupted when the other xdist worker loads the cores."""


def kind(name: str) -> str:
    """A sample's kind: the first letter of its name, as each corpus names them (the check
    corpus: ``c`` correct, ``h`` honest, ``m`` one mistake, ``e`` two; the anti-cheat
    corpus: ``a``, ``b`` its two rounds of attacks; the bundled samples: ``s`` solution,
    ``u`` untouched, ``q`` a mistake in one question)."""
    return name[0]


def differential_samples(folder: Path, full: bool) -> list[str]:
    """The sample names of ``folder`` the differential test grades with both engines.

    By default one of each kind (the first by name): the two engines run the same tests on
    the same records, so further samples of a kind mostly repeat what the first shows,
    at about 7 s each with the otter engine (about 14 s per notebook, 2 jobs).
    ``--full-differential`` grades every sample; ``tests/test_corpus.py``,
    ``tests/test_anticheat.py`` and ``tests/test_grading.py`` grade all of them with the
    default engine either way. The hostile class is graded whole in both modes: each of its
    submissions is a different way for a run to end (a hang, an interrupt ignored, input(),
    os._exit, a segfault, memory, an output flood, files that are not notebooks).
    """
    names = sorted(p.stem for p in folder.glob("*.py"))
    if full:
        return names
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(kind(name), name)
    return sorted(first.values())


def grade_shared_with_otter(student_notebook: Path, autograder_zip: Path, full: bool, root: Path) -> dict:
    """The otter engine's grading of the chosen samples (:func:`differential_samples`) of
    :data:`SHARED_CORPORA`, one batch under :data:`LIMITS`, 2 jobs.

    Args:
        student_notebook: the built student notebook the samples are typed into.
        autograder_zip: the built autograder zip.
        full: ``--full-differential`` (every sample).
        root: a folder of its own (created); the corpora are written to ``root/<corpus>``,
            so the labels are ``<corpus>/<sample>.ipynb`` as in tests/test_engines.py.

    Returns:
        dict: label -> :class:`instructor.gradebook.GradebookRow`.
    """
    from instructor.batch import grade_batch
    from instructor.gradebook import Gradebook
    from instructor.samples import load_samples, write_samples

    folders = []
    for name in SHARED_CORPORA:
        chosen = differential_samples(CORPORA[name], full)
        write_samples(student_notebook, [s for s in load_samples(CORPORA[name]) if s.name in chosen], root / name)
        folders.append(root / name)
    out = root / "out"
    grade_batch(autograder_zip=autograder_zip, submissions=folders, out_dir=out, jobs=2, limits=LIMITS, engine="otter", progress=False)
    with Gradebook(out) as book:
        return {row.label: row for row in book.rows()}
