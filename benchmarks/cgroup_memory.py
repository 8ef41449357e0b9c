"""Exact peak memory of a run, from a memory cgroup of its own (where the machine allows one).

Why: :class:`benchmarks.tree_memory.TreeMemorySampler` sums PSS over the process tree,
which is right for forked children that share the zygote's pages, but each sample reads
``/proc/PID/smaps_rollup`` for every process, a walk of its page tables in the kernel.
With torch loaded that is ~2 ms of system time per process: sampled every 50 ms it cost
the throughput benchmark about 12 s of CPU per 400 submissions (measured 2026-12-01:
54 s of grading wall with it, 44 s without), the very cores it measures. The kernel's
own counter costs nothing while the run goes and misses no spike: a cgroup's peak
(v2 ``memory.peak``; v1 ``memory.max_usage_in_bytes``), which counts each physical page
once however many processes map it, like the PSS sum.

It needs a cgroup we may create and move this process into (root on a machine whose
memory controller is mounted and writable, e.g. cgroup v1 as on this kit's machine, or a
delegated v2 subtree). Everywhere else :func:`start` returns ``None`` and the benchmark
reports the sampled PSS alone. No library does this (psutil reads cgroups of neither
version), hence our own ~80 lines.

What the figure counts is not what PSS counts, so neither replaces the other: the cgroup
is charged for the pages the run brings into memory (every anonymous page: heaps,
tensors, copy-on-write copies; and page cache it is the first to read or that it writes,
e.g. the gradebook and results), but not for file pages already cached and charged
elsewhere (the Python and torch libraries the zygotes map, which PSS counts by share). So
it misses no short spike of allocation, and PSS sees the mapped libraries; the benchmark
prints both and checks the target on the larger. The charges this process made before
it moved in are carried over (v1: ``memory.move_charge_at_immigrate``; v2 never moves
them, so there the benchmark's own earlier heap, a few tens of MiB, is left out).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupPeak", "start"]


@dataclass
class CgroupPeak:
    """A memory cgroup made for this process and its descendants; see :func:`start`.

    Attributes:
        directory: the cgroup's folder (``Path``).
        home: the folder of the cgroup this process came from (``Path``); it goes back there.
        version: ``"v1"`` or ``"v2"``.
    """

    directory: Path
    home: Path
    version: str

    def peak_bytes(self) -> int:
        """The largest memory charge the cgroup has held since it was made (bytes, int).

        Raises:
            OSError: the counter could not be read.
        """
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        return int((self.directory / name).read_text().split()[0])

    def stop(self) -> int:
        """Read the peak, move this process back to its own cgroup and remove this one.

        Returns:
            The peak in bytes (int), as :meth:`peak_bytes`. Only this process moves back:
            descendants still alive (none, after a finished run) keep the folder, which is
            then left in place.
        """
        peak = self.peak_bytes()
        try:
            (self.home / "cgroup.procs").write_text(str(os.getpid()))
            self.directory.rmdir()
        except OSError:
            pass
        return peak


def _memory_cgroup() -> tuple[Path, str] | None:
    """The folder of this process's memory cgroup and its version, or ``None``.

    Reads ``/proc/self/cgroup`` (``hierarchy:controllers:path``, see cgroups(7)) and
    ``/proc/self/mountinfo`` (proc(5): field 5 the mount point, then after ``-`` the
    file system type and its options) to find where that hierarchy is mounted.
    """
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    v1 = v2 = None
    for line in mounts:
        fields = line.split()
        dash = fields.index("-")
        fstype, options = fields[dash + 1], fields[dash + 3].split(",")
        if fstype == "cgroup" and "memory" in options:
            v1 = fields[4]
        elif fstype == "cgroup2" and v2 is None:
            v2 = fields[4]
    for line in memberships:
        hierarchy, controllers, path = line.split(":", 2)
        if v1 and "memory" in controllers.split(","):
            return Path(v1 + path), "v1"
        if v2 and hierarchy == "0":
            folder = Path(v2 + path)
            try:
                if "memory" in (folder / "cgroup.controllers").read_text().split():
                    return folder, "v2"
            except OSError:
                pass
    return None


def start() -> CgroupPeak | None:
    """Make a memory cgroup below this process's own and move this process into it, so
    that it and every process it starts from now on are counted together.

    Returns:
        The :class:`CgroupPeak`, or ``None`` where no memory cgroup can be made or entered
        (not root, no memory controller, a v2 parent that does not delegate it): the
        caller then relies on sampling. Never raises for that.
    """
    found = _memory_cgroup()
    if found is None:
        return None
    home, version = found
    directory = home / f"gradkit-benchmark-{os.getpid()}"
    try:
        directory.mkdir()
    except OSError:
        return None
    counter = directory / ("memory.max_usage_in_bytes" if version == "v1" else "memory.peak")
    try:
        if not counter.exists():
            raise OSError(f"{counter} missing")
        if version == "v1":  # carry this process's charges along (anonymous and file pages)
            try:
                (directory / "memory.move_charge_at_immigrate").write_text("3")
            except OSError:
                pass  # newer kernels drop the knob: the earlier heap is then left out
        (directory / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        try:
            directory.rmdir()
        except OSError:
            pass
        return None
    return CgroupPeak(directory, home, version)
