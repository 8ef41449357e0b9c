"""Write the Otter Assign compatibility corpus: one tiny master notebook per feature.

Run ``python tests/otter_compat/make_corpus.py`` to rewrite the notebooks from the cell
lists below (the notebooks are committed; this script is how they were written). Cells are
given as ``(kind, source)`` with kind ``md``, ``raw`` or ``code``; ``("code", source,
output)`` gives a code cell a text output (OK-format tests take their expected value from
the master notebook's outputs, as in Otter's documentation).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def _nb(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, spec in enumerate(cells):
        kind, source = spec[0], spec[1]
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source)
        elif kind == "raw":
            cell = nbformat.v4.new_raw_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
            if len(spec) > 2:
                cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": spec[2]}, execution_count=1)]
                cell.execution_count = 1
        cell.id = f"c{index:03d}"
        nb.cells.append(cell)
    return nb


def _question(name: str, config: str = "") -> tuple[str, str]:
    return ("raw", f"# BEGIN QUESTION\nname: {name}\n{config}".rstrip() + "\n")


END_Q = ("raw", "# END QUESTION")
BEGIN_S, END_S = ("raw", "# BEGIN SOLUTION"), ("raw", "# END SOLUTION")
BEGIN_T, END_T = ("raw", "# BEGIN TESTS"), ("raw", "# END TESTS")
BEGIN_P, END_P = ("raw", "# BEGIN PROMPT"), ("raw", "# END PROMPT")


def _exception_test(name: str, body: str, config: str = "") -> tuple[str, str]:
    head = f'""" # BEGIN TEST CONFIG\n{config.strip()}\n""" # END TEST CONFIG\n' if config else ""
    return ("code", f"{head}def {name}(env):\n" + "".join(f"    {line}\n" for line in body.strip().splitlines()))


def _solved(question: tuple[str, str], prompt: str, solution: str, *tests: tuple) -> list[tuple]:
    """The cells of one question: ``question`` (from :func:`_question`), its markdown
    ``prompt``, one solution code cell between the solution markers and the ``tests`` cells
    between the test markers, then the end of the question."""
    return [question, ("md", prompt), BEGIN_S, ("code", solution), END_S, BEGIN_T, *tests, END_T, END_Q]


CORPUS = {
    # exception-format tests; points as a scalar, a list per test case, per test case in
    # the test's config, `each`, and none (otter: 1 point split across the cases)
    "points-forms": [
        ("raw", "# ASSIGNMENT CONFIG\ninit_cell: true\nexport_cell:\n  pdf: false\ntests:\n  ok_format: false\n"),
        ("md", "# Points forms"),
        *_solved(
            _question("q1", "points: 2"),
            "**Question 1.** Set `a` to 3.",
            "a = 3  # SOLUTION",
            _exception_test("test_a_is_int", "assert isinstance(env['a'], int)"),
            _exception_test("test_a_value", "assert env['a'] == 3", "hidden: true"),
        ),
        *_solved(
            _question("q2", "points: [0.5, 1.5]"),
            "**Question 2.** Write `double(x)`.",
            "def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION",
            _exception_test("test_double_public", "assert env['double'](1) == 2"),
            _exception_test("test_double_hidden", "assert env['double'](-4) == -8", "hidden: true"),
        ),
        *_solved(
            _question("q3"),
            "**Question 3.** Set `b` to a string.",
            "b = 'text'  # SOLUTION",
            _exception_test("test_b_str", "assert isinstance(env['b'], str)"),
            _exception_test("test_b_len", "assert len(env['b']) == 4", "hidden: true"),
        ),
        *_solved(
            _question("q4"),
            "**Question 4.** Set `c` to 10.",
            "c = 10  # SOLUTION",
            _exception_test("test_c_public", "assert env['c'] > 0", "points: 1\nsuccess_message: c is positive\nfailure_message: c must be positive"),
            _exception_test("test_c_hidden", "assert env['c'] == 10", "points: 3\nhidden: true"),
        ),
        *_solved(
            _question("q5", "points:\n  each: 2"),
            "**Question 5.** Set `d` to 1.",
            "d = 1  # SOLUTION",
            _exception_test("test_d_public", "assert env['d'] >= 1"),
            _exception_test("test_d_hidden", "assert env['d'] == 1", "hidden: true"),
        ),
    ],
    # OK-format tests (otter 7's default format), `generate: true` (short form), hidden
    # cases by a `# HIDDEN` first line, success/failure messages, all_or_nothing
    "ok-format": [
        ("raw", "# ASSIGNMENT CONFIG\ngenerate: true\nexport_cell:\n  pdf: false\n"),
        ("md", "# OK-format tests"),
        *_solved(
            _question("q1", "points: 2"),
            "**Question 1.** Set `x` to 5.",
            "x = 5  # SOLUTION",
            ("code", "isinstance(x, int)", "True"),
            ("code", "# HIDDEN\nx", "5"),
        ),
        *_solved(
            _question("q2", "all_or_nothing: true"),
            "**Question 2.** Write `square(n)`.",
            "def square(n):\n    return n * n  # SOLUTION",
            ("code", "square(3)", "9"),
            ("code", '""" # BEGIN TEST CONFIG\nhidden: true\nfailure_message: check negative numbers\n""" # END TEST CONFIG\nsquare(-2) == 4', "True"),
        ),
        *_solved(
            _question("q3", "points: [1, 2]"),
            "**Question 3.** Set `name` to 'otter'.",
            "name = 'otter'  # SOLUTION",
            ("code", "assert isinstance(name, str)"),
            ("code", "# HIDDEN\nname.upper()", "'OTTER'"),
        ),
    ],
    # config keys from a `config_file`, Otter's `show_hidden`, question points shown,
    # check-all cell, an export question
    "config-file": [
        ("raw", "# ASSIGNMENT CONFIG\nconfig_file: assign_config.yml\nshow_question_points: true\n"),
        ("md", "# Configuration from a file"),
        *_solved(
            _question("q1", "points: 1\nexport: true"),
            "**Question 1.** Set `total` to the sum of 1..4.",
            "total = sum(range(1, 5))  # SOLUTION",
            _exception_test("test_total_public", "assert isinstance(env['total'], int)"),
            _exception_test("test_total_hidden", "assert env['total'] == 10", "hidden: true"),
        ),
    ],
    # prompts, IGNORE lines and blocks, solution markers in functions and
    # blocks (`# SOLUTION`, `# BEGIN SOLUTION NO PROMPT`, `# SOLUTION NO PROMPT`)
    "markers": [
        ("raw", "# ASSIGNMENT CONFIG\nexport_cell: false\ntests:\n  ok_format: false\n"),
        ("md", "# Prompts, ignore and seed markers"),
        ("code", "import random\nprint('instructor check')  # IGNORE\n# BEGIN IGNORE\nprint('only in the master notebook')\n# END IGNORE"),
        _question("q1", "points: 1"),
        ("md", "**Question 1.** Write `greet(name)` returning `'hi ' + name`."),
        BEGIN_P, ("code", "def greet(name):\n    # YOUR CODE HERE\n    ..."), END_P,
        BEGIN_S, ("code", "def greet(name):\n    return 'hi ' + name  # SOLUTION"), END_S,
        BEGIN_T,
        _exception_test("test_greet", "assert env['greet']('ada') == 'hi ada'"),
        END_T, END_Q,
        *_solved(
            _question("q2", "points: 1"),
            "**Question 2.** Set `values` to the list `[1, 2, 3]` and `n` to its length.",
            "# BEGIN SOLUTION NO PROMPT\nvalues = [1, 2, 3]\n# END SOLUTION\nn = len(values)  # SOLUTION",
            _exception_test("test_n", "assert env['n'] == 3"),
        ),
        *_solved(
            _question("q3", "points: 1"),
            "**Question 3.** Complete `mean(xs)`.",
            "def mean(xs):\n    if not xs:\n        return 0.0\n    # BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    # END SOLUTION",
            _exception_test("test_mean", "assert env['mean']([1, 2, 3]) == 2"),
        ),
    ],
    # intercell seeding with a seed variable (otter's `seed:`): graded cells start with
    # `rng_seed = 42`, the student notebook keeps its own value
    "seed-variable": [
        ("raw", "# ASSIGNMENT CONFIG\nseed:\n  variable: rng_seed\n  autograder_value: 42\n  student_value: 713\n"
                "export_cell:\n  pdf: false\ntests:\n  ok_format: false\n"),
        ("md", "# Intercell seeding with a seed variable"),
        ("code", "import numpy as np\nrng_seed = 713"),
        *_solved(
            _question("q1", "points: 2"),
            "**Question 1.** Set `draws` to 5 draws of `np.random.default_rng(rng_seed).integers(0, 100)`.",
            "draws = np.random.default_rng(rng_seed).integers(0, 100, size=5)  # SOLUTION",
            _exception_test("test_draws_shape", "assert env['draws'].shape == (5,)"),
            _exception_test("test_draws_seeded", "import numpy as np\nassert (env['draws'] == np.random.default_rng(42).integers(0, 100, size=5)).all()",
            "hidden: true"),
        ),
    ],
    # intercell seeding without a variable (`generate: seed:`): NumPy's and random's global
    # seeds are set at the start of every graded cell; a `# SEED` line is the student's own
    "seed-intercell": [
        ("raw", "# ASSIGNMENT CONFIG\ngenerate:\n  seed: 42\nexport_cell:\n  pdf: false\n"),
        ("md", "# Intercell seeding"),
        ("code", "import numpy as np\nnp.random.seed(7)  # SEED"),
        *_solved(
            _question("q1", "points: 1"),
            "**Question 1.** Set `draw` to `np.random.randint(0, 1000)`.",
            "draw = np.random.randint(0, 1000)  # SOLUTION",
            ("code", "# HIDDEN\ndraw == np.random.RandomState(42).randint(0, 1000)", "True"),
        ),
    ],
    # a plain numpy/pandas assignment (no torch): `requirements:` file, `files:` with a
    # data file, OK-format tests
    "data-files": [
        ("raw", "# ASSIGNMENT CONFIG\nrequirements: requirements.txt\nfiles:\n  - data.csv\nexport_cell:\n  pdf: false\n"),
        ("md", "# Data files, no torch"),
        ("code", "import numpy as np\nimport pandas as pd\ndf = pd.read_csv('data.csv')"),
        *_solved(
            _question("q1", "points: 2"),
            "**Question 1.** Set `mean_score` to the mean of `df['score']` (a float).",
            "mean_score = float(df['score'].mean())  # SOLUTION",
            ("code", "isinstance(mean_score, float)", "True"),
            ("code", "# HIDDEN\nbool(np.isclose(mean_score, 7.5))", "True"),
        ),
        *_solved(
            _question("q2"),
            "**Question 2.** Set `top` to the `name` with the highest score.",
            "top = df.loc[df['score'].idxmax(), 'name']  # SOLUTION",
            ("code", "top in set(df['name'])", "True"),
            ("code", "# HIDDEN\ntop", "'cy'"),
        ),
    ],
}

EXTRA_FILES = {
    "config-file": {"assign_config.yml": "generate:\n  show_hidden: true\ncheck_all_cell: true\nexport_cell:\n  pdf: false\n"
                                        "tests:\n  ok_format: false\n"},
    "data-files": {"data.csv": "name,score\nab,5\nbo,7\ncy,11\ndi,7\n",
                   "requirements.txt": "numpy\npandas\n"},
}


def main(root: Path = HERE) -> None:
    """Write every corpus folder under ``root`` (the committed corpus by default)."""
    for name, cells in CORPUS.items():
        folder = root / name
        folder.mkdir(exist_ok=True)
        nbformat.write(_nb(cells), folder / f"{name}.ipynb")
        for file, text in EXTRA_FILES.get(name, {}).items():
            (folder / file).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
