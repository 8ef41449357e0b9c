"""Resource limits for grading one submission, and how they are applied to a process."""

from __future__ import annotations

import resource
from dataclasses import dataclass

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

    def apply_to_current_process(self) -> None:
        """Set ``RLIMIT_AS`` of the calling process (children inherit it).

        Meant as ``preexec_fn`` of the grading subprocess. Raises ``ValueError`` from
        :func:`resource.setrlimit` if the cap exceeds the hard limit.
        """
        cap = self.memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
