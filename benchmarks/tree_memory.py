"""Peak memory of a process tree (this process and every descendant), sampled.

Why PSS summed over the tree, sampled by a thread: the fork engine's children are forked
from a zygote and share most of its pages (copy-on-write, after ``gc.freeze()``), and the
two zygotes share the Python installation's mapped files with the parent. Summing RSS
would count every shared page once per process (a 1,000-submission run would "use" many
times the machine's memory); PSS (proportional set size, from
``/proc/PID/smaps_rollup``) charges each shared page to its sharers in equal parts, so the
sum over the tree is the physical memory the tree holds. A cgroup's peak counter would be
exact and unsampled, but it needs a cgroup of our own (v2 ``memory.peak``, or v1
``memory.max_usage_in_bytes``), which a shared or containerised machine does not give
every user, and it also counts page cache (``benchmarks/cgroup_memory.py`` reads it where
it can be had, and the benchmark prints both). The price of sampling: a spike shorter
than the interval can be missed, and each sample costs system time (``smaps_rollup``
walks each process's page tables: ~2 ms per process with torch loaded, measured
2026-12-01), so the interval is a trade (default 0.5 s; at 50 ms the sampling took about
a fifth of the two cores the benchmark measured). The largest single process's own peak
(``ru_maxrss`` from ``getrusage``, exact but counting shared pages in full) is reported
beside it as a cross-check.
"""

from __future__ import annotations

import resource
import threading
from dataclasses import dataclass

import psutil

__all__ = ["TreeMemory", "TreeMemorySampler"]


@dataclass(frozen=True)
class TreeMemory:
    """What :class:`TreeMemorySampler` saw.

    Attributes:
        peak_bytes: the largest sum of PSS over the tree in one sample (bytes).
        peak_processes: how many processes that sample counted.
        most_processes: the most processes seen in one sample.
        samples: how many samples were taken.
        rss_fallbacks: processes whose PSS could not be read (gone, or access denied)
            and whose RSS was counted instead (an over-estimate), over all samples.
        self_maxrss_bytes: this process's own peak RSS (``getrusage``), bytes.
        children_maxrss_bytes: the largest peak RSS of any waited-for descendant
            (``getrusage(RUSAGE_CHILDREN)``), bytes.
    """

    peak_bytes: int
    peak_processes: int
    most_processes: int
    samples: int
    rss_fallbacks: int
    self_maxrss_bytes: int
    children_maxrss_bytes: int


class TreeMemorySampler:
    """Samples the PSS of this process and its descendants every ``interval`` seconds
    in a daemon thread, between :meth:`start` and :meth:`stop` (or as a context manager).

    Args:
        interval: seconds between samples (float).
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-memory", daemon=True)
        self._peak = self._peak_n = self._most = self._samples = self._fallbacks = 0
        self.result: TreeMemory | None = None

    def sample(self) -> tuple[int, int]:
        """One sample now: (PSS summed over the tree in bytes, processes counted)."""
        me = psutil.Process()
        total = count = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            except (psutil.AccessDenied, AttributeError, OSError):
                try:
                    total += proc.memory_info().rss
                    self._fallbacks += 1
                except psutil.Error:
                    continue
            count += 1
        return total, count

    def _run(self) -> None:
        while not self._stop.is_set():
            total, count = self.sample()
            self._samples += 1
            self._most = max(self._most, count)
            if total > self._peak:
                self._peak, self._peak_n = total, count
            self._stop.wait(self.interval)

    def start(self) -> "TreeMemorySampler":
        """Start sampling; returns self."""
        self._thread.start()
        return self

    def stop(self) -> TreeMemory:
        """Stop sampling and return what was seen (also kept in :attr:`result`)."""
        self._stop.set()
        self._thread.join()
        kib = 1024  # ru_maxrss is in KiB on Linux
        self.result = TreeMemory(self._peak, self._peak_n, self._most, self._samples, self._fallbacks,
                                 resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib,
                                 resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kib)
        return self.result

    def __enter__(self) -> "TreeMemorySampler":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
