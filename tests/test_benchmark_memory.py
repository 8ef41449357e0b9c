"""The throughput benchmark's exact memory figure: a memory cgroup of the run's own
(``benchmarks/cgroup_memory.py``), read from the kernel's peak counter."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import cgroup_memory

MIB = 1 << 20


def _my_cgroup_line() -> str:
    return next((line for line in Path("/proc/self/cgroup").read_text().splitlines()
                 if "memory" in line.split(":")[1].split(",") or line.startswith("0::")), "")


def test_the_cgroup_peak_counts_a_childs_spike_and_the_process_goes_home():
    before = _my_cgroup_line()
    peak = cgroup_memory.start()
    if peak is None:
        pytest.skip("no memory cgroup can be made here (needs root and a writable memory controller)")
    try:
        assert str(os.getpid()) in (peak.directory / "cgroup.procs").read_text().split()
        # a child touches 300 MiB for a moment and ends: a spike no later sample would see
        subprocess.run([sys.executable, "-c", "b = bytearray(300 << 20)"], check=True)
        spike = peak.peak_bytes()
    finally:
        total = peak.stop()
    assert spike >= 300 * MIB
    assert total >= spike
    assert not peak.directory.exists()
    assert _my_cgroup_line() == before


def test_no_cgroup_is_made_where_the_memory_hierarchy_cannot_be_found(monkeypatch):
    monkeypatch.setattr(cgroup_memory, "_memory_cgroup", lambda: None)
    assert cgroup_memory.start() is None


def test_the_memory_cgroup_found_is_this_processs_own():
    found = cgroup_memory._memory_cgroup()
    if found is None:
        pytest.skip("no memory cgroup hierarchy is mounted here")
    folder, version = found
    assert version in ("v1", "v2")
    assert str(os.getpid()) in (folder / "cgroup.procs").read_text().split()
