"""Grading engines: named ways of turning one submission into a :class:`GradingOutcome`.

Modelled on papermill's ``engines.py``: a small registry of named engines behind one base
class (:class:`~autograder.engines.base.Engine`, which owns the grading lifecycle; an
engine implements one step, :meth:`~autograder.engines.base.Engine.execute`).
``gradkit grade --engine NAME`` picks one:

* ``fork`` (the default, :mod:`autograder.engines.fork`): a pre-warmed zygote forks one
  sandboxed child per submission;
* ``otter`` (the reference, :mod:`autograder.engines.otter`): otter-grader's own
  non-containerised runner (``otter run``) in a child process per submission.

Shared by both: :mod:`~autograder.engines.limits` (the limits of one submission),
:mod:`~autograder.engines.process` (``prctl``, resource limits, child set-up, the process
killer) and the confinement of the process that runs student code
(:mod:`~autograder.engines.sandbox`: Landlock; :mod:`~autograder.engines.privileges`:
capabilities, locked limits, private ``/proc``; :mod:`~autograder.engines.syscall_filter`:
seccomp). Adding an engine: subclass :class:`Engine`, implement ``execute`` and decorate
the class with :func:`register_engine` (the README's "Adding an engine").
"""

from __future__ import annotations

from .base import Attempt, Engine, PreparedSubmission
from .fork import ForkEngine
from .limits import Limits
from .otter import OtterEngine

__all__ = ["DEFAULT_ENGINE", "FALLBACK_ENGINE", "Attempt", "Engine", "ForkEngine", "Limits", "OtterEngine", "PreparedSubmission",
           "available_engines", "engine_here", "get_engine", "register_engine", "unregister_engine"]

_REGISTRY: dict[str, type[Engine]] = {}

DEFAULT_ENGINE = "fork"
"""The engine ``gradkit grade`` uses unless ``--engine`` says otherwise."""

FALLBACK_ENGINE = "otter"
"""The engine :func:`engine_here` uses where the asked one cannot run (it runs wherever
otter-grader and Jupyter do)."""


def register_engine(cls: type[Engine]) -> type[Engine]:
    """Make an :class:`Engine` subclass available under ``cls.name`` (usable as a class
    decorator); a later registration under the same name replaces the earlier one.

    Raises:
        TypeError: ``cls`` is not an :class:`Engine` subclass with a ``name``.
    """
    if not (isinstance(cls, type) and issubclass(cls, Engine) and isinstance(getattr(cls, "name", None), str)):
        raise TypeError(f"{cls!r} is not an Engine subclass with a name")
    _REGISTRY[cls.name] = cls
    return cls


def unregister_engine(name: str) -> None:
    """Remove the engine registered as ``name`` (no error if there is none)."""
    _REGISTRY.pop(name, None)


def available_engines() -> list[str]:
    """Names of the registered engines, sorted."""
    return sorted(_REGISTRY)


def get_engine(name: str) -> Engine:
    """A new instance of the engine registered as ``name``.

    Raises:
        KeyError: no engine has that name (the message lists the known ones).
        ValueError: the engine cannot run on this system (the message says why, e.g. the
            fork engine without Linux Landlock).
    """
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown grading engine {name!r}; available: {', '.join(available_engines())}") from None
    reason = cls.unavailable_reason()
    if reason:
        raise ValueError(reason)
    return cls()


def engine_here(name: str = DEFAULT_ENGINE) -> tuple[str, str | None]:
    """The engine to use for ``name`` on this system: ``name`` itself, or
    :data:`FALLBACK_ENGINE` where ``name`` cannot run, with a note saying so.

    Returns:
        tuple: (engine name, note or None). The note is one line for the user, e.g.
        ``"the fork engine ... does not provide; ...: using the otter engine"``.

    Raises:
        KeyError: unknown ``name``.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown grading engine {name!r}; available: {', '.join(available_engines())}")
    reason = _REGISTRY[name].unavailable_reason()
    if reason is None or name == FALLBACK_ENGINE:
        return name, None
    return FALLBACK_ENGINE, f"{reason.split(';')[0]}: using the {FALLBACK_ENGINE} engine instead"


register_engine(OtterEngine)
register_engine(ForkEngine)
