"""The ``otter`` engine: otter-grader's own ``otter run`` in a child process per submission
(:mod:`autograder.engines.otter.engine`, worker :mod:`autograder.engines.otter.worker`)."""

from .engine import OtterEngine

__all__ = ["OtterEngine"]
