"""The ``# ASSIGNMENT CONFIG`` of a master notebook: otter's keys with otter's meaning, plus
gradkit's own ``gradkit:`` key.

Otter Assign (7.x, ``otter.assign.assignment.Assignment``) reads the first raw cell that
starts with ``# ASSIGNMENT CONFIG`` as YAML; a ``config_file:`` key names a YAML file whose
settings the cell's own settings override (recursively, ``fica.Config.update``). Otter
rejects unknown keys, so gradkit's settings live under one extra key that is taken out
before Otter Assign sees the cell::

    gradkit:
      hidden_results: after_due_date   # or after_published, hidden
      flagged: zero                    # or score (Gradescope: does a flagged submission's score count?)

``hidden_results`` says when Gradescope shows students the per-question results that hold
hidden test output (:mod:`autograder.shipped.gradkit_visibility`). Otter's own
``generate: show_hidden`` keeps its meaning (true: ``after_published``, false: ``hidden``;
otter's default is false). Either may be given, or both when they agree
(``after_due_date`` refines ``show_hidden: true``); a contradiction is an error.
``flagged`` (default ``zero``) says whether, on Gradescope, a submission the screen or the
run flagged counts 0 until an instructor reviews it (``zero``, as ``gradkit grade`` counts
it) or keeps the points its tests gave (``score``); its findings go to a hidden results
entry either way (:mod:`autograder.gradescope_runner`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.gradescope_runner import FLAGGED_CHOICES
from autograder.shipped import gradkit_visibility

__all__ = ["GRADKIT_CONFIG_KEY", "AssignConfigError", "PreparedConfig", "check_question_blocks", "prepare_assignment_config"]

GRADKIT_CONFIG_KEY = "gradkit"
"""Key of gradkit's own settings in the ``# ASSIGNMENT CONFIG`` cell."""

GRADKIT_SETTINGS = {"hidden_results", "flagged"}
"""The settings known under :data:`GRADKIT_CONFIG_KEY`."""


class AssignConfigError(ValueError):
    """The ASSIGNMENT CONFIG is unusable; the message names the file and what is wrong."""


@dataclass(frozen=True)
class PreparedConfig:
    """What :func:`prepare_assignment_config` decided.

    Attributes:
        hidden_results: one of ``autograder.shipped.gradkit_visibility.HIDDEN_RESULTS_CHOICES``.
        config: the plain Otter configuration written into the staged notebook (the
            ``config_file`` merged in, no ``gradkit`` key, ``generate`` a mapping with
            ``show_hidden`` set).
        flagged: ``"zero"`` or ``"score"`` (``autograder.gradescope_runner.FLAGGED_CHOICES``).
    """

    hidden_results: str
    config: dict
    flagged: str = "zero"


def _merge(base: dict, override: dict) -> dict:
    """``base`` updated recursively with ``override`` (mappings merge, other values replace),
    as ``fica.Config.update`` does for Otter's nested settings."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _config_cell(nb: nbformat.NotebookNode) -> tuple[int | None, nbformat.NotebookNode | None]:
    """(index, cell) of the first ``# ASSIGNMENT CONFIG`` cell, as Otter finds it;
    ``(None, None)`` when there is none."""
    from otter.assign.blocks import is_assignment_config_cell

    return next(((i, c) for i, c in enumerate(nb.cells) if c.source.strip() and is_assignment_config_cell(c)), (None, None))


def prepare_assignment_config(staged: Path, master: Path) -> PreparedConfig:
    """Rewrite the staged master notebook's ASSIGNMENT CONFIG into plain Otter configuration.

    The ``config_file`` (relative to the master notebook's folder, as Otter reads it) is
    merged in and the key dropped, the ``gradkit`` key is taken out and
    ``generate: show_hidden`` is set from the resulting ``hidden_results`` (``after_due_date``
    is finished by ``instructor.build``'s visibility step). ``generate: true`` (Otter's short
    form) becomes an empty mapping, as Otter itself does.

    Args:
        staged: the staged copy of the master notebook (rewritten in place).
        master: the original master notebook, for messages and ``config_file``.

    A notebook without a config cell is left as it is (Otter's defaults; ``hidden``).

    Returns:
        PreparedConfig: the ``hidden_results`` decided and the Otter configuration written.

    Raises:
        AssignConfigError: YAML errors (cell or config file), a config that
            is not a mapping, a missing config file, ``generate: false`` (no autograder
            zip), an unknown ``gradkit`` setting or value, or ``hidden_results``
            contradicting ``show_hidden``.
    """
    import yaml
    from otter.assign.blocks import get_cell_config

    nb = nbformat.read(staged, as_version=4)
    index, cell = _config_cell(nb)
    if cell is None:  # Otter's defaults throughout: show_hidden false
        return PreparedConfig(hidden_results=gradkit_visibility.DEFAULT_HIDDEN_RESULTS, config={})
    where = f"{master}: cell {index + 1} (ASSIGNMENT CONFIG)"
    try:
        config = get_cell_config(cell)
    except yaml.YAMLError as error:
        raise AssignConfigError(f"{where}: not valid YAML: {_one_line(error)}") from None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise AssignConfigError(f"{where}: must be a YAML mapping of Otter settings")
    config_file = config.pop("config_file", None)
    if config_file:
        path = Path(master).parent / str(config_file)
        try:
            from_file = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise AssignConfigError(f"{where}: config_file {config_file}: cannot read it ({error.strerror})") from None
        except yaml.YAMLError as error:
            raise AssignConfigError(f"{path}: not valid YAML: {_one_line(error)}") from None
        if not isinstance(from_file, dict):
            raise AssignConfigError(f"{path}: the config file must be a YAML mapping of Otter settings")
        config = _merge(from_file, config)  # the notebook's own settings win, as in Otter

    settings = config.pop(GRADKIT_CONFIG_KEY, None) or {}
    gk = f"{where} `{GRADKIT_CONFIG_KEY}:`"
    if not isinstance(settings, dict):
        raise AssignConfigError(f"{gk} must be a mapping, e.g. `hidden_results: after_published`")
    unknown = sorted(set(settings) - GRADKIT_SETTINGS)
    if unknown:
        raise AssignConfigError(f"{gk} unknown setting(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(GRADKIT_SETTINGS))}")
    choices = gradkit_visibility.HIDDEN_RESULTS_CHOICES
    hidden_results = settings.get("hidden_results")
    if hidden_results is not None and hidden_results not in choices:
        raise AssignConfigError(f"{gk} hidden_results is {hidden_results!r}; use one of {', '.join(choices)}")
    flagged = settings.get("flagged", "zero")
    if flagged not in FLAGGED_CHOICES:
        raise AssignConfigError(f"{gk} flagged is {flagged!r}; use one of {', '.join(FLAGGED_CHOICES)}")

    generate = config.get("generate", True)
    if generate is False:
        raise AssignConfigError(f"{where}: `generate: false` makes Otter Assign write no autograder zip, "
                                "which gradkit grades with; remove it")
    if generate is True or generate is None:
        generate = {}
    if not isinstance(generate, dict):
        raise AssignConfigError(f"{where}: `generate:` must be true or a mapping of Otter Generate settings")
    show_hidden = generate.get("show_hidden")
    if show_hidden is not None and not isinstance(show_hidden, bool):
        raise AssignConfigError(f"{where}: `generate: show_hidden:` must be true or false")
    if hidden_results is None:
        hidden_results = "after_published" if show_hidden else gradkit_visibility.DEFAULT_HIDDEN_RESULTS
    elif show_hidden is not None and show_hidden != (hidden_results != "hidden"):
        raise AssignConfigError(
            f"{where}: `generate: show_hidden: {str(show_hidden).lower()}` contradicts "
            f"`{GRADKIT_CONFIG_KEY}: hidden_results: {hidden_results}` (show_hidden true means after_published "
            "or after_due_date, false means hidden); keep one of them"
        )
    generate["show_hidden"] = hidden_results != "hidden"
    config["generate"] = generate
    cell.cell_type = "raw"
    cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    nbformat.write(nb, staged)
    return PreparedConfig(hidden_results=hidden_results, config=config, flagged=flagged)


def check_question_blocks(staged: Path, master: Path) -> None:
    """Refuse two master-notebook mistakes Otter Assign lets through silently.

    * Two questions with the same ``name``: Otter merges their tests into one test file
      under the later question's points, so neither is graded as written.
    * A ``BEGIN QUESTION`` / ``SOLUTION`` / ``TESTS`` / ``PROMPT`` block still open at the
      end of the notebook: Otter drops what it holds (a question without its ``END
      QUESTION`` gets no tests).

    Blocks and configs are recognised with Otter's own functions
    (``otter.assign.blocks``); other structural errors are left to Otter Assign.

    Raises:
        AssignConfigError: one line naming the cell(s), counted from 1 as Jupyter shows them.
    """
    import yaml
    from otter.assign.blocks import BlockType, get_cell_config, is_block_boundary_cell
    from otter.assign.utils import is_ignore_cell

    nb = nbformat.read(staged, as_version=4)
    seen: dict[str, int] = {}
    open_blocks: list[tuple[BlockType, int]] = []
    for index, cell in enumerate(nb.cells):
        if is_ignore_cell(cell):
            continue
        for block in BlockType:
            if is_block_boundary_cell(cell, block, end=True):
                if open_blocks and open_blocks[-1][0] is block:
                    open_blocks.pop()
                break
            if is_block_boundary_cell(cell, block):
                open_blocks.append((block, index))
                if block is BlockType.QUESTION:
                    try:
                        config = get_cell_config(cell)
                    except yaml.YAMLError:
                        config = None  # Otter Assign reports it
                    name = config.get("name") if isinstance(config, dict) else None
                    if name is not None:
                        if str(name) in seen:
                            raise AssignConfigError(
                                f"{master}: cell {index + 1}: question name {name!r} is used again (first in cell "
                                f"{seen[str(name)] + 1}); Otter would merge their tests into one question, give each its own name")
                        seen[str(name)] = index
                break
    if open_blocks:
        block, index = open_blocks[0]
        raise AssignConfigError(f"{master}: cell {index + 1}: BEGIN {block.value.upper()} has no END {block.value.upper()} "
                                "after it; Otter Assign would drop what the block holds")
