"""Cost of the fork engine's audit hook (:func:`autograder.integrity.install_audit_hook`).

Runs a notebook-like workload in a real IPython shell (the solution's kind of code: a
tensor's gradient, a linear layer trained a few steps, a namedtuple, a plotted line, an
exception shown by IPython) twice in fresh interpreters, without and with the hook
recording, and prints the audited events it raised, the wall time of each run and the
cost per event. Not a test: the figures depend on the machine's load.

    python benchmarks/audit_hook.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

WORKLOAD = textwrap.dedent('''
    import collections, math, torch
    Point = collections.namedtuple("Point", "x y")
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.log(x) + x ** 3
    y.backward()
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, Y = torch.randn(16, 3), torch.randn(16, 1)
    for _ in range(20):
        opt.zero_grad()
        loss = torch.nn.MSELoss()(model(X), Y)
        loss.backward()
        opt.step()
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3], [loss.item()] * 3)
    plt.close("all")
''')

DRIVER = textwrap.dedent('''
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    import torch, matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    from IPython.core.interactiveshell import InteractiveShell
    from autograder.integrity import install_audit_hook
    shell = InteractiveShell.instance()
    shell.InteractiveTB.set_mode(mode="Minimal")
    count = [0]
    sys.addaudithook(lambda event, args: count.__setitem__(0, count[0] + 1))
    control = install_audit_hook([]) if sys.argv[2] == "on" else None
    shell.run_cell(sys.argv[1] + "\\nraise ValueError('shown')", silent=True)  # warm up
    start, before = time.perf_counter(), count[0]
    for _ in range(int(sys.argv[3])):
        if control:
            control(True)
        shell.run_cell(sys.argv[1], silent=True)
        shell.run_cell("raise ValueError('shown')", silent=True)
        if control:
            control(False)
    print(json.dumps({"seconds": time.perf_counter() - start, "events": count[0] - before}))
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    runs = {}
    for mode in ("off", "on"):
        out = subprocess.run([sys.executable, "-c", DRIVER, WORKLOAD, mode, str(args.repeat)], capture_output=True, text=True, check=True)
        runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    off, on = runs["off"], runs["on"]
    per_run = on["events"] / args.repeat
    print(f"audited events per run of the workload: {per_run:.0f}")
    print(f"without the hook: {off['seconds'] / args.repeat * 1000:.1f} ms per run; with it: {on['seconds'] / args.repeat * 1000:.1f} ms")
    if on["events"]:
        print(f"cost per audited event: {(on['seconds'] - off['seconds']) / on['events'] * 1e6:.1f} µs (noise included)")


if __name__ == "__main__":
    main()
