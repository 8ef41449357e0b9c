"""The system call filter a child installs is copied from a template built once per process
(:func:`autograder.engines.syscall_filter._compiled`, issue 16): it must hold exactly the
instructions :func:`autograder.engines.syscall_filter.program` builds for the child's pid."""

from __future__ import annotations

import ctypes

import pytest

from autograder.engines import syscall_filter


@pytest.mark.parametrize("signals", [False, True])
@pytest.mark.parametrize("jupyter", [False, True])
@pytest.mark.parametrize("pid", [1, 2, 0x2345, 0x5432, 4242, 65535, 4194304, 2**31 - 1])
def test_the_compiled_filter_is_the_program_for_the_pid(pid, signals, jupyter):
    array = syscall_filter._compiled(pid, signals=signals, jupyter=jupyter)
    assert [(i.code, i.jt, i.jf, i.k) for i in array] == syscall_filter.program(pid, signals=signals, jupyter=jupyter)


def test_each_compiled_filter_is_a_copy_of_the_template():
    first = syscall_filter._compiled(100, signals=True, jupyter=False)
    second = syscall_filter._compiled(200, signals=True, jupyter=False)
    assert ctypes.addressof(first) != ctypes.addressof(second)
    assert [i.k for i in first] != [i.k for i in second]
    assert [(i.code, i.jt, i.jf, i.k) for i in first] == syscall_filter.program(100, signals=True)
