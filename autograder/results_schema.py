"""Validate Gradescope ``results.json`` dicts against gradkit's JSON Schema.

The schema, ``autograder/schemas/gradescope_results.schema.json`` (JSON Schema draft
2020-12), follows Gradescope's autograder specification, "Output format"
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): top-level ``score``,
``execution_time``, ``output``, ``output_format``, ``visibility``, ``stdout_visibility``,
``extra_data``, ``tests[]``, ``leaderboard[]``; per test ``score``, ``max_score``,
``status`` (passed/failed), ``name``, ``number``, ``output``, ``output_format``, ``tags``,
``visibility``, ``extra_data``; visibility one of hidden/after_due_date/after_published/visible.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_SCHEMA_PATH", "ResultsSchemaError", "results_schema", "validate_results", "validate_results_file"]

RESULTS_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "gradescope_results.schema.json"
"""Where the schema lives (shipped as package data)."""


class ResultsSchemaError(ValueError):
    """A results.json does not follow Gradescope's format.

    Attributes:
        problems: one line per violation, each starting with the JSON path of the field
            (``$.tests[2].visibility: 'shown' is not one of [...]``).
    """

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{source} does not follow Gradescope's results.json format:\n  " + "\n  ".join(problems))


@lru_cache(maxsize=1)
def results_schema() -> dict[str, Any]:
    """The schema as a dict (read once).

    Raises:
        FileNotFoundError: the schema file is missing from the installation.
    """
    return json.loads(RESULTS_SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_results(results: Any, *, source: str = "results.json") -> None:
    """Check ``results`` against Gradescope's results.json format.

    Args:
        results: the parsed results.json (normally a dict).
        source: what to call it in the error message (a file name or a submission label).

    Raises:
        ResultsSchemaError: every violation, each naming the field by its JSON path
            (``$.tests[0].status``) and saying what is wrong with it.
    """
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(results_schema())
    errors = sorted(validator.iter_errors(results), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        raise ResultsSchemaError(source, [_describe(error) for error in errors])


def validate_results_file(path: Path) -> dict[str, Any]:
    """Read and validate one results.json file.

    Args:
        path: the file.

    Returns:
        dict: the parsed results.

    Raises:
        ResultsSchemaError: the file is not JSON, or does not follow the format (the message
            names the file and the field).
    """
    path = Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ResultsSchemaError(str(path), [f"not valid JSON: {error}"]) from None
    validate_results(results, source=str(path))
    return results


def _describe(error) -> str:
    where = error.json_path
    if error.validator == "additionalProperties":
        # name the unknown field itself, not only its parent object
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known) if isinstance(error.instance, dict) else []
        return "; ".join(f"{where}.{name}: unknown field (not in Gradescope's results.json format)" for name in extra) or f"{where}: {error.message}"
    if error.validator == "anyOf" and where == "$":
        return "$: needs a top-level 'score' or a 'tests' list"
    return f"{where}: {error.message}"
