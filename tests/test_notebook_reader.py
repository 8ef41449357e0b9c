"""Reading notebooks as Jupyter does, install lines, restored metadata, answers in raw cells
(issue 12): the pieces, without a kernel. The corpus graded end to end is tests/test_realtools.py."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.install_lines import is_install_line, strip_install_lines, strip_notebook_install_lines
from autograder.non_code_answers import explain_non_code_answers, non_code_definition
from autograder.notebook_reader import NotebookReadError, parse_notebook
from autograder.outcome import GradingOutcome
from autograder.screen import screen_notebook
from autograder.shipped.gradkit_submission import fix_notebook_file, main as fix_main, restore_assignment_name


def _nb(cells, minor=5, **metadata) -> dict:
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": metadata, "cells": cells}


def _code(source, **extra) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None, **extra}


@pytest.mark.parametrize("line", [
    "%pip install -q otter-grader", "%pip -q install otter-grader", "!pip install torch==2.13.0", "!pip3 install --upgrade numpy",
    "!python -m pip install otter-grader", "!python3 -m pip -q install x", "%conda install numpy", "!conda install -y numpy",
    "!{sys.executable} -m pip install numpy", '!pip install "torch>=2,<3"', "pip install numpy", "  %pip install a b c",
])
def test_package_installs_are_recognised(line):
    assert is_install_line(line)


@pytest.mark.parametrize("line", [
    "!ls", "!pip install x && rm -rf ~", "!pip install x; curl evil", "!pip install $PKG", "!pip install {evil()}",
    "!pip install torch>=2", "%pip uninstall x", "%pip list", "!wget http://x/y", "%run script.py", "pipe = 3",
    "pip_install = 1", "!pip install x | tee log",
])
def test_other_lines_are_not_installs(line):
    assert not is_install_line(line)


def test_install_lines_become_pass_and_keep_line_numbers():
    source = "%pip install -q otter-grader\nif True:\n    !pip install a \\\n      b\nx = 1\n!ls"
    new, found = strip_install_lines(source, cell=3)
    assert new.split("\n") == ["pass", "if True:", "    pass", "", "x = 1", "!ls"]
    assert [(f.cell, f.line) for f in found] == [(3, 1), (3, 3)]
    compile(new.replace("!ls", "ls"), "<cell>", "exec")


def test_screen_sees_no_install_line_but_keeps_other_shell_escapes():
    nb = nbformat.from_dict(_nb([_code("%pip install -q otter-grader\n!pip install torch"), _code("import torch\n!ls /content")]))
    assert len(strip_notebook_install_lines(nb)) == 2
    findings = screen_notebook(nb)
    assert [(f.cell, f.line, f.rule) for f in findings] == [(2, 2, "process")]


def test_a_cell_magic_body_that_is_not_python_keeps_its_install_lines():
    """``%%bash``/``%%sh``/``%%writefile`` bodies are not Python: nothing in them is replaced
    (a file written keeps its text, the screen flags what the student wrote); ``%%capture``
    and ``%%time`` bodies are Python, and their install lines are not run."""
    for source in ("%%bash\npip install x", "\n%%sh\n!pip install x", "%%writefile setup.sh\npip install x\n", "%%script bash\npip install x"):
        assert strip_install_lines(source) == (source, []), source
    for source in ("%%capture\n!pip install otter-grader", "%%time\n%pip install -q x", "%%capture out\npip install x"):
        new, found = strip_install_lines(source)
        assert new.split("\n")[1] == "pass" and len(found) == 1, source
    nb = nbformat.from_dict(_nb([_code("%%bash\npip install x")]))
    assert strip_notebook_install_lines(nb) == []
    assert [f.code for f in screen_notebook(nb)] == ["get_ipython().run_cell_magic('bash', '', 'pip install x\\n')"]


@pytest.mark.parametrize("output", [
    {"output_type": "stream", "text": "hi\n"},                                          # no name
    {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}},     # no execution_count
    {"output_type": "display_data", "data": {"text/plain": "1"}},                       # no metadata
    {"output_type": "error", "ename": "E", "evalue": "v"},                              # no traceback
    {"output_type": "pyout", "text": "1"}, {"output_type": "weird"}, "text", None,      # not an output nbformat 4 knows
])
def test_a_saved_output_outside_the_schema_is_dropped_not_a_zero(output):
    """Jupyter opens such a file with a warning; outputs are not graded (the code runs again)."""
    good = {"output_type": "stream", "name": "stdout", "text": "ok\n"}
    for minor in (4, 5):
        data = _nb([_code("x = 1", outputs=[output, good], execution_count=1)], minor=minor)
        read = parse_notebook(json.dumps(data).encode(), "a.ipynb")
        assert read.notebook.cells[0].outputs == [good] and read.notebook.cells[0].source == "x = 1"
        assert any("1 saved output outside the schema" in note for note in read.notes)
        nbformat.validate(read.notebook)


def test_ids_on_minor_4_are_read_as_4_5_and_noted():
    read = parse_notebook(json.dumps(_nb([_code("x = 1", id="abc")], minor=4)).encode(), "a.ipynb")
    assert read.notebook.nbformat_minor == 5 and read.notebook.cells[0].id == "abc"
    assert read.notes == ["cells carry ids under nbformat 4.4 (read as 4.5)"]
    nbformat.validate(read.notebook)


def test_missing_and_duplicate_ids_are_repaired_the_same_way_every_time():
    data = _nb([_code("a = 1", id="x"), _code("b = 2", id="x"), _code("c = 3"), _code("d = 4", id="bad id!")])
    first = parse_notebook(json.dumps(data).encode(), "a.ipynb")
    second = parse_notebook(json.dumps(data).encode(), "a.ipynb")
    assert [c.id for c in first.notebook.cells] == [c.id for c in second.notebook.cells]
    assert len({c.id for c in first.notebook.cells}) == 4
    assert first.notes == ["1 cell without an id", "1 duplicate cell id", "1 malformed cell id"]


def test_bom_crlf_clean_and_v3_files():
    clean = _nb([_code("x = 1", id="a")])
    assert parse_notebook(json.dumps(clean).encode(), "a.ipynb").notes == []
    crlf = b"\xef\xbb\xbf" + json.dumps(clean, indent=1).replace("\n", "\r\n").encode()
    assert parse_notebook(crlf, "a.ipynb").notes == []
    v3 = nbformat.writes(nbformat.convert(nbformat.from_dict(clean), 3), version=3).encode()
    read = parse_notebook(v3, "a.ipynb")
    assert read.notes == ["nbformat 3 (upgraded to 4)"] and read.notebook.cells[0].source == "x = 1"
    assert "orig_nbformat" not in read.notebook.metadata


def test_schema_slips_are_repaired_and_counted():
    data = _nb([{"cell_type": "markdown", "metadata": {}, "source": "hi", "outputs": []},
                {"cell_type": "code", "metadata": {}, "source": ["x = ", "1"]}])
    read = parse_notebook(json.dumps(data).encode(), "a.ipynb")
    assert read.notebook.cells[1].source == "x = 1" and read.notebook.cells[1].outputs == []
    assert "2 cells without an id" in read.notes[0] and any("outside the schema" in n for n in read.notes)


@pytest.mark.parametrize("raw, message", [
    (b"\xff\xfe", "not UTF-8"),
    (b'{"cells": [', "not valid notebook JSON"),
    (b"<html></html>", "HTML page"),
    (b'{"a": 1}', "no cells"),
    (json.dumps(_nb([{"metadata": {}, "source": ""}])).encode(), "cell 1 has cell_type None"),
    (json.dumps({**_nb([]), "nbformat": 9}).encode(), "nbformat version 9"),
])
def test_what_is_not_a_notebook_is_refused_naming_the_file(raw, message):
    with pytest.raises(NotebookReadError, match=message) as error:
        parse_notebook(raw, "sub.ipynb")
    assert str(error.value).startswith("sub.ipynb: ")


def test_assignment_name_restored_only_when_missing(tmp_path):
    nb = nbformat.from_dict(_nb([_code("x = 1", id="a")]))
    assert restore_assignment_name(nb, "hw1") == "no Otter metadata (assignment name taken from the autograder)"
    assert json.loads(nbformat.writes(nb))["metadata"]["otter"] == {"assignment_name": "hw1"}
    other = nbformat.from_dict(_nb([], otter={"assignment_name": "hw2"}))
    assert restore_assignment_name(other, "hw1") is None and other.metadata.otter.assignment_name == "hw2"
    assert restore_assignment_name(nbformat.from_dict(_nb([])), None) is None

    path = tmp_path / "sub.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_nb([_code("x = 1", id="a")], otter={"tests": {}})).encode())
    config = tmp_path / "otter_config.json"
    config.write_text(json.dumps({"assignment_name": "hw1"}))
    assert fix_main([str(tmp_path), str(config)]) == 0
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert json.loads(data)["metadata"]["otter"] == {"tests": {}, "assignment_name": "hw1"}
    assert fix_notebook_file(path, "hw1") is False  # nothing left to fix: not rewritten


def test_answers_in_raw_or_markdown_cells_are_explained():
    cells = [("markdown", "# Exercise 2"), ("raw", "def f2(x):\n    return x\nw2 = f2(1)"), ("code", "w3 = 1")]
    assert non_code_definition(cells, "f2") == (2, "raw")
    assert non_code_definition(cells, "w3") is None
    assert non_code_definition(cells + [("code", "def f2(x): ...")], "f2") is None  # a code cell defines it too
    assert non_code_definition([("markdown", "For example:\n```python\nw5 = f(1)\n```\n"), ("markdown", "w5 = 2")], "w5") == (2, "markdown")
    outcome = GradingOutcome("a.ipynb", {"q2": 0.0}, "Completed", {"tests": [
        {"name": "q2", "output": "NameError: name 'f2' is not defined"},
        {"name": "q1", "output": "passed"},
        {"name": "Public Tests", "output": "CheckFailed: `w2` is not defined (or is None)"}]})
    added = explain_non_code_answers(cells, outcome)
    assert added == ["cell 2 is a raw cell, so it did not run; it holds `f2`, `w2`: make it a code cell to have it graded"]
    assert outcome.status == "Completed; cell 2 (holding `f2`, `w2`) is a raw cell and did not run"
    assert added[0] in outcome.results["tests"][0]["output"] and added[0] in outcome.results["tests"][2]["output"]
    assert outcome.results["tests"][1]["output"] == "passed"
