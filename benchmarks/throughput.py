"""Throughput benchmark: gradkit's batch grader against a plain sequential `otter run` loop.

Grades N generated submissions (the bundled samples, cycled: correct and wrong mixed)
with ``gradkit grade`` (``--jobs``, fresh output folder), then runs ``otter run`` on the
same files one after another, and prints submissions per minute, the median seconds per
submission of each, and the ratio. Not a test: the figures depend on the machine's load.

    python benchmarks/throughput.py [-n 12] [--jobs 2] [--engine otter] [--skip-otter-loop]
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("-n", type=int, default=12, help="number of submissions")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--engine", default="otter")
    parser.add_argument("--skip-otter-loop", action="store_true", help="do not time the sequential otter run loop")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gradkit-bench-") as tmp:
        tmp = Path(tmp)
        assignment = REPO / "assignments" / "autograd-basics"
        built = build_assignment(assignment, tmp / "dist", verify=False)
        samples = write_samples(built.student_notebook, load_samples(assignment / "samples"), tmp / "samples")
        subs = tmp / "subs"
        subs.mkdir()
        for i in range(args.n):
            shutil.copy(samples[i % len(samples)], subs / f"student{i:04d}.ipynb")

        start = time.monotonic()
        grade_batch(autograder_zip=built.autograder_zip, submissions=[subs], out_dir=tmp / "out", jobs=args.jobs, engine=args.engine, progress=False)
        gradkit_s = time.monotonic() - start
        with Gradebook(tmp / "out") as book:
            gradkit_median = statistics.median(r.seconds for r in book.rows())
        print(f"gradkit grade --engine {args.engine} --jobs {args.jobs}: {args.n} submissions in {gradkit_s:.1f} s = "
              f"{60 * args.n / gradkit_s:.1f} submissions/min, median {gradkit_median:.2f} s per submission")

        if args.skip_otter_loop:
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
        print(f"throughput ratio gradkit / otter-run loop: {loop_s / gradkit_s:.2f}x")


if __name__ == "__main__":
    main()
