"""Throughput benchmark: ``gradkit grade --jobs 2`` on a generated class of 1,000 submissions.

What it measures, and how:

1. Builds ``assignments/autograd-basics`` (without verification) into a temporary folder
   and writes N submissions (default 1,000) made from the student notebook
   (``benchmarks/generated_class.py``), mixed in these proportions:

   ========== ====== ===========================================================
   kind       share  what
   ========== ====== ===========================================================
   right      50 %   samples that earn every point (bundled solution, check corpus)
   wrong      30 %   samples that earn less (bundled mistakes, check corpus)
   flagged    10 %   the anti-cheat corpus's tampering cases (screen, run-time guards)
   crashing   9.5 %  an exception after q1 or in q2's cell; ``os._exit(1)`` or a
                     ``SIGKILL`` to itself after q2
   timing out 0.5 %  an endless loop after q2
   ========== ====== ===========================================================

2. Grades them with ``instructor.batch.grade_batch(..., jobs=2, engine="fork")``, the
   path of ``gradkit grade --jobs 2``, into a fresh folder, and times the whole call
   (zygote start, every submission, the gradebook, every export) and its CPU (``getrusage``:
   this process apart from the zygote, its job servers and children). The benchmark's own
   limits: a cell timeout of 2 s (the default 120 s would let the endless loops dominate;
   the warm zygote runs every honest cell in well under a second) and 30 s per submission;
   memory and output as the defaults. Targets (issue 16): under 60 s wall on 2 cores.

3. Measures the peak memory of the whole run (this process, the zygotes, the forked
   children) two ways: exactly, from a memory cgroup made for the run where the machine
   allows one (``benchmarks/cgroup_memory.py``: the kernel's peak counter, free while the
   run goes); and by sampling PSS summed over the process tree every 0.5 s
   (``benchmarks/tree_memory.py`` says why PSS and why sampled; each sample costs ~2 ms of
   system time per process, so at 50 ms it took ~20 % of the cores it measured). The two
   count different pages (``benchmarks/cgroup_memory.py`` says how); the target (under
   3 GiB) is checked on the larger.

4. Prints where the time went: each submission's phases as the engine measures them
   (``GradingOutcome.phases``: fork, sandbox, cells, snapshot, tests, scoring; "not
   measured" for those the engine does not fill) plus ``gradebook`` (its row written), as
   sums and medians; the parent's own phases (``BatchSummary.phases``: prepare, discover,
   hash, plan, grading, engine calls, read ahead, gradebook, exports and its parts); how
   many submissions were read and screened during the zygote's start-up
   (``BatchSummary.read_ahead``, ``instructor/read_ahead.py``); and, measured apart after
   the run on the same files in this process, reading and screening (what
   ``Engine.grade`` does before the engine runs anything, in the grading threads for the
   submissions not read ahead).

5. Reference check on a stratified sample (two variants of each of right, wrong and
   flagged, every crashing and timing-out variant; ``--per-kind``): graded again (a) by the
   fork engine with ``jobs=1`` and the same limits, which must agree exactly (per-question
   points counted and as the tests gave them, ``grading_status``, every finding), and (b)
   by the ``otter`` engine (``otter run``, the independent reference of
   ``tests/test_engines.py``), compared on what does not depend on the engine (see
   :func:`compare_with_otter`). Timed separately, not part of the figures above. Any
   difference is printed and the exit code is 1.

6. Prints a table for the README: date, machine (cores, CPU model, memory), Python,
   torch, load average, and the figures.

Not a test: the figures depend on the machine's load (the load average is printed).

    python benchmarks/throughput.py [-n 1000] [--jobs 2] [--reference otter|fork|none] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.engines import Limits  # noqa: E402
from autograder import screen  # noqa: E402
from autograder.screen import screen_notebook  # noqa: E402
from autograder.status import interrupted_note  # noqa: E402
from autograder.submissions import Submission, read_submission  # noqa: E402
from benchmarks.generated_class import KINDS, PROPORTIONS, generate_class, stratified_sample  # noqa: E402
from benchmarks import cgroup_memory  # noqa: E402
from benchmarks.tree_memory import TreeMemorySampler  # noqa: E402
from instructor.batch import PARENT_PHASES, grade_batch  # noqa: E402
from instructor.build import build_assignment  # noqa: E402
from instructor.gradebook import GradebookRow  # noqa: E402

ENGINE_PHASES = ("fork", "sandbox", "cells", "snapshot", "tests", "scoring")
"""The fork engine's phases (``GradingOutcome.phases``), in the order a submission goes through them."""

BENCH_LIMITS = Limits(cell_timeout=2.0, timeout=30.0)
"""The benchmark's limits: a 2 s cell timeout (the endless loops end there), 30 s per submission."""

OTTER_LIMITS = Limits(cell_timeout=20.0, timeout=120.0)
"""The otter reference's limits: a fresh kernel's ``import torch`` and first ``torch.optim``
use take seconds there, so 2 s would interrupt honest cells."""

TARGET_SECONDS = 60.0
TARGET_MEMORY = 3 * 1024 ** 3
GIB = 1024 ** 3


def machine() -> dict[str, str]:
    """Date, cores, CPU model, memory, Python and torch versions, load average."""
    import torch

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / GIB:.0f} GiB"
    except Exception:  # noqa: BLE001 - only for the printed table
        memory = "unknown"
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cores": str(os.cpu_count()), "cpu": model, "memory": memory, "python": platform.python_version(),
            "torch": torch.__version__, "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def cpu_seconds() -> tuple[float, float, float, float]:
    """CPU seconds so far (``getrusage``): this process's user and system time (every
    thread: the grading threads, the gradebook writes, the memory sampler's reads), then
    its reaped descendants' (the zygote, its job servers and their children, once
    ``grade_batch`` has closed the engine)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime, own.ru_stime, children.ru_utime, children.ru_stime


def _stats(values: list[float]) -> str:
    if not values:
        return "not measured"
    return f"sum {sum(values):8.2f} s   median {1000 * statistics.median(values):8.1f} ms   ({len(values)} submissions)"


def print_engine_phases(outcome_phases: dict[str, dict[str, float]]) -> dict[str, float]:
    """Print sums and medians of each submission phase; return phase -> sum (measured ones)."""
    print("\nper-submission phases (GradingOutcome.phases, as the engine fills them; gradebook: the batch's row write)")
    sums = {}
    for phase in (*ENGINE_PHASES, "gradebook"):
        values = [p[phase] for p in outcome_phases.values() if phase in p]
        print(f"  {phase:10s} {_stats(values)}")
        if values:
            sums[phase] = sum(values)
    other = sorted({k for p in outcome_phases.values() for k in p} - {*ENGINE_PHASES, "gradebook"})
    for phase in other:
        print(f"  {phase:10s} {_stats([p[phase] for p in outcome_phases.values() if phase in p])}")
    return sums


def read_and_screen(paths: list[Path]) -> list[float]:
    """Seconds to read (as the engines do) and screen each file, in this process, the
    screen's caches emptied first (the run filled them with these very files)."""
    screen.clear_cache()
    times = []
    for path in paths:
        start = time.monotonic()
        read = read_submission(Submission(path=path, label=path.name))
        screen_notebook(read.notebook)
        times.append(time.monotonic() - start)
    return times


def _first_finding(status: str) -> str:
    """As tests/test_engines.py: ``needs review: <first finding>``, without the count of
    further findings and the engine's own account of the run."""
    return status.split("; graded: ")[0].split(" (and ")[0]


def _as_otter_timeout(status: str) -> str:
    """``status`` with every ``cell N ran past <bench> s`` note (:func:`interrupted_note`
    under :data:`BENCH_LIMITS`) read as the same note under :data:`OTTER_LIMITS`, for any
    cell N; the pattern is made from the note's own renderer."""
    pattern = re.escape(interrupted_note(999_998, BENCH_LIMITS.cell_seconds)).replace("999999", r"(\d+)")
    return re.sub(pattern, lambda match: interrupted_note(int(match[1]) - 1, OTTER_LIMITS.cell_seconds), status)


def _paired(main: dict[str, GradebookRow], ref: dict[str, GradebookRow], out: list[str]):
    """(label, main row, reference row) for every reference label, in label order; a label
    the main run lacks is appended to ``out`` as a difference instead."""
    for label, r in sorted(ref.items()):
        m = main.get(label)
        if m is None:
            out.append(f"{label}: not in the main run")
            continue
        yield label, m, r


def compare_exact(main: dict[str, GradebookRow], ref: dict[str, GradebookRow]) -> list[str]:
    """Differences between two runs of the same engine: per-question points (counted and
    as the tests gave them), ``grading_status``, findings (static and run-time)."""
    out = []
    for label, m, r in _paired(main, ref, out):
        if m.scores != r.scores or m.raw_scores != r.raw_scores:
            out.append(f"{label}: points main {m.raw_scores} (counted {m.scores}) != reference {r.raw_scores} (counted {r.scores})")
        if m.status != r.status:
            out.append(f"{label}: status main {m.status!r} != reference {r.status!r}")
        if [f.to_dict() for f in m.findings] != [f.to_dict() for f in r.findings]:
            out.append(f"{label}: findings main {[f.text() for f in m.findings]} != reference {[f.text() for f in r.findings]}")
    return out


def compare_with_otter(main: dict[str, GradebookRow], ref: dict[str, GradebookRow], points: dict[str, float]) -> list[str]:
    """Differences between the fork run and the otter reference, on what does not depend
    on the engine, as ``tests/test_engines.py``'s differential compares them:

    * per-question points as counted (after the review rule: a flagged submission counts 0);
      not the points the tests gave a flagged one, since the otter engine is not hardened
      (a patched library fools it; the screen is what stops that);
    * the screen's findings, exactly; not the run-time findings, which only the fork
      engine makes;
    * ``grading_status`` exactly for unflagged submissions; for flagged ones its first
      finding (the rest is the engine's own account of the run);
    * the cell timeout differs (:data:`OTTER_LIMITS`: a fresh kernel is slower), so the
      main run's ``cell N ran past 2 s`` is read as ``ran past 20 s``.
    """
    out = []
    for label, m, r in _paired(main, ref, out):
        if {q: m.scores.get(q, 0.0) for q in points} != {q: r.scores.get(q, 0.0) for q in points}:
            out.append(f"{label}: points fork {m.scores} != otter {r.scores}")
        static_m = [f.to_dict() for f in m.findings if f.rule != "runtime"]
        static_r = [f.to_dict() for f in r.findings if f.rule != "runtime"]
        if static_m != static_r:
            out.append(f"{label}: screen findings differ")
        status = _as_otter_timeout(m.status)
        if static_m:
            if _first_finding(status) != _first_finding(r.status):
                out.append(f"{label}: status fork {m.status!r} != otter {r.status!r}")
        elif status != r.status:
            out.append(f"{label}: status fork {m.status!r} != otter {r.status!r}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="number of submissions (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    parser.add_argument("--reference", default="otter,fork",
                        help="reference runs on the sample, comma-separated: otter, fork (jobs=1), or none (default otter,fork)")
    parser.add_argument("--per-kind", type=int, default=2, help="variants of right, wrong and flagged in the reference sample")
    parser.add_argument("--memory-interval", type=float, default=0.5,
                        help="seconds between PSS samples of the process tree (each costs ~2 ms of system time per process)")
    parser.add_argument("--keep", type=Path, help="work in this folder (kept) instead of a temporary one")
    args = parser.parse_args()

    info = machine()
    print(f"{info['date']}: {info['cores']} cores ({info['cpu']}), {info['memory']}, Python {info['python']}, "
          f"torch {info['torch']}, load average {info['load']}")
    tmp_context = tempfile.TemporaryDirectory(prefix="gradkit-bench-") if args.keep is None else None
    root = Path(tmp_context.name) if tmp_context else args.keep
    if args.keep is not None:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
    try:
        return _run(args, root, info)
    finally:
        if tmp_context:
            tmp_context.cleanup()


def _run(args, root: Path, info: dict[str, str]) -> int:
    built = build_assignment(REPO / "assignments" / "autograd-basics", root / "dist", verify=False)
    generated = generate_class(built.student_notebook, root / "class", args.n)
    print(f"\n{args.n} submissions generated from the student notebook:")
    for kind in KINDS:
        print(f"  {kind:10s} {100 * PROPORTIONS[kind]:5.1f} %  {generated.counts[kind]:5d} files, "
              f"{generated.variants[kind]:3d} variants cycled")
    print(f"limits: cell timeout {BENCH_LIMITS.cell_timeout:g} s, {BENCH_LIMITS.timeout:g} s per submission, "
          f"memory {BENCH_LIMITS.memory_mb} MiB per process, output {BENCH_LIMITS.output_bytes} bytes")

    sampler = TreeMemorySampler(args.memory_interval)
    out = root / "out"
    cgroup = cgroup_memory.start()  # None where no memory cgroup can be made: the sampler alone
    start, cpu_start = time.monotonic(), cpu_seconds()
    with sampler:
        summary = grade_batch(autograder_zip=built.autograder_zip, submissions=[generated.folder], out_dir=out, jobs=args.jobs,
                              engine="fork", limits=BENCH_LIMITS, progress=False)
    wall = time.monotonic() - start
    cpu = [after - before for after, before in zip(cpu_seconds(), cpu_start)]
    memory = sampler.result
    cgroup_peak = cgroup.stop() if cgroup is not None else None
    graded = len(summary.graded)
    print(f"\ngrade_batch(jobs={args.jobs}, engine='fork'): {graded} submissions in {wall:.1f} s wall "
          f"({graded / wall:.1f} per second), target < {TARGET_SECONDS:g} s: {'met' if wall < TARGET_SECONDS else 'NOT met'}")
    print(f"  zygote start-up per job: {', '.join(f'{s:.1f} s' for s in summary.startup_seconds)} (inside the wall time)")
    print(f"  read and screened during the start-up: {summary.read_ahead} of {graded} submissions "
          f"({summary.phases.get('read ahead', 0.0):.2f} s in a thread of this process; the others in their grading thread)")
    peak = max(memory.peak_bytes, cgroup_peak or 0)  # the two count different pages: the target holds for both
    per = 1000 / max(1, graded)
    print(f"  CPU (getrusage): this grading process {cpu[0]:.1f} s user + {cpu[1]:.1f} s system ({per * (cpu[0] + cpu[1]):.1f} ms "
          f"per submission, start-up, exports and the memory sampler included); the zygote, its job servers and the children "
          f"{cpu[2]:.1f} s + {cpu[3]:.1f} s ({per * (cpu[2] + cpu[3]):.1f} ms per submission, the zygote's start-up included)")
    print(f"peak memory, PSS summed over the tree: {memory.peak_bytes / GIB:.2f} GiB ({memory.peak_processes} processes in that "
          f"sample; {memory.samples} samples every {args.memory_interval * 1000:g} ms, up to {memory.most_processes} processes)")
    print("peak memory, the run's own memory cgroup: "
          + (f"{cgroup_peak / GIB:.2f} GiB ({cgroup.version}; exact, every page the run brought in, no library already cached)"
             if cgroup_peak is not None else "none could be made here (needs root and a writable memory controller)"))
    print(f"  target < 3 GiB on the larger: {'met' if peak < TARGET_MEMORY else 'NOT met'}")
    print(f"  cross-check (getrusage, shared pages counted in full): this process {memory.self_maxrss_bytes / GIB:.2f} GiB, "
          f"largest descendant {memory.children_maxrss_bytes / GIB:.2f} GiB"
          + (f"; {memory.rss_fallbacks} process samples counted by RSS (PSS unreadable)" if memory.rss_fallbacks else ""))

    rows = {row.label: row for row in summary.rows}
    by_kind: dict[str, dict[str, int]] = {}
    for sub in generated.submissions:
        row = rows[sub.label]
        key = "needs review" if row.needs_review else row.kind
        by_kind.setdefault(sub.kind, {}).setdefault(key, 0)
        by_kind[sub.kind][key] += 1
    print("\noutcomes by kind: " + "; ".join(f"{k}: " + ", ".join(f"{n} {o}" for o, n in sorted(v.items())) for k, v in by_kind.items()))

    sums = print_engine_phases(summary.outcome_phases)
    engine_calls = summary.phases.get("engine calls", 0.0)
    if sums.keys() - {"gradebook"}:
        inside = sum(v for k, v in sums.items() if k != "gradebook")
        print(f"  {'other':10s} sum {engine_calls - inside:8.2f} s   (engine calls minus the phases above: reading and screen "
              "of those not read ahead, retries, waiting)")
    print("\nthis process's phases (BatchSummary.phases)")
    for phase, seconds in summary.phases.items():
        what = PARENT_PHASES.get(phase, "")
        per = f"{1000 * seconds / graded:7.2f} ms per submission" if graded else ""
        print(f"  {phase:22s} {seconds:8.2f} s  {per}  {what}")
    screen_times = read_and_screen([s.path for s in generated.submissions])
    print(f"  {'read + screen (apart)':22s} {sum(screen_times):8.2f} s  {1000 * statistics.median(screen_times):7.2f} ms median  "
          "measured after the run in this process (during the run: the read-ahead thread, the grading threads for the rest)")

    failed = False
    ref_lines = []
    refs = [r for r in args.reference.split(",") if r and r != "none"]
    if refs:
        sample = stratified_sample(generated, args.per_kind)
        ref_class = root / "reference" / generated.folder.name  # the same labels as the main run
        ref_class.mkdir(parents=True)
        for sub in sample:
            shutil.copy(sub.path, ref_class / sub.path.name)
        kinds = sorted({s.kind for s in sample}, key=KINDS.index)
        print(f"\nreference check on a stratified sample of {len(sample)} ({', '.join(kinds)}; every kind: "
              f"{'yes' if set(kinds) == set(KINDS) else 'NO'})")
        for ref in refs:
            engine, jobs, limits = ("fork", 1, BENCH_LIMITS) if ref == "fork" else ("otter", args.jobs, OTTER_LIMITS)
            start = time.monotonic()
            result = grade_batch(autograder_zip=built.autograder_zip, submissions=[ref_class], out_dir=root / f"ref-{ref}",
                                 jobs=jobs, engine=engine, limits=limits, progress=False)
            seconds = time.monotonic() - start
            ref_rows = {row.label: row for row in result.rows}
            if ref == "fork":
                diffs = compare_exact(rows, ref_rows)
                what = "fork engine, jobs=1, same limits: points, statuses, findings exactly"
            else:
                diffs = compare_with_otter(rows, ref_rows, built.points)
                what = "otter engine: points counted, screen findings, statuses (engine-independent parts)"
            verdict = "identical" if not diffs else f"{len(diffs)} DIFFERENCES"
            print(f"  {ref:5s} ({what}): {len(ref_rows)} submissions in {seconds:.1f} s: {verdict}")
            for line in diffs:
                print(f"    {line}")
            failed |= bool(diffs)
            ref_lines.append(f"{ref}: {verdict} on {len(ref_rows)}")

    print("\nREADME table:\n")
    print("| measured | value |\n|---|---|")
    print(f"| date, machine | {info['date']}, {info['cores']} cores ({info['cpu']}), {info['memory']}, "
          f"Python {info['python']}, torch {info['torch']}, load average at start {info['load']} |")
    print(f"| submissions | {args.n}: " + ", ".join(f"{generated.counts[k]} {k}" for k in KINDS) + " |")
    print(f"| `grade_batch(jobs={args.jobs}, engine=\"fork\")` wall, zygote start included | {wall:.1f} s "
          f"({graded / wall:.1f} submissions/s; target < 60 s) |")
    print(f"| zygote start-up per job | {', '.join(f'{s:.1f} s' for s in summary.startup_seconds)} |")
    print(f"| read and screened during the start-up | {summary.read_ahead} of {graded} ({summary.phases.get('read ahead', 0.0):.2f} s) |")
    print(f"| CPU, user + system: grading process; zygote, servers and children | {cpu[0]:.1f} + {cpu[1]:.1f} s; "
          f"{cpu[2]:.1f} + {cpu[3]:.1f} s |")
    if cgroup_peak is not None:
        print(f"| peak memory, whole run (its memory cgroup's peak, {cgroup.version}) | {cgroup_peak / GIB:.2f} GiB (target < 3 GiB) |")
    print(f"| peak memory, whole run (PSS over the process tree, every {args.memory_interval:g} s) | "
          f"{memory.peak_bytes / GIB:.2f} GiB (target < 3 GiB) |")
    for phase in (*ENGINE_PHASES, "gradebook"):
        values = [p[phase] for p in summary.outcome_phases.values() if phase in p]
        cell = f"{sum(values):.2f} s, median {1000 * statistics.median(values):.1f} ms" if values else "not measured"
        print(f"| phase {phase} (sum, median per submission) | {cell} |")
    for phase in ("hash", "plan", "gradebook", "exports"):
        print(f"| parent: {phase} | {summary.phases.get(phase, 0.0):.2f} s |")
    print(f"| parent: read + screen (measured apart) | {sum(screen_times):.2f} s, median {1000 * statistics.median(screen_times):.1f} ms |")
    if ref_lines:
        print(f"| reference check | {'; '.join(ref_lines)} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
