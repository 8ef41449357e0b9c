"""``gradkit serve``: the grading desk, a local web page over a grading folder."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import CommandUsageError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "main"]

DEFAULT_HOST = "127.0.0.1"
"""Address the desk listens on: this machine only (:data:`instructor.desk.DEFAULT_HOST`)."""
DEFAULT_PORT = 8765
"""The desk's TCP port (:data:`instructor.desk.DEFAULT_PORT`)."""

log = logging.getLogger(__name__)


def main(*, out_dir: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, autograder_zip: Path | None = None) -> None:
    """Start the grading desk (:func:`instructor.desk.start_desk`), print its address with
    the access token, and serve until interrupted.

    Args:
        out_dir: a grading output folder holding ``gradebook.sqlite``.
        host: address to listen on.
        port: TCP port (0: any free port).
        autograder_zip: the autograder zip, for each test case's name, points and visibility.

    Raises:
        CommandUsageError: no gradebook, an unusable zip, or an address it cannot listen on.
    """
    from instructor.desk import start_desk

    log.info("starting the grading desk over %s on %s:%s", out_dir, host, port)
    try:
        desk = start_desk(out_dir, host=host, port=port, autograder_zip=autograder_zip)
    except (FileNotFoundError, ValueError) as error:
        raise CommandUsageError(str(error)) from None
    except OSError as error:
        raise CommandUsageError(f"{host}:{port}: cannot listen there ({error.strerror or error})") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: anyone who can reach this machine and has the token can change grades.", err=True)
    click.echo(f"gradkit desk for {out_dir}: open\n    {desk.url}\n(Ctrl-C to stop)")
    sys.stdout.flush()
    desk.serve_forever()
