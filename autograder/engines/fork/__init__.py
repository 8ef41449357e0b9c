"""The ``fork`` engine: a pre-warmed zygote forks one sandboxed child per submission.

:mod:`~autograder.engines.fork.engine` (the engine, in gradkit's process),
:mod:`~autograder.engines.fork.zygote` (the zygote and the child's code),
:mod:`~autograder.engines.fork.protocol` (every message between them, as types),
:mod:`~autograder.engines.fork.bundle` (the zip read once; scores from the child's reply).
"""

from .engine import ForkEngine, ZygoteError

__all__ = ["ForkEngine", "ZygoteError"]
