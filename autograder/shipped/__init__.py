"""What gradkit ships out of itself, each module named as shipped; the names, defined once.

Every module in this folder is copied, byte for byte, out of gradkit by ``gradkit build``
(:mod:`instructor.build`) and runs there alone: it imports nothing from gradkit (only the
standard library, torch, and, for :data:`REFERENCE`, the shipped :data:`CHECKS` by its
shipped name). Grading-side code imports them from here
(``from autograder.shipped import gradkit_checks``).

* :data:`CHECKS`: the check library and answer recorder (torch and the standard library
  only); to students beside the notebook, and into the zip's ``files/``.
* :data:`REFERENCE`: the hidden tests' value checks (torch and :data:`CHECKS`); into the
  zip's ``files/`` only (``autograder_files:``), never to students.
* :data:`SUBMISSION`: restores a lost assignment name before Otter runs (standard library
  only); at the zip's root (``source/`` on Gradescope).
* :data:`VISIBILITY`: shows hidden results ``after_due_date`` (standard library only); at the
  zip's root, for ``hidden_results: after_due_date`` only.

The master notebook lists :data:`STAGED` files under Otter Assign's ``files:`` (to
students and the zip) or ``autograder_files:`` (the zip only); ``gradkit build`` copies
them next to the staged master notebook. It adds :data:`ZIP_ROOT` itself.

This module imports neither torch nor the shipped modules, so the static screen
(:mod:`autograder.screen`) and the run-time guards (:mod:`autograder.integrity`) can read
the names cheaply.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHECKS", "FOLDER", "MODULES", "REFERENCE", "STAGED", "SUBMISSION", "VISIBILITY", "ZIP_ROOT", "file_name",
           "source"]

CHECKS = "gradkit_checks"
"""Module name of the check library (this folder's ``gradkit_checks.py``): notebooks run
``import gradkit_checks`` in their provided record cells, tests run
``import gradkit_checks as gc``."""

REFERENCE = "gradkit_reference"
"""Module name of the hidden tests' value checks (``gradkit_reference.py``); never to students."""

SUBMISSION = "gradkit_submission"
"""Module name of the step run before Otter in the zip's ``run_autograder`` (``gradkit_submission.py``)."""

VISIBILITY = "gradkit_visibility"
"""Module name of the step run after Otter for ``hidden_results: after_due_date`` (``gradkit_visibility.py``)."""

STAGED = (CHECKS, REFERENCE)
"""Modules copied next to the staged master notebook (the notebook's ``files:`` /
``autograder_files:`` decide where Otter Assign puts each)."""

ZIP_ROOT = (SUBMISSION, VISIBILITY)
"""Scripts the build adds at the root of the autograder zip (``source/`` on Gradescope)."""

MODULES = STAGED + ZIP_ROOT
"""Every shipped module; the folder holds exactly these (a test keeps it so)."""

FOLDER = Path(__file__).resolve().parent
"""This folder: the shipped modules' sources."""


def file_name(module: str) -> str:
    """The file name a shipped module has, in this folder and where it ships.

    Args:
        module: one of :data:`MODULES`, e.g. ``"gradkit_checks"``.

    Returns:
        str: e.g. ``"gradkit_checks.py"``.

    Raises:
        ValueError: ``module`` is not a shipped module.
    """
    if module not in MODULES:
        raise ValueError(f"{module!r} is not a shipped module (one of {', '.join(MODULES)})")
    return f"{module}.py"


def source(module: str) -> Path:
    """The source file of a shipped module (what the build copies), e.g. ``<this folder>/gradkit_checks.py``.

    Raises:
        ValueError: ``module`` is not a shipped module.
    """
    return FOLDER / file_name(module)
