"""A generated class of submissions for the throughput benchmark (``benchmarks/throughput.py``).

Every submission is the student notebook built from ``assignments/autograd-basics`` with
answers typed in (:func:`instructor.samples.fill_notebook`), of one of five kinds, mixed
in the proportions of :data:`PROPORTIONS`:

* ``right``: the samples that earn every point and raise no finding (the bundled
  solution, the check corpus's ``c``/``h`` samples, the anti-cheat corpus's honest ones);
* ``wrong``: the samples that earn less (the bundled mistakes and the untouched notebook,
  the check corpus's ``m``/``e`` samples, the anti-cheat corpus's honest partial ones);
* ``flagged``: the anti-cheat corpus's tampering cases (``# flagged: yes``: patched
  libraries, forged results, hidden tests read, processes left running...);
* ``crashing``: the solution with an exception raised after q1 or inside q2's cell, or
  with the process ending itself after q2 (``os._exit(1)``, ``SIGKILL`` to itself; the
  screen flags both, so these also count 0 until reviewed);
* ``timing out``: the solution with an endless loop after q2 (interrupted after the cell
  timeout; the notebook goes on).

Within a kind the variants are cycled in name order; the kinds are interleaved in a
fixed shuffled order (seeded), so the two grading jobs see a mixed stream. Each file gets
its own ``metadata.gradkit_benchmark.submission`` number, so no two files are identical
(as in a real class). Nothing here starts an engine.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import nbformat

from instructor.samples import Sample, fill_notebook, load_samples

__all__ = ["KINDS", "PROPORTIONS", "GeneratedClass", "GeneratedSubmission", "Variant", "generate_class", "kind_counts",
           "stratified_sample", "variants"]

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"
SAMPLE_FOLDERS = (ASSIGNMENT / "samples", REPO / "tests" / "corpus" / "autograd-basics",
                  REPO / "tests" / "anticheat" / "autograd-basics")

KINDS = ("right", "wrong", "flagged", "crashing", "timing out")

PROPORTIONS = {"right": 0.50, "wrong": 0.30, "flagged": 0.10, "crashing": 0.095, "timing out": 0.005}
"""Share of each kind in a generated class (they add up to 1). The timing-out share is
small on purpose: each of them spends a whole cell timeout in its loop."""

# kind -> variant name -> (mode, answer name, code) added to the solution's answers
_MADE = {
    "crashing": {
        "exception-after-q1": [("after", "f1", "raise RuntimeError('crashed on purpose after q1')")],
        "exception-in-q2": [("replace", "f2", "undefined_helper()\n\ndef f2(x, y, z):\n    return x ** 2 + y ** 3 - z")],
        "os-exit-after-q2": [("after", "f2", "import os\nos._exit(1)")],
        "self-kill-after-q2": [("after", "f2", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")],
    },
    "timing out": {
        "endless-loop-after-q2": [("after", "f2", "while True:\n    pass")],
    },
}


@dataclass(frozen=True)
class Variant:
    """One distinct notebook a kind cycles through.

    Attributes:
        kind: one of :data:`KINDS`.
        name: the sample's name (``solution``, ``m01-int-tensor-q1``) or the made variant's.
        notebook: the filled student notebook as a JSON-ready dict.
    """

    kind: str
    name: str
    notebook: dict


@dataclass(frozen=True)
class GeneratedSubmission:
    """One file of a generated class: its path, kind and variant name."""

    path: Path
    kind: str
    variant: str

    @property
    def label(self) -> str:
        """Its label when the class folder is given to ``grade_batch`` (``<folder>/<file name>``)."""
        return f"{self.path.parent.name}/{self.path.name}"


@dataclass(frozen=True)
class GeneratedClass:
    """What :func:`generate_class` wrote.

    Attributes:
        folder: the folder holding the notebooks (nothing else).
        submissions: every file written, in grading order (file names sort the same way).
        counts: kind -> number of files.
        variants: kind -> number of distinct variants cycled.
    """

    folder: Path
    submissions: list[GeneratedSubmission]
    counts: dict[str, int]
    variants: dict[str, int]


def kind_counts(n: int, proportions: dict[str, float] = PROPORTIONS) -> dict[str, int]:
    """How many submissions of each kind ``n`` submissions hold.

    Largest remainder rounding of ``n * share``, then every kind raised to at least one
    (taken from the largest kind) when ``n`` allows, so the counts add up to ``n`` exactly.

    Args:
        n: number of submissions (>= 0).
        proportions: kind -> share (adding up to 1).

    Returns:
        dict: kind -> count, in the order of ``proportions``.

    Raises:
        ValueError: ``n`` is negative or the shares do not add up to 1.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if abs(sum(proportions.values()) - 1) > 1e-9:
        raise ValueError(f"the proportions add up to {sum(proportions.values())}, not 1")
    exact = {k: n * p for k, p in proportions.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], list(exact).index(k)))[: n - sum(counts.values())]:
        counts[k] += 1
    if n >= len(proportions):
        for k in proportions:
            if counts[k] == 0:
                counts[max(counts, key=counts.get)] -= 1
                counts[k] = 1
    return counts


def _classify(sample: Sample, possible: float) -> str:
    if sample.flagged:
        return "flagged"
    return "right" if abs(sum(sample.expected.values()) - possible) < 1e-9 else "wrong"


def variants(student_notebook: Path, folders: tuple[Path, ...] = SAMPLE_FOLDERS) -> dict[str, list[Variant]]:
    """Every variant of every kind, filled into the student notebook.

    Args:
        student_notebook: the student notebook ``gradkit build`` wrote.
        folders: sample folders (:mod:`instructor.samples` format); the first must hold
            ``solution.py`` (the made variants start from it).

    Returns:
        dict: kind -> variants sorted by name (every kind of :data:`KINDS`).
    """
    student = nbformat.read(student_notebook, as_version=4)
    template_ids = {cell.get("id") for cell in student.cells}
    samples = [s for folder in folders for s in load_samples(folder)]
    solution = next(s for s in samples if s.name == "solution")
    possible = sum(solution.expected.values())
    out: dict[str, list[Variant]] = {k: [] for k in KINDS}

    def add(kind: str, sample: Sample) -> None:
        nb = fill_notebook(student, sample)
        for index, cell in enumerate(nb.cells):  # inserted cells get random ids: fixed ones keep files reproducible
            if cell.get("id") not in template_ids:
                cell["id"] = f"{sample.name[:40]}-{index}"
        out[kind].append(Variant(kind, sample.name, json.loads(nbformat.writes(nb))))

    for sample in samples:
        add(_classify(sample, possible), sample)
    for kind, made in _MADE.items():
        for name, extra in made.items():
            replacing = {e[1]: e for e in extra if e[0] == "replace"}
            fills = [replacing.get(f[1], f) if f[0] == "replace" else f for f in solution.fills]
            fills += [e for e in extra if e[0] == "after"]
            add(kind, Sample(name=name, description=name, expected={}, fills=fills))
    return {k: sorted(v, key=lambda v: v.name) for k, v in out.items()}


def generate_class(student_notebook: Path, folder: Path, n: int, *, seed: int = 16,
                   proportions: dict[str, float] = PROPORTIONS, pool: dict[str, list[Variant]] | None = None) -> GeneratedClass:
    """Write ``n`` submissions into ``folder`` (created; must hold no notebooks yet).

    Files are named ``s<number>-<kind>-<variant>.ipynb`` (kind with ``-`` for spaces),
    numbered in a seeded shuffled order so kinds are mixed.

    Args:
        student_notebook: the student notebook ``gradkit build`` wrote.
        folder: where to write.
        n: how many submissions.
        seed: the shuffle's seed.
        proportions: kind -> share (see :func:`kind_counts`).
        pool: the variants (:func:`variants` of ``student_notebook``), if already made.

    Returns:
        GeneratedClass: the files, with their kinds and the counts.

    Raises:
        FileExistsError: ``folder`` already holds notebooks.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.glob("*.ipynb")):
        raise FileExistsError(f"{folder} already holds notebooks")
    pool = pool if pool is not None else variants(student_notebook)
    counts = kind_counts(n, proportions)
    order = [(kind, i) for kind, count in counts.items() for i in range(count)]
    random.Random(seed).shuffle(order)
    width = max(4, len(str(n)))
    written = []
    for number, (kind, i) in enumerate(order):
        variant = pool[kind][i % len(pool[kind])]
        nb = dict(variant.notebook)
        nb["metadata"] = {**nb["metadata"], "gradkit_benchmark": {"submission": number}}
        path = folder / f"s{number:0{width}d}-{kind.replace(' ', '-')}-{variant.name}.ipynb"
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(GeneratedSubmission(path, kind, variant.name))
    return GeneratedClass(folder, written, counts, {k: len(v) for k, v in pool.items()})


def stratified_sample(generated: GeneratedClass, per_kind: int = 2) -> list[GeneratedSubmission]:
    """A sample with every kind: per kind, the first file of each of ``per_kind`` variants
    (every variant of the crashing and timing-out kinds, which are few and each a
    different way for a run to end).

    Returns:
        list: the chosen submissions, in file order.
    """
    chosen, seen = [], {}
    for sub in generated.submissions:
        names = seen.setdefault(sub.kind, set())
        limit = None if sub.kind in _MADE else per_kind
        if sub.variant in names or (limit is not None and len(names) >= limit):
            continue
        names.add(sub.variant)
        chosen.append(sub)
    return sorted(chosen, key=lambda s: s.path.name)
