"""Pack gradkit's grading engine into the autograder zip, so Gradescope grades with it.

gradkit is not on PyPI, so the ``autograder`` package itself ships inside the zip
(:data:`autograder.gradescope_runner.ENGINE_FOLDER`), with a small entry script
(:data:`ENTRY_SCRIPT`) that ``run_autograder`` runs in place of Otter's ``run_otter.py``
(:func:`autograder.gradescope_runner.main`), and the settings file
(:data:`autograder.gradescope_runner.CONFIG_FILE`). ``setup.sh`` gets lines that create the
unprivileged user student code runs as, let that user import the grading environment,
and check that the engine imports there (:func:`setup_lines`); the environment gets the
engine's one requirement Otter's does not bring (:func:`with_engine_requirements`).
Nothing is fetched at grading time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import autograder
from autograder.gradescope_runner import CONFIG_FILE, ENGINE_FOLDER, FLAGGED_CHOICES
from autograder.engines.user_drop import DEFAULT_USER

__all__ = ["ENGINE_REQUIREMENTS", "ENTRY_SCRIPT", "engine_members", "run_autograder_line", "setup_lines", "with_engine_requirements"]

ENTRY_SCRIPT = "gradkit_grade.py"
"""File name of the entry script at the root of the zip (``source/`` on Gradescope)."""

ENGINE_REQUIREMENTS = ("matplotlib>=3.7",)
"""pip lines the engine needs beyond otter-grader[grading] and the assignment's own (the
fork engine's zygote imports matplotlib once, so student plots cost nothing per submission)."""

_ENTRY = f'''"""gradkit's Gradescope entry point: grade /autograder/submission with gradkit's engine.

Run by run_autograder instead of Otter's run_otter.py; the engine ships in {ENGINE_FOLDER}/
(see autograder/gradescope_runner.py there).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "{ENGINE_FOLDER}"))
from autograder.gradescope_runner import main  # noqa: E402

sys.exit(main())
'''


def engine_members(*, flagged: str) -> dict[str, bytes]:
    """Zip members (name -> bytes): the ``autograder`` package's Python files and data
    (every ``.py`` and ``.json`` under it, ``__pycache__`` left out) under
    :data:`ENGINE_FOLDER`, the entry script and the settings file.

    Args:
        flagged: the ``gradkit: flagged:`` setting, one of ``FLAGGED_CHOICES``.

    Raises:
        ValueError: an unknown ``flagged`` value.
    """
    if flagged not in FLAGGED_CHOICES:
        raise ValueError(f"flagged is {flagged!r}; use one of {', '.join(FLAGGED_CHOICES)}")
    package = Path(autograder.__file__).resolve().parent
    members = {}
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            members[f"{ENGINE_FOLDER}/autograder/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    members[ENTRY_SCRIPT] = _ENTRY.encode("utf-8")
    members[CONFIG_FILE] = (json.dumps({"flagged": flagged, "user": DEFAULT_USER}, indent=1) + "\n").encode("utf-8")
    return members


def run_autograder_line(ag_dir: str) -> str:
    """The line of ``run_autograder`` that grades (``ag_dir``: ``/autograder``)."""
    return (f"# gradkit: grade with gradkit's engine (screen, confined child, scores computed outside it),\n"
            f"# not Otter's run_otter.py; see source/{ENTRY_SCRIPT}\n"
            f"python {ag_dir}/source/{ENTRY_SCRIPT}\n")


def setup_lines(ag_dir: str) -> str:
    """Lines appended to Otter's ``setup.sh`` (which ends with the ``otter-env`` environment
    built): the unprivileged user (PrairieLearn's sandbox user), traversal (``o+x``, not
    listing) of the folders above the environment so that user can import from it, and a
    check that the engine imports in ``otter-env``."""
    return (
        "\n# gradkit: student code runs as this unprivileged user (see source/gradkit_engine/autograder/engines/user_drop.py)\n"
        f"id -u {DEFAULT_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin {DEFAULT_USER}\n"
        "# gradkit: that user imports from the grading environment (under /root, mode 700): let it pass through\n"
        "# (o+x, not list) the folders above the environment\n"
        "gradkit_prefix=$(mamba run -n otter-env python -c 'import sys; print(sys.prefix)')\n"
        'd="$gradkit_prefix"; while [ "$d" != "/" ]; do chmod o+x "$d"; d=$(dirname "$d"); done\n'
        "# gradkit: the engine (shipped in the zip, gradkit is not on PyPI) must import in otter-env\n"
        f"mamba run -n otter-env python -c \"import sys; sys.path.insert(0, '{ag_dir}/source/{ENGINE_FOLDER}'); "
        "import autograder.gradescope_runner as r; r.engine_classes()\"\n"
    )


def with_engine_requirements(environment_yml: bytes) -> bytes:
    """Otter's ``environment.yml`` with :data:`ENGINE_REQUIREMENTS` added after the
    ``otter-grader`` pip line (those already required are not repeated).

    Raises:
        ValueError: no ``otter-grader`` pip line.
    """
    text = environment_yml.decode("utf-8")
    match = re.search(r"^(\s*- )otter-grader\S*\s*$", text, flags=re.MULTILINE)
    if match is None:
        raise ValueError("environment.yml has no otter-grader pip line")
    present = {_requirement_name(line) for line in text.splitlines()}
    added = "".join(f"\n{match.group(1)}{line}" for line in ENGINE_REQUIREMENTS if _requirement_name(line) not in present)
    return (text[:match.end()] + added + text[match.end():]).encode("utf-8")


def _requirement_name(line: str) -> str:
    """The lower-case project name of a requirement or ``environment.yml`` list line
    (``"  - Matplotlib[x]>=3.7"`` -> ``"matplotlib"``)."""
    return re.split(r"[<>=!\[ ]", line.strip().lstrip("- "), maxsplit=1)[0].lower()
