# sample: writes a full-score results pickle into otter's pending results file, then breaks otter's Checker so its appended result cell fails instead of overwriting it (no crash)
# base: ../../../assignments/autograd-basics/samples/untouched.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=0 q3=0

# otter runs the notebook with allow_errors: the failing result cell is just an error
# in a cell, and otter then unpickles whatever the results file holds (10/10).

# %% after linear_grads
import glob
import os
import pickle
import tempfile

from otter.execute import Checker
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import GradingResults, create_test_file

full = []
for path in sorted(glob.glob("tests/q*.py")):
    test_file = create_test_file(path, NBMetadataConfig())
    test_file.update_score(test_file.possible)
    full.append(test_file)
pending = [p for p in glob.glob(os.path.join(tempfile.gettempdir(), "*.pkl")) if os.path.getsize(p) == 0]
if pending:
    with open(max(pending, key=os.path.getmtime), "wb") as f:
        pickle.dump(GradingResults(full), f)
    Checker.check_if_not_already_checked = None
