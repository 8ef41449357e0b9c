"""One forked child per item, for driver scripts that prepare an interpreter once (imports,
an audit hook) and then run each case on a fresh copy of it (tests/test_frames.py,
tests/test_modules.py). The drivers run with ``python -c``: they take this function's
source, :data:`SOURCE`, not an import."""

from __future__ import annotations

import inspect
import os
import traceback
from typing import Callable, Iterable


def fork_each(items: Iterable[str], work: Callable[[str], str]) -> dict[str, tuple[int, str]]:
    """Run ``work(item)`` in a forked child for each of ``items``, one child at a time.

    Returns:
        ``{item: (status, text)}``: the child's wait status (``os.waitpid``; 0 when ``work``
        returned) and the text ``work`` returned ("" if it raised: its traceback goes to
        the child's stderr and the status is not 0).
    """
    results = {}
    for item in items:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            code = 1
            try:
                with os.fdopen(write, "w") as pipe:
                    pipe.write(work(item))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read) as pipe:
            text = pipe.read()
        _, status = os.waitpid(pid, 0)
        results[item] = (status, text)
    return results


SOURCE = "from __future__ import annotations\nimport os, traceback\nfrom typing import Callable, Iterable\n" + inspect.getsource(fork_each)
