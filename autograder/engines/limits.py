"""Resource limits for grading one submission, and how they are applied to a process."""

from __future__ import annotations

import resource
from dataclasses import dataclass

from .process import set_limit

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Limits for one submission.

    Attributes:
        timeout: wall-clock seconds for the whole submission (execution and tests).
        cell_timeout: seconds one cell may run before the kernel is interrupted (the cell
            then fails with ``CellTimeout`` and the next cells still run).
        memory_mb: address-space cap, in MiB, of the grading process and of the kernel it
            starts (each process gets the cap: ``RLIMIT_AS``). An allocation past it fails
            inside the student's cell (``MemoryError``/``RuntimeError``) instead of
            taking the machine down.
        output_bytes: captured output (stdout, stderr, displays) kept per submission, in
            bytes; the rest is dropped with one note.
    """

    timeout: float = 600.0
    cell_timeout: float = 120.0
    memory_mb: int = 4096
    output_bytes: int = 1_000_000

    @property
    def cell_seconds(self) -> float:
        """Seconds one cell (or one question's tests) may run: ``cell_timeout``, but never
        more than the whole submission's ``timeout``."""
        return min(self.cell_timeout, self.timeout)

    def apply_to_current_process(self, *, lock: bool = False) -> None:
        """Set ``RLIMIT_AS`` of the calling process to the memory cap (children inherit it),
        clamped to the hard limit (:func:`autograder.engines.process.set_limit`).

        Args:
            lock: also lower the hard limit to the cap, so the process cannot lift it.
        """
        set_limit(resource.RLIMIT_AS, self.memory_mb * 1024 * 1024, lock=lock)
