"""Shared fixtures: one real build of the bundled assignment, and its samples graded once.

Everything here is real: Otter Assign builds the notebooks, a Jupyter kernel executes
them, and otter-grader runs the tests. Session-scoped, so the suite builds once.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from instructor.batch import grade_batch
from instructor.build import build_assignment
from instructor.samples import load_samples, write_samples

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The autograd-basics assignment built (and verified) into a temporary dist/."""
    return build_assignment(ASSIGNMENT, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def master():
    return nbformat.read(ASSIGNMENT / "autograd-basics.ipynb", as_version=4)


@pytest.fixture(scope="session")
def bundled_samples():
    return load_samples(ASSIGNMENT / "samples")


@pytest.fixture(scope="session")
def graded_samples(built, bundled_samples, tmp_path_factory):
    """(samples, grade table, grading output folder) for the bundled samples."""
    root = tmp_path_factory.mktemp("samples")
    paths = write_samples(built.student_notebook, bundled_samples, root / "submissions")
    out = root / "grading"
    table = grade_batch(autograder_zip=built.autograder_zip, submissions=paths, out_dir=out, progress=False).table
    return bundled_samples, table, out


@pytest.fixture(scope="session")
def desk_listener():
    """A local HTTP listener that records every request (the desk's hostile payloads point at it)."""
    from .desk_class import Listener

    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture(scope="session")
def desk_class(built, desk_listener, tmp_path_factory):
    """The desk's class graded once (tests/desk_class.py): its grading output folder.
    Tests that change it work on a copy (:func:`shutil.copytree`)."""
    from .desk_class import grade_desk_class

    return grade_desk_class(built, tmp_path_factory.mktemp("desk"), desk_listener.url)
