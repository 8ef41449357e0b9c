"""Package-install lines (Colab's ``%pip install -q otter-grader`` cell): not run at grading.

Otter's own instructions tell Colab students to start with ``%pip install otter-grader``,
and notebooks copied from tutorials carry ``!pip install torch``. On the grading machine
the packages are already there, and installing anything would reach the network, so such
lines are not run: each is replaced by ``pass`` at the same indentation (line numbers and
blocks stay as they were) before the static screen reads the notebook and before either
engine, or ``gradkit check``, runs it. They raise no finding.

A line counts as a package install when, after its indentation, it is one of

* ``%pip install ...`` / ``%pip -q install ...`` (IPython's ``%pip`` magic, any options
  before ``install``), ``%conda install ...``, ``%mamba install ...``;
* ``!pip install ...``, ``!pip3 install ...``, ``!python -m pip install ...``,
  ``!python3 -m pip install ...``, ``!{sys.executable} -m pip install ...``,
  ``!conda install ...``, ``!mamba install ...``;
* ``pip install ...`` / ``conda install ...`` without a prefix (IPython's automagic
  runs them as ``%pip``/``%conda``);

continued over the next lines by a trailing backslash, and with nothing the shell or
IPython would run besides the installer: no ``;``, ``&``, ``|``, backtick, ``$``,
redirection, parentheses or ``{...}`` expansion outside quotes (other than
``{sys.executable}``). Every other shell escape (``!ls``, ``!pip install x && rm ...``,
``!wget``, ``%%bash``) is left alone, so the screen still flags it. So is every line of
a cell whose body is not Python: a cell magic other than ``%%capture``, ``%%time`` and
``%%timeit`` (``%%bash``, ``%%sh``, ``%%writefile`` ...) keeps its text as written, and
the screen flags (and the instructor sees) what the student wrote, not a ``pass``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .notebook_reader import code_cells

__all__ = ["InstallLine", "is_install_line", "strip_install_lines", "strip_notebook_install_lines"]

_OPTION = r"(?:\s+-{1,2}[A-Za-z][\w-]*(?:=\S+)?)*"  # -q, --quiet, --no-cache-dir ... before the subcommand
_INSTALL = re.compile(
    r"^(?:"
    rf"%(?:pip|conda|mamba){_OPTION}\s+install"
    rf"|!\s*(?:pip3?|conda|mamba){_OPTION}\s+install"
    rf"|!\s*(?:python3?|\{{sys\.executable\}}){_OPTION}\s+-m\s+pip{_OPTION}\s+install"
    rf"|(?:pip|conda){_OPTION}\s+install"
    r")(?:\s|$)"
)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SHELL = re.compile(r"[;&|`$<>(){}\n]")
_PYTHON_CELL_MAGICS = frozenset({"capture", "time", "timeit"})
"""Cell magics whose body IPython runs as Python (install lines in it are not run either)."""


@dataclass(frozen=True)
class InstallLine:
    """A package-install line that is not run.

    Attributes:
        cell: the cell's 1-based position in the notebook (every cell counted, as Jupyter lists them).
        line: the 1-based line in the cell (the first line of a continued command).
        code: the line's text, stripped.
    """

    cell: int
    line: int
    code: str


def is_install_line(text: str) -> bool:
    """Whether ``text`` (one logical line, continuations joined) only installs packages."""
    stripped = text.strip()
    match = _INSTALL.match(stripped)
    if match is None:
        return False
    rest = _QUOTED.sub("''", stripped.replace("{sys.executable}", "python"))
    return not _SHELL.search(rest)


def strip_install_lines(source: str, cell: int = 1) -> tuple[str, list[InstallLine]]:
    """``source`` with its package-install lines replaced by ``pass`` (same indentation;
    continuation lines emptied), and the lines replaced.

    Args:
        source: one code cell's text.
        cell: its 1-based position, copied into the :class:`InstallLine` entries.

    Returns:
        (str, list[InstallLine]): the new source (as many lines as before) and what was
        replaced, in line order.
    """
    if "install" not in source:  # every install line says it (_INSTALL): most cells are done at once
        return source, []
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if first.startswith("%%") and (first[2:].split() or [""])[0] not in _PYTHON_CELL_MAGICS:
        return source, []  # %%bash, %%writefile ...: not Python, left as written
    lines = source.split("\n")
    out: list[str] = []
    found: list[InstallLine] = []
    index = 0
    while index < len(lines):
        end = index
        while lines[end].rstrip("\r").endswith("\\") and end + 1 < len(lines):
            end += 1
        logical = " ".join(line.rstrip("\r").rstrip("\\") for line in lines[index:end + 1])
        if is_install_line(logical):
            head = lines[index]
            indent = head[:len(head) - len(head.lstrip())]
            ending = "\r" if head.endswith("\r") else ""
            out.append(f"{indent}pass{ending}")
            out += [""] * (end - index)
            found.append(InstallLine(cell, index + 1, logical.strip()))
            index = end + 1
        else:
            out.append(lines[index])
            index += 1
    return ("\n".join(out) if found else source), found


def strip_notebook_install_lines(notebook) -> list[InstallLine]:
    """Replace the package-install lines of every code cell of ``notebook`` (an nbformat
    v4 ``NotebookNode``, changed in place) by ``pass``; returns what was replaced."""
    found: list[InstallLine] = []
    for number, cell, source in code_cells(notebook):
        new, lines = strip_install_lines(source, number)
        if lines:
            cell["source"] = new
            found += lines
    return found
