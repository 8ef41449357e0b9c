"""Build the real-tool notebook corpus from the solution, at test time.

Every case starts from the solution typed into the built student notebook
(``assignments/<name>/samples/solution.py``, exactly as a student who answered everything
right hands it in) and is turned into what a tool writes:

* with the real tool where it is pip-installable (the ``test`` extra): jupytext's
  ``py:percent`` round trip and nbstripout, run as their command-line programs;
* with nbformat itself (an nbformat-3 file, as nbformat's own converter writes it);
* shaped as the hosted tools save it (Colab, Kaggle, VS Code, JupyterLab 4, JupyterLite),
  which cannot be installed: only the fields those tools write are set, each named in
  ``manifest.yaml``.

``MAKERS[name](solution, folder) -> Path`` writes one case into ``folder`` and returns the
notebook's path. Nothing downloads; the large-image case is generated here, never committed.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

__all__ = ["MAKERS", "answer_cell_index"]

_BIN = Path(sys.executable).parent


def _tool(name: str, *args: str, cwd: Path) -> None:
    """Run an installed console script (jupytext, nbstripout) of this environment."""
    exe = _BIN / name
    if not exe.exists():
        exe = shutil.which(name)
        if exe is None:
            raise RuntimeError(f"{name} is not installed: pip install -e '.[test]'")
    subprocess.run([str(exe), *args], cwd=cwd, check=True, capture_output=True, timeout=120,
                   env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _write(nb, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


def _write_json(data: dict, path: Path, *, text_transform=None, bom: bool = False) -> Path:
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if text_transform:
        text = text_transform(text)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _as_dict(nb) -> dict:
    return json.loads(nbformat.writes(nb))


def answer_cell_index(nb, name: str) -> int:
    """Index (0-based) of the answer cell that defines ``name`` (``def f2`` / ``f2 =``)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "otter_answer_cell" in cell.metadata.get("tags", []) and (
                f"def {name}(" in cell.source or f"{name} =" in cell.source):
            return index
    raise LookupError(f"no answer cell defines {name}")


def _fake_outputs(nb, *, widget: bool = True, png_bytes: int = 64) -> None:
    """Outputs as a run in a notebook UI leaves them: a stream, an image, a widget view."""
    rng = random.Random(12)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(png_bytes))).decode()
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
        if "otter_answer_cell" in cell.metadata.get("tags", []):
            data = {"image/png": png, "text/plain": "<Figure size 640x480 with 1 Axes>"}
            if widget:
                data["application/vnd.jupyter.widget-view+json"] = {"model_id": "3f1c0a7e9b2d4c5f", "version_major": 2, "version_minor": 0}
            cell.outputs.append(nbformat.v4.new_output("display_data", data=data, metadata={}))


# -- cases --------------------------------------------------------------------------------

def clean(solution: Path, folder: Path) -> Path:
    return _write(nbformat.read(solution, as_version=4), folder / "clean.ipynb")


def jupytext_percent(solution: Path, folder: Path) -> Path:
    work = folder / "jupytext"
    work.mkdir()
    shutil.copy(solution, work / "jupytext-percent.ipynb")
    _tool("jupytext", "--to", "py:percent", "jupytext-percent.ipynb", cwd=work)
    (work / "jupytext-percent.ipynb").unlink()  # the student edits the .py, then converts back
    _tool("jupytext", "--to", "ipynb", "jupytext-percent.py", cwd=work)
    return work / "jupytext-percent.ipynb"


def nbstripout(solution: Path, folder: Path) -> Path:
    nb = nbformat.read(solution, as_version=4)
    _fake_outputs(nb, widget=True)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2, "version_minor": 0}}
    path = _write(nb, folder / "nbstripout.ipynb")
    _tool("nbstripout", path.name, cwd=folder)
    return path


def colab(solution: Path, folder: Path) -> Path:
    nb = nbformat.read(solution, as_version=4)
    _fake_outputs(nb, widget=True)
    install = nbformat.v4.new_code_cell("%pip install -q otter-grader\n!pip install -q torch==2.13.0")
    nb.cells.insert(0, install)
    data = _as_dict(nb)
    data["nbformat_minor"] = 0  # Colab saves nbformat 4.0: no cell ids, its own ids in cell metadata
    data["metadata"] = {
        "colab": {"provenance": [], "name": "autograd-basics.ipynb", "toc_visible": True},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "gpuClass": "standard",
        "widgets": {"application/vnd.jupyter.widget-state+json": {"3f1c0a7e9b2d4c5f": {"model_name": "LayoutModel", "state": {}}}},
        "otter": data["metadata"]["otter"],
    }
    for index, cell in enumerate(data["cells"]):
        cell.pop("id", None)
        cell["metadata"] = {**cell["metadata"], "id": f"cOlAb{index:04d}xYz"}
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["outputId"] = f"0a1b2c3d-{index:04d}"
    return _write_json(data, folder / "colab.ipynb")


def colab_shell_escape(solution: Path, folder: Path) -> Path:
    nb = nbformat.read(solution, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("%pip install -q otter-grader\n!ls /content/drive"))
    return _write(nb, folder / "colab-shell-escape.ipynb")


def vscode(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    data["metadata"]["kernelspec"] = {"display_name": ".venv (Python 3.11.7)", "language": "python", "name": "python3"}
    data["metadata"]["language_info"] = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                         "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                         "pygments_lexer": "ipython3", "version": "3.11.7"}
    data["metadata"]["vscode"] = {"interpreter": {"hash": "a" * 64}}
    return _write_json(data, folder / "vscode.ipynb")


def jupyterlab4(solution: Path, folder: Path) -> Path:
    nb = nbformat.read(solution, as_version=4)
    _fake_outputs(nb, widget=False)
    data = _as_dict(nb)
    data["metadata"]["kernelspec"] = {"display_name": "Python [conda env:torch-course]", "language": "python",
                                      "name": "conda-env-torch-course-py"}
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            cell["metadata"]["execution"] = {"iopub.execute_input": "2026-11-28T10:00:00.000001Z",
                                             "shell.execute_reply": "2026-11-28T10:00:00.100000Z"}
    return _write_json(data, folder / "jupyterlab4.ipynb")


def kaggle(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    data["nbformat_minor"] = 4  # with cell ids
    data["metadata"]["kaggle"] = {"accelerator": "none", "dataSources": [], "dockerImageVersionId": 30786,
                                  "isGpuEnabled": False, "isInternetEnabled": True, "language": "python", "sourceType": "notebook"}
    data["metadata"]["papermill"] = {"default_parameters": {}, "duration": 12.3, "environment_variables": {}, "exception": None,
                                     "input_path": "__notebook__.ipynb", "output_path": "__notebook__.ipynb", "parameters": {},
                                     "start_time": "2026-11-28T10:00:00.000000", "version": "2.6.0"}
    for cell in data["cells"]:
        cell["metadata"]["trusted"] = True
        cell["metadata"]["papermill"] = {"duration": 0.01, "end_time": "2026-11-28T10:00:00.02", "exception": False,
                                         "start_time": "2026-11-28T10:00:00.01", "status": "completed"}
    return _write_json(data, folder / "kaggle.ipynb")


def jupyterlite(solution: Path, folder: Path) -> Path:
    nb = nbformat.read(solution, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("%pip install -q otter-grader"))  # piplite's %pip in the Pyodide kernel
    data = _as_dict(nb)
    data["metadata"]["kernelspec"] = {"display_name": "Python (Pyodide)", "language": "python", "name": "python"}
    data["metadata"]["language_info"] = {"codemirror_mode": {"name": "python", "version": 3}, "file_extension": ".py",
                                         "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                         "pygments_lexer": "ipython3", "version": "3.8"}
    return _write_json(data, folder / "jupyterlite.ipynb")


def bom_crlf(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    for cell in data["cells"]:  # Windows line ends inside the sources too
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = source.replace("\n", "\r\n")
    return _write_json(data, folder / "bom-crlf.ipynb", text_transform=lambda t: t.replace("\n", "\r\n"), bom=True)


def duplicate_ids(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    for cell in data["cells"][1:6]:
        cell["id"] = data["cells"][0]["id"]  # cells copied and pasted between notebooks
    data["cells"][6].pop("id")
    return _write_json(data, folder / "duplicate-ids.ipynb")


def ids_on_minor_4(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    data["nbformat_minor"] = 4  # ids kept: what jupytext and nbdev write
    return _write_json(data, folder / "ids-on-minor-4.ipynb")


def nbformat3(solution: Path, folder: Path) -> Path:
    nb = nbformat.convert(nbformat.read(solution, as_version=4), 3)
    path = folder / "nbformat3.ipynb"
    path.write_text(nbformat.writes(nb, version=3), encoding="utf-8")
    return path


def schema_slips(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    for cell in data["cells"]:
        if cell["cell_type"] == "markdown":
            cell["outputs"] = []  # old VS Code wrote outputs on markdown cells
            cell["execution_count"] = None
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    del code[1]["outputs"]
    del code[2]["execution_count"]
    return _write_json(data, folder / "schema-slips.ipynb")


def large_image(solution: Path, folder: Path) -> Path:
    nb = nbformat.read(solution, as_version=4)
    _fake_outputs(nb, widget=False)
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(24 * 1024 * 1024)).decode()  # 32 MB of base64
    index = answer_cell_index(nb, "linear_grads")
    nb.cells[index].outputs.append(nbformat.v4.new_output("display_data", data={"image/png": big, "text/plain": "<Figure>"}))
    return _write(nb, folder / "large-image.ipynb")


def truncated_download(solution: Path, folder: Path) -> Path:
    raw = nbformat.writes(nbformat.read(solution, as_version=4)).encode("utf-8")
    path = folder / "truncated-download.ipynb"
    path.write_bytes(raw[:len(raw) // 2])  # an upload cut off half way
    return path


def no_cell_types(solution: Path, folder: Path) -> Path:
    data = _as_dict(nbformat.read(solution, as_version=4))
    for cell in data["cells"]:
        del cell["cell_type"]  # JSON with cells, but not a notebook Jupyter opens
    return _write_json(data, folder / "no-cell-types.ipynb")


def _turned(kind: str):
    def make(solution: Path, folder: Path) -> Path:
        nb = nbformat.read(solution, as_version=4)
        index = answer_cell_index(nb, "f2")
        cell = nb.cells[index]
        new = (nbformat.v4.new_raw_cell if kind == "raw" else nbformat.v4.new_markdown_cell)(cell.source)
        new.id = cell.id
        new.metadata = copy.deepcopy(cell.metadata)
        nb.cells[index] = new
        return _write(nb, folder / f"{kind}-answer-cell.ipynb")
    make.__name__ = f"{kind}_answer_cell"
    return make


MAKERS = {
    "clean": clean,
    "jupytext-percent": jupytext_percent,
    "nbstripout": nbstripout,
    "colab": colab,
    "colab-shell-escape": colab_shell_escape,
    "vscode": vscode,
    "jupyterlab4": jupyterlab4,
    "kaggle": kaggle,
    "jupyterlite": jupyterlite,
    "bom-crlf": bom_crlf,
    "duplicate-ids": duplicate_ids,
    "ids-on-minor-4": ids_on_minor_4,
    "nbformat3": nbformat3,
    "schema-slips": schema_slips,
    "large-image": large_image,
    "raw-answer-cell": _turned("raw"),
    "markdown-answer-cell": _turned("markdown"),
    "truncated-download": truncated_download,
    "no-cell-types": no_cell_types,
}
