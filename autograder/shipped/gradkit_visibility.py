"""When students see hidden test results on Gradescope, and the step that makes it so.

Otter writes one ``results.json`` entry per question (``name``, ``score``, ``max_score``,
``output``) whose ``output`` holds every test case of the question, hidden ones included,
plus a ``"Public Tests"`` entry (``visibility: visible``) that summarises the public test
cases only. Otter's ``generate: show_hidden`` config sets the per-question entries to
``"hidden"`` (false) or ``"after_published"`` (true), see
``otter.test_files.GradingResults.to_gradescope_dict``. Gradescope also knows
``"after_due_date"`` (visibility values from Gradescope's autograder specification,
summarised in ``autograder/schemas/gradescope_results.schema.json``), which Otter cannot
express.

gradkit's assignment setting ``gradkit: hidden_results:`` (or Otter's ``show_hidden``) picks one of
:data:`HIDDEN_RESULTS_CHOICES`. ``hidden`` and ``after_published`` are Otter's own
``show_hidden`` false/true. For ``after_due_date`` Otter runs with ``show_hidden: true`` and
this module, shipped at the root of the autograder zip (``gradkit_visibility.py``), runs after Otter in
the zip's ``run_autograder`` and rewrites ``after_published`` to ``after_due_date`` in
``results.json``. It uses the standard library only: the Gradescope image has Otter's
environment, not gradkit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_NAME = Path(__file__).stem  # its name as shipped, for messages: gradkit_visibility

__all__ = [
    "DEFAULT_HIDDEN_RESULTS",
    "HIDDEN_RESULTS_CHOICES",
    "OTTER_SHOWN_VISIBILITY",
    "apply_hidden_results_visibility",
    "main",
]

HIDDEN_RESULTS_CHOICES = ("after_published", "after_due_date", "hidden")
"""Values of the ``gradkit: hidden_results:`` assignment setting (Gradescope visibility names)."""

DEFAULT_HIDDEN_RESULTS = "hidden"
"""Used when the assignment sets neither ``gradkit: hidden_results`` nor Otter's
``generate: show_hidden``: Otter's own default (``show_hidden: false``), so an Otter master
notebook keeps its meaning (OK-format doctests print expected values in their failure
messages). ``after_published`` (``show_hidden: true``) lets the instructor decide when, by
publishing grades."""

OTTER_SHOWN_VISIBILITY = "after_published"
"""The visibility Otter gives the per-question entries when ``show_hidden`` is true."""


def apply_hidden_results_visibility(results: dict[str, Any], visibility: str) -> dict[str, Any]:
    """Give the entries that carry hidden test results the visibility ``visibility``.

    Only entries Otter marked ``after_published`` (its ``show_hidden: true`` value, used only
    for entries that may hold hidden test output) change; ``visible`` entries such as
    ``"Public Tests"`` and ``hidden`` ones (Otter's "everything hidden" cases) are kept.

    Args:
        results: a Gradescope ``results.json`` dict as Otter wrote it; changed in place.
        visibility: one of :data:`HIDDEN_RESULTS_CHOICES`.

    Returns:
        dict: ``results`` itself.

    Raises:
        ValueError: ``visibility`` is not one of :data:`HIDDEN_RESULTS_CHOICES`, or
            ``results`` is not a dict with a ``tests`` list.
    """
    if visibility not in HIDDEN_RESULTS_CHOICES:
        raise ValueError(f"hidden results visibility {visibility!r} is not one of {', '.join(HIDDEN_RESULTS_CHOICES)}")
    tests = results.get("tests") if isinstance(results, dict) else None
    if not isinstance(tests, list):
        raise ValueError("results.json: expected an object with a 'tests' list")
    for test in tests:
        if isinstance(test, dict) and test.get("visibility") == OTTER_SHOWN_VISIBILITY:
            test["visibility"] = visibility
    return results


def main(argv: list[str]) -> int:
    """Command line: ``python gradkit_visibility.py RESULTS_JSON VISIBILITY``.

    Rewrites ``RESULTS_JSON`` in place with :func:`apply_hidden_results_visibility`.

    Returns:
        int: 0 when done or when ``RESULTS_JSON`` does not exist (Otter failed before writing
        it; Gradescope then reports the missing file itself), 1 when the file is not valid
        results JSON, 2 on wrong arguments.
    """
    if len(argv) != 2 or argv[1] not in HIDDEN_RESULTS_CHOICES:
        print(f"usage: {_NAME}.py RESULTS_JSON {{{','.join(HIDDEN_RESULTS_CHOICES)}}}", file=sys.stderr)
        return 2
    path, visibility = Path(argv[0]), argv[1]
    if not path.is_file():
        print(f"{_NAME}: {path} does not exist; nothing to change", file=sys.stderr)
        return 0
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
        apply_hidden_results_visibility(results, visibility)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        print(f"{_NAME}: {path}: {error}", file=sys.stderr)
        return 1
    path.write_text(json.dumps(results, indent=4), encoding="utf-8")
    print(f"{_NAME}: hidden test results in {path} are shown to students {visibility}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
