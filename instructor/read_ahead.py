"""Submissions read and screened ahead of their grading thread, while the engines start.

``gradkit grade`` starts its engines in the grading pool's initializer: the fork engine's
zygote takes about 6 s of one core, during which the grading process has nothing else to
do. Meanwhile each submission would later be read and screened in its grading thread
(:meth:`autograder.engines.base.Engine.read_and_screen`, a few ms of this process's CPU
each, competing with the engine's children for the cores). :class:`ReadAhead` does that
reading in one background thread during the start-up instead, in the order the grading
threads take the submissions, and hands each result to the thread that grades it.

Rules that keep the results those of reading in the grading thread:

* the thread stops once every grading thread's start-up has ended (or everything is
  read), so it never competes with the grading afterwards;
* a submission a grading thread took before it was read (or whose reading raised) is not
  read ahead at all: the grading thread reads it as it would without this, and reports
  any error exactly as it would;
* each value is handed out once (``take`` removes it, freeing its memory) and is made for
  that submission alone: nothing shares its notebook.

The files were already hashed before grading starts (``instructor.batch``'s plan step), so
reading them a few seconds earlier reads what the gradebook's hash describes just as well.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from autograder.engines import Engine, PreparedSubmission
from autograder.outcome import GradingOutcome
from autograder.submissions import Submission

log = logging.getLogger(__name__)

__all__ = ["ReadAhead"]


class ReadAhead:
    """One background thread that reads and screens ``submissions`` (in order) until every
    grading thread's engine start-up has ended.

    Use: :meth:`start` before the grading pool starts; each grading thread calls
    :meth:`warm_up_ended` once its start-up is over (whether it succeeded or not) and
    :meth:`take` for each submission it grades; :meth:`close` when the pool is done.

    Args:
        engine: the engine the submissions are graded with (its ``read_and_screen``).
        autograder_zip: the autograder zip.
        submissions: the submissions to grade, in the order the grading threads take them.
        threads: the number of grading threads whose start-up the reading may fill.
        enabled: False: read nothing ahead (every :meth:`take` returns None).

    Attributes:
        prepared: how many values :meth:`take` handed out (submissions read ahead and then
            graded from that reading).
        seconds: wall-clock seconds the thread spent reading and screening.
    """

    def __init__(self, engine: Engine, autograder_zip: Path, submissions: list[Submission], *, threads: int,
                 enabled: bool = True) -> None:
        self._engine = engine
        self._zip = autograder_zip
        self._submissions = list(submissions)
        self._waiting = threads  # grading threads still starting their engine
        self._enabled = enabled and bool(self._submissions)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready: dict[str, PreparedSubmission | GradingOutcome] = {}  # label -> value not yet taken
        self._taken: set[str] = set()  # labels a grading thread has taken (read ahead or not)
        self._thread: threading.Thread | None = None
        self.prepared = 0
        self.seconds = 0.0

    def start(self) -> None:
        """Start the reading thread (nothing when disabled)."""
        if self._enabled and self._waiting > 0:
            self._thread = threading.Thread(target=self._run, name="gradkit-read-ahead", daemon=True)
            self._thread.start()

    def warm_up_ended(self) -> None:
        """Say that the calling grading thread's engine start-up is over; the reading stops
        when every grading thread has said so."""
        with self._lock:
            self._waiting -= 1
            if self._waiting <= 0:
                self._stop.set()

    def take(self, submission: Submission) -> PreparedSubmission | GradingOutcome | None:
        """What was read ahead for ``submission`` (removed from the store, handed out once),
        or None: read it now. Either way it is not read ahead after this call."""
        with self._lock:
            self._taken.add(submission.label)
            value = self._ready.pop(submission.label, None)
            if value is not None:
                self.prepared += 1
            return value

    def close(self) -> None:
        """Stop the reading (after the submission it is reading, if any) and wait for it;
        drop what was read and not taken. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._ready.clear()

    def _run(self) -> None:
        start = time.monotonic()
        read = 0
        try:
            for sub in self._submissions:
                if self._stop.is_set():
                    break
                with self._lock:
                    if sub.label in self._taken:
                        continue
                try:
                    value = self._engine.read_and_screen(sub, self._zip)
                except Exception as error:  # noqa: BLE001 - not lost: its grading thread reads it again and reports what it finds
                    log.debug("%s: not read ahead (%s: %s); its grading thread reads it", sub.label, type(error).__name__, error)
                    continue
                with self._lock:
                    if sub.label not in self._taken:  # else its thread is reading it already: drop this one
                        self._ready[sub.label] = value
                        read += 1
        finally:
            self.seconds = time.monotonic() - start
            log.info("read and screened %d of %d submission(s) during the engine's start-up in %.2f s", read,
                     len(self._submissions), self.seconds)
