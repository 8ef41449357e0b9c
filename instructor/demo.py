"""The kit's main job on bundled data: build every assignment and grade its samples.

For each assignment folder with a ``samples/`` folder: build it, write the sample
submissions (the student notebook with the answers of each sample typed in), grade them
with ``gradkit grade``'s batch grader, and compare every question with the sample's
expected points.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from autograder.engines import engine_here
from autograder.points import points_possible
from instructor.batch import grade_batch
from instructor.build import build_assignment
from instructor.samples import load_samples, write_samples

__all__ = ["SAMPLES_DIR", "run_demo"]

SAMPLES_DIR = "samples"


def run_demo(assignment_dirs: list[Path], out_dir: Path, *, jobs: int | None = None, progress: bool = True,
             engine: str | None = None) -> pd.DataFrame:
    """Build, write samples, grade them, and compare with the expected points.

    Args:
        assignment_dirs: assignment folders (each with a master notebook and ``samples/``).
        out_dir: output root; assignment ``A`` goes to ``out_dir/A/`` with its samples in
            ``out_dir/A/samples/`` and the grading output in ``out_dir/A/grading/``.
        jobs: submissions graded at once (default: CPU cores).
        progress: show progress bars.
        engine: the grading engine; None: the default, or the reference ``otter`` engine
            where the default cannot run (:func:`autograder.engines.engine_here`).

    Returns:
        pandas.DataFrame: one row per sample: ``assignment``, ``sample``, one column per
        question (points earned), ``total``, ``possible``, ``expected`` (total points
        expected) and ``as_expected`` (bool: every question earned exactly what the
        sample expects).

    Raises:
        instructor.build.BuildError: an assignment does not build or verify.
        instructor.samples.SampleError: a sample file is malformed.
    """
    if engine is None:
        engine, _ = engine_here()
    rows = []
    for assignment_dir in assignment_dirs:
        samples_dir = Path(assignment_dir) / SAMPLES_DIR
        if not samples_dir.is_dir():
            continue
        built = build_assignment(assignment_dir, out_dir)
        samples = load_samples(samples_dir)
        paths = write_samples(built.student_notebook, samples, Path(out_dir) / built.name / SAMPLES_DIR)
        table = grade_batch(
            autograder_zip=built.autograder_zip,
            submissions=paths,
            out_dir=Path(out_dir) / built.name / "grading",
            jobs=jobs,
            progress=progress,
            engine=engine,
        ).table.iloc[1:].set_index("file")
        for sample, path in zip(samples, paths):
            row = table.loc[Path(path).name]  # the grading folder may hold earlier runs' submissions too
            earned = {q: float(row[q]) for q in built.points}
            rows.append(
                {
                    "assignment": built.name,
                    "sample": sample.name,
                    **earned,
                    "total": float(row["total_points_earned"]),
                    "possible": points_possible(built.points),
                    "expected": float(sum(sample.expected.values())),
                    "as_expected": all(earned.get(q) == p for q, p in sample.expected.items())
                    and set(sample.expected) == set(built.points),
                    "status": row["grading_status"],
                }
            )
    return pd.DataFrame(rows)
