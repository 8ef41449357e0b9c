"""Throughput benchmark: gradkit's grading engines on the same submissions and cores.

Generates N submissions (the bundled samples and the check corpus, cycled: correct and
wrong mixed), grades them with ``grade_batch`` once per engine (``--engines``, default
``otter,fork``; same ``--jobs``, fresh output folder each), and prints for each engine
submissions per minute and the median seconds per submission, then the throughput ratio
of every engine to the first. ``--otter-loop`` also times a plain sequential ``otter run``
loop. Not a test: the figures depend on the machine's load.

    python benchmarks/throughput.py [-n 200] [--jobs 2] [--engines otter,fork] [--otter-loop]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from instructor.batch import grade_batch  # noqa: E402
from instructor.build import build_assignment  # noqa: E402
from instructor.gradebook import Gradebook  # noqa: E402
from instructor.samples import load_samples, write_samples  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="number of submissions")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--engines", default="otter,fork", help="comma-separated engine names; ratios are to the first")
    parser.add_argument("--otter-loop", action="store_true", help="also time a sequential `otter run` loop")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gradkit-bench-") as tmp:
        tmp = Path(tmp)
        assignment = REPO / "assignments" / "autograd-basics"
        built = build_assignment(assignment, tmp / "dist", verify=False)
        pool = load_samples(assignment / "samples") + load_samples(REPO / "tests" / "corpus" / "autograd-basics")
        samples = write_samples(built.student_notebook, pool, tmp / "samples")
        subs = tmp / "subs"
        subs.mkdir()
        for i in range(args.n):
            shutil.copy(samples[i % len(samples)], subs / f"student{i:04d}.ipynb")
        print(f"{args.n} submissions cycled from {len(samples)} samples (correct and wrong), --jobs {args.jobs}, {os.cpu_count()} cores")

        rates, totals = {}, {}
        for engine in args.engines.split(","):
            out = tmp / f"out-{engine}"
            start = time.monotonic()
            grade_batch(autograder_zip=built.autograder_zip, submissions=[subs], out_dir=out, jobs=args.jobs, engine=engine, progress=False)
            elapsed = time.monotonic() - start
            with Gradebook(out) as book:
                rows = book.rows()
            median = statistics.median(r.seconds for r in rows)
            rates[engine] = 60 * args.n / elapsed
            totals[engine] = {r.label: r.scores for r in rows}
            print(f"engine {engine:6s}: {args.n} submissions in {elapsed:7.1f} s = {rates[engine]:7.1f} submissions/min, "
                  f"median {median:.3f} s per submission")
        first = args.engines.split(",")[0]
        for engine in rates:
            if engine != first:
                same = totals[engine] == totals[first]
                print(f"throughput ratio {engine} / {first}: {rates[engine] / rates[first]:.1f}x (scores identical: {same})")

        if not args.otter_loop:
            return
        otter = Path(sys.executable).with_name("otter")
        times = []
        start = time.monotonic()
        for sub in sorted(subs.glob("*.ipynb")):
            t0 = time.monotonic()
            out = tmp / "otter-out" / sub.stem
            out.mkdir(parents=True)
            subprocess.run([str(otter), "run", "-a", str(built.autograder_zip), "-o", str(out), "--no-logo", str(sub)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.monotonic() - t0)
        loop_s = time.monotonic() - start
        print(f"sequential `otter run` loop: {args.n} submissions in {loop_s:.1f} s = {60 * args.n / loop_s:.1f} submissions/min, "
              f"median {statistics.median(times):.2f} s per submission")
        for engine, rate in rates.items():
            print(f"throughput ratio {engine} / otter-run loop: {rate / (60 * args.n / loop_s):.2f}x")


if __name__ == "__main__":
    main()
