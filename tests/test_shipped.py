"""What ships out of gradkit: one folder, each module named as shipped, names defined once.

``autograder/shipped/`` holds the modules ``gradkit build`` copies to students and into the
autograder zip, under their shipped names; :mod:`autograder.shipped` defines those names,
and no other grading code spells them. Each module runs alone where it ships: the check
library and the hidden tests' value checks with torch and the standard library, the zip's
two scripts with the standard library only (a fresh interpreter in which importing
anything else fails). No kernel, no build: fast.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import shipped

REPO = Path(__file__).resolve().parent.parent
GRADING_CODE = [REPO / "autograder", REPO / "instructor", REPO / "student"]
_NAME = re.compile(r"\b(%s)\b" % "|".join(map(re.escape, shipped.MODULES)))


def test_the_folder_holds_exactly_the_shipped_modules_under_their_names():
    files = sorted(p.name for p in shipped.FOLDER.glob("*.py") if p.name != "__init__.py")
    assert files == sorted(f"{m}.py" for m in shipped.MODULES)
    assert set(shipped.STAGED) | set(shipped.ZIP_ROOT) == set(shipped.MODULES)
    assert shipped.CHECKS in shipped.STAGED and shipped.REFERENCE in shipped.STAGED
    assert shipped.source(shipped.CHECKS) == shipped.FOLDER / "gradkit_checks.py"
    with pytest.raises(ValueError, match="'gradchecks' is not a shipped module"):
        shipped.file_name("gradchecks")


def _strings(tree: ast.AST):
    """String constants that are not docstrings (bare string statements), with line numbers."""
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_grading_code_spells_a_shipped_name_but_autograder_shipped():
    """The shipped names are defined once (:mod:`autograder.shipped`); screen, integrity,
    build, outputs and the desk read them from there. Docstrings and comments may name them."""
    spelled = []
    for root in GRADING_CODE:
        for path in sorted(root.rglob("*.py")):
            if path.is_relative_to(shipped.FOLDER):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            spelled += [f"{path.relative_to(REPO)}:{line}: {text!r}" for line, text in _strings(tree) if _NAME.search(text)]
            for node in ast.walk(tree):  # grading code imports them from autograder.shipped, never by their shipped name
                if isinstance(node, ast.Import):
                    spelled += [f"{path.relative_to(REPO)}:{node.lineno}: import {a.name}" for a in node.names if a.name in shipped.MODULES]
                elif isinstance(node, ast.ImportFrom) and node.module in shipped.MODULES:
                    spelled += [f"{path.relative_to(REPO)}:{node.lineno}: from {node.module} import"]
    assert not spelled, "\n".join(spelled)


def test_the_shipped_modules_spell_no_name_of_another_but_their_own_import():
    """Only the value checks name another shipped module: ``import gradkit_checks`` where they ship."""
    for module in shipped.MODULES:
        tree = ast.parse(shipped.source(module).read_text(encoding="utf-8"))
        assert not [text for _, text in _strings(tree) if _NAME.search(text)], module
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert imported & set(shipped.MODULES) == ({shipped.CHECKS} if module == shipped.REFERENCE else set()), module


# A fresh interpreter in which importing gradkit (or, with STDLIB_ONLY, anything outside the
# standard library) fails, as on a student's machine or in Gradescope's image.
_PROBE = """
import importlib.abc, json, sys
GRADKIT = {"autograder", "instructor", "student", "otter", "pandas", "nbformat"}
STDLIB_ONLY = %(stdlib_only)r
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in GRADKIT or (STDLIB_ONLY and top not in sys.stdlib_module_names and top not in %(modules)r):
            raise ImportError(f"{name} is not installed where this module ships")
        return None
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, %(folder)r)
loaded = {}
for module in %(modules)r:
    loaded[module] = __import__(module)
%(extra)s
outside = {m.partition(".")[0] for m in sys.modules} - set(sys.stdlib_module_names) - set(loaded) - {"__main__"}
print(json.dumps(sorted(m for m in outside if not m.startswith("__editable__"))))  # site's finder of the dev install
"""


def _probe(tmp_path: Path, modules: tuple[str, ...], *, stdlib_only: bool, extra: str = "") -> list[str]:
    folder = tmp_path / "alone"
    folder.mkdir()
    for module in modules:  # copied alone, as the build copies them
        shutil.copyfile(shipped.source(module), folder / shipped.file_name(module))
    code = _PROBE % {"stdlib_only": stdlib_only, "modules": modules, "folder": str(folder), "extra": extra}
    flags = ["-S"] if stdlib_only else []  # -S: not even site-packages on the path
    done = subprocess.run([sys.executable, *flags, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_library_and_value_checks_run_alone_with_torch(tmp_path):
    extra = ("gc, gr = loaded['gradkit_checks'], loaded['gradkit_reference']\n"
             "assert gr.gc is gc and gr.CheckFailed is gc.CheckFailed\n"
             "import torch\n"
             "x = torch.tensor(2.0, requires_grad=True); (x ** 3).backward()\n"
             "gr.check_gradient(gc.snapshot(x.grad), torch.tensor(12.0, dtype=torch.float64), 'grad1')\n")
    third_party = _probe(tmp_path, shipped.STAGED, stdlib_only=False, extra=extra)
    assert "torch" in third_party and not {"autograder", "instructor", "student", "otter"} & set(third_party)


def test_zip_scripts_run_alone_with_the_standard_library(tmp_path):
    extra = ("import io, contextlib\n"
             "for module in loaded.values():\n"
             "    err = io.StringIO()\n"
             "    with contextlib.redirect_stderr(err):\n"
             "        assert module.main([]) == 2\n"
             "    assert f'{module.__name__}.py ' in err.getvalue(), err.getvalue()\n")
    assert _probe(tmp_path, shipped.ZIP_ROOT, stdlib_only=True, extra=extra) == []
