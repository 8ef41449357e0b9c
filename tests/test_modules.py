"""Every module of the three packages imports on its own, and the code is pyflakes-clean.

Modules are found by walking the package folders (``pkgutil.iter_modules``, nothing
imported to find them), so a module added, moved or renamed is covered without a list
to keep. Each module is imported first in a fresh interpreter: an import circle shows
only when the circle's own module is the first one imported, so importing them one after
another in one interpreter would hide it. To keep that cheap, one fresh interpreter
imports the third-party libraries the packages import at their top level (torch, otter,
pandas...: none of them imports gradkit) and forks one child per module; each child starts
without any module of ``autograder``, ``student`` or ``instructor`` and imports its one.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

from .fork_each import SOURCE as FORK_EACH

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "student", "instructor")


def package_modules() -> list[str]:
    """Every module and package of :data:`PACKAGES`, dotted, found on disk."""
    found = []

    def walk(folder: Path, prefix: str) -> None:
        for info in pkgutil.iter_modules([str(folder)]):
            found.append(prefix + info.name)
            if info.ispkg:
                walk(folder / info.name, prefix + info.name + ".")

    for package in PACKAGES:
        found.append(package)
        walk(REPO / package, package + ".")
    return sorted(found)


def third_party_imports() -> list[str]:
    """The top-level modules the packages import at module level, other than their own
    (standard library included)."""
    names = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return sorted(names - set(PACKAGES) - {"__future__"})


DRIVER = FORK_EACH + textwrap.dedent('''
    import importlib, json, sys, traceback
    warm, modules, packages = json.loads(sys.stdin.read())
    for name in warm:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the module that imports it reports it
    assert not [m for m in sys.modules if m.split(".")[0] in packages], "a library imported gradkit"


    def load(module):
        try:
            importlib.import_module(module)
        except BaseException:
            return traceback.format_exc()
        return ""


    failures = {module: message or f"the child ended with status {status}"
                for module, (status, message) in fork_each(modules, load).items() if message or status}
    print(json.dumps(failures))
''')


def test_the_walk_finds_every_module_file():
    modules = package_modules()
    files = sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py") if "__pycache__" not in p.parts)
    expected = sorted(".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__") for p in files)
    assert modules == expected
    assert {"autograder", "student", "instructor", "instructor.cli", "student.check"} <= set(modules)


def test_every_module_imports_first_in_a_fresh_interpreter():
    import json

    modules = package_modules()
    done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps([third_party_imports(), modules, list(PACKAGES)]),
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{module}:\n{message}" for module, message in failures.items())


def test_pyflakes_finds_nothing():
    """``python -m pyflakes`` on the packages and on the tests' Python modules. The sample
    submissions under tests/ (files that start with ``# sample:``) are notebook cells typed
    by students, not modules: they use the notebook's names and IPython magics."""
    files = [str(p) for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))]
    samples = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        with path.open(encoding="utf-8") as handle:
            (samples if handle.readline().startswith("# sample:") else files).append(str(path))
    assert len(samples) == len(list((REPO / "tests" / "corpus").rglob("*.py"))) + len(list((REPO / "tests" / "anticheat").rglob("*.py"))) + len(
        list((REPO / "tests" / "second_assignment").rglob("samples/*.py"))) + len(list((REPO / "tests" / "add_a_check").rglob("samples/*.py")))
    done = subprocess.run([sys.executable, "-m", "pyflakes", *files], capture_output=True, text=True, cwd=REPO, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and output == "", output
