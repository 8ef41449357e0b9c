"""The grading desk: ``gradkit serve OUT``, a local web page over a grading output folder.

Class view (every submission, filters, sort, histogram), submission view (the notebook
rendered by nbconvert beside each question's test cases, the screen's findings on their
cells and lines, buttons that record decisions through the same functions as ``gradkit
review``), question view (one question across the class). Modules: :mod:`.app` (routes),
:mod:`.model` (what the pages read), :mod:`.notebook` (rendering), :mod:`.sanitize`
(hostile HTML), :mod:`.security` (token, CSRF, headers), :mod:`.server` (uvicorn).
"""

from __future__ import annotations

from .app import create_app
from .server import DEFAULT_HOST, DEFAULT_PORT, DeskServer, start_desk

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DeskServer", "create_app", "start_desk"]
