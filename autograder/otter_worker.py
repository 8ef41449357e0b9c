"""Child-process entry point of the ``otter`` engine: grade one notebook with ``otter run``.

Run as ``python -m autograder.otter_worker AUTOGRADER_ZIP NOTEBOOK OUT_JSON``. It calls
otter-grader's non-containerised runner (the same code as ``otter run``), then writes
``OUT_JSON`` with ``{"scores": {question: points}, "status": str, "results": {...}}``,
where ``results`` is the Gradescope-format ``results.json`` that otter wrote. The parent
reads only that JSON file.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import traceback
from pathlib import Path


def grade(autograder_zip: Path, notebook: Path) -> dict:
    """Grade ``notebook`` with otter and return the worker's JSON payload (see module doc)."""
    from otter.run import main as otter_run

    from .outcome import COMPLETED

    with tempfile.TemporaryDirectory(prefix="gradkit-otter-") as tmp:
        log = io.StringIO()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            results = otter_run(
                str(notebook), autograder=str(autograder_zip), output_dir=tmp, no_logo=True
            )
        results_json = json.loads(Path(tmp, "results.json").read_text(encoding="utf-8"))
    if results.has_catastrophic_failure():
        return {"scores": {}, "status": f"grading failed: {results.catastrophic_error}", "results": results_json}
    scores = {name: float(tf.score) for name, tf in results.results.items()}
    return {"scores": scores, "status": COMPLETED, "results": results_json}


def main(argv: list[str]) -> int:
    """Grade ``argv = [zip, notebook, out_json]``; always writes ``out_json`` (exit 0) unless
    the arguments are wrong (exit 2)."""
    if len(argv) != 3:
        print("usage: python -m autograder.otter_worker AUTOGRADER_ZIP NOTEBOOK OUT_JSON", file=sys.stderr)
        return 2
    autograder_zip, notebook, out = map(Path, argv)
    try:
        payload = grade(autograder_zip, notebook)
    except Exception as error:  # noqa: BLE001 - a result file is written even when grading crashes
        reason = f"grading crashed: {type(error).__name__}: {error}"
        payload = {
            "scores": {},
            "status": reason,
            "results": {"score": 0, "output": reason + "\n\n" + traceback.format_exc(), "tests": []},
        }
    out.write_text(json.dumps(payload), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
