"""The throughput benchmark's generated class (``benchmarks/generated_class.py``): every
kind present, the stated proportions, the exact file count. No engine is started: the
assignment is built without verification (Otter Assign only)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from benchmarks.generated_class import KINDS, PROPORTIONS, generate_class, kind_counts, stratified_sample, variants
from instructor.build import build_assignment
from instructor.samples import load_samples

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"


@pytest.fixture(scope="module")
def student_notebook(tmp_path_factory) -> Path:
    return build_assignment(ASSIGNMENT, tmp_path_factory.mktemp("dist"), verify=False).student_notebook


@pytest.fixture(scope="module")
def pool(student_notebook):
    return variants(student_notebook)


def test_proportions_are_the_stated_ones():
    assert list(PROPORTIONS) == list(KINDS)
    assert sum(PROPORTIONS.values()) == pytest.approx(1)
    assert kind_counts(1000) == {"right": 500, "wrong": 300, "flagged": 100, "crashing": 95, "timing out": 5}


@pytest.mark.parametrize("n", [0, 1, 4, 5, 7, 40, 199, 1000, 1001, 2500])
def test_counts_add_up_exactly_and_every_kind_is_there_when_it_can_be(n):
    counts = kind_counts(n)
    assert sum(counts.values()) == n
    assert all(c >= 0 for c in counts.values())
    if n >= len(KINDS):
        assert all(c >= 1 for c in counts.values()), counts
    if n >= 1000:  # no kind needed raising: each count is its share rounded
        assert all(abs(counts[k] - n * p) < 1 for k, p in PROPORTIONS.items()), counts


def test_counts_refuse_nonsense():
    with pytest.raises(ValueError):
        kind_counts(-1)
    with pytest.raises(ValueError):
        kind_counts(10, {"right": 0.5, "wrong": 0.2})


def test_variants_are_classified_by_their_expectations(pool):
    assert set(pool) == set(KINDS) and all(pool[k] for k in KINDS)
    samples = {s.name: s for folder in ("samples",) for s in load_samples(ASSIGNMENT / folder)}
    samples |= {s.name: s for s in load_samples(REPO / "tests" / "corpus" / "autograd-basics")}
    samples |= {s.name: s for s in load_samples(REPO / "tests" / "anticheat" / "autograd-basics")}
    full = sum(samples["solution"].expected.values())
    for v in pool["right"]:
        assert not samples[v.name].flagged and sum(samples[v.name].expected.values()) == full, v.name
    for v in pool["wrong"]:
        assert not samples[v.name].flagged and sum(samples[v.name].expected.values()) < full, v.name
    assert {v.name for v in pool["flagged"]} == {n for n, s in samples.items() if s.flagged}
    assert len(pool["right"]) + len(pool["wrong"]) + len(pool["flagged"]) == len(samples)
    sources = {v.name: "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                                 for c in v.notebook["cells"]) for v in pool["crashing"] + pool["timing out"]}
    assert "os._exit(1)" in sources["os-exit-after-q2"]
    assert "signal.SIGKILL" in sources["self-kill-after-q2"]
    assert "raise RuntimeError" in sources["exception-after-q1"]
    assert "undefined_helper()" in sources["exception-in-q2"]
    assert "while True:" in sources["endless-loop-after-q2"]


def test_generated_class_has_the_exact_count_and_every_kind(student_notebook, pool, tmp_path):
    n = 40
    generated = generate_class(student_notebook, tmp_path / "class", n, pool=pool)
    files = sorted(p.name for p in (tmp_path / "class").iterdir())
    assert len(files) == n == len(generated.submissions)
    assert files == sorted(s.path.name for s in generated.submissions)
    assert generated.counts == kind_counts(n)
    written = {k: sum(1 for s in generated.submissions if s.kind == k) for k in KINDS}
    assert written == generated.counts and all(written[k] >= 1 for k in KINDS)
    for sub in generated.submissions:
        assert sub.path.name.split("-", 1)[1].startswith(sub.kind.replace(" ", "-") + "-")
        nb = nbformat.read(sub.path, as_version=4)
        nbformat.validate(nb)
    contents = {p.read_bytes() for p in (tmp_path / "class").iterdir()}
    assert len(contents) == n  # no two files alike
    order = [s.kind for s in generated.submissions]
    assert order != sorted(order, key=KINDS.index)  # mixed, not grouped by kind
    with pytest.raises(FileExistsError):
        generate_class(student_notebook, tmp_path / "class", 3, pool=pool)


def test_generation_is_reproducible_and_the_sample_holds_every_kind(student_notebook, pool, tmp_path):
    one = generate_class(student_notebook, tmp_path / "one", 200, pool=pool)
    two = generate_class(student_notebook, tmp_path / "two", 200)  # its own variants: the same files
    assert [(s.path.name, s.kind, s.variant) for s in one.submissions] == [(s.path.name, s.kind, s.variant) for s in two.submissions]
    assert all(a.path.read_bytes() == b.path.read_bytes() for a, b in zip(one.submissions, two.submissions))
    sample = stratified_sample(one, per_kind=2)
    assert {s.kind for s in sample} == set(KINDS)
    for kind in ("right", "wrong", "flagged"):
        assert len({s.variant for s in sample if s.kind == kind}) == 2
    made = {s.variant for s in one.submissions if s.kind in ("crashing", "timing out")}
    assert {s.variant for s in sample if s.kind in ("crashing", "timing out")} == made
    assert json.loads(sample[0].path.read_text())["metadata"]["gradkit_benchmark"]["submission"] >= 0


def test_the_otter_comparison_reads_any_cells_timeout_under_otters_limit():
    from autograder.status import interrupted_note
    from benchmarks.throughput import BENCH_LIMITS, OTTER_LIMITS, _as_otter_timeout

    assert BENCH_LIMITS.cell_seconds != OTTER_LIMITS.cell_seconds
    status = f"completed; {interrupted_note(4, BENCH_LIMITS.cell_seconds)}; {interrupted_note(250, BENCH_LIMITS.cell_seconds)}"
    assert _as_otter_timeout(status) == (f"completed; {interrupted_note(4, OTTER_LIMITS.cell_seconds)}; "
                                         f"{interrupted_note(250, OTTER_LIMITS.cell_seconds)}")
    assert _as_otter_timeout("completed") == "completed"
