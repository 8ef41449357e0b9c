"""The worked examples print what their code really produces, pinned."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

EXAMPLE_2 = "y = 3.5597527027130127\ndy/dx = 3.2585840225219727\n"
EXAMPLES = {
    'y = x ** 2': "y = 9.0\ndy/dx = 6.0\n",
    'torch.sin(x) + torch.exp(x)': EXAMPLE_2,
    'z = 2 * x + 3 * y ** 2': "z = 14.0\ndz/dx = 2.0\ndz/dy = 12.0\n",
}


def _example_cells(nb):
    found = {}
    for cell in nb.cells:
        for marker in EXAMPLES:
            if cell.cell_type == "code" and marker in cell.source:
                found[marker] = cell
    assert set(found) == set(EXAMPLES)
    return found


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def test_master_notebook_shows_the_real_outputs(master):
    for marker, cell in _example_cells(master).items():
        assert _stdout(cell) == EXAMPLES[marker]


def test_examples_in_the_student_notebook_print_the_pinned_values(built):
    student = nbformat.read(built.student_notebook, as_version=4)
    cells = [nbformat.v4.new_code_cell("import torch")] + list(_example_cells(student).values())
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in cells])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    printed = {marker: _stdout(cell) for marker, cell in zip(EXAMPLES, nb.cells[1:])}
    assert printed == EXAMPLES
    assert printed['torch.sin(x) + torch.exp(x)'] == EXAMPLE_2

