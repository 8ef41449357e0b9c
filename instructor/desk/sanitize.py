"""Allow-list sanitising of HTML that comes from a submission (hostile content).

Everything the desk shows from a student's notebook (rendered markdown, HTML, SVG and
JavaScript outputs, error tracebacks) passes through :func:`sanitize_html` before it is
put into a page. The allow-list (kept by `nh3 <https://nh3.readthedocs.io>`_, the Python
binding of the Rust ``ammonia`` sanitiser) keeps text formatting, tables, lists, code
and images embedded as ``data:image/...`` URLs, and drops everything that can run code or
load something: ``script``, ``style``, ``iframe``, ``object``, ``embed``, ``svg``,
``math``, ``form`` and its fields, ``meta``, ``base``, ``link``, every event-handler and
``style`` attribute, ``id``/``name`` (no clobbering of the page's own elements), and every
URL but absolute ``http``/``https``/``mailto`` links, ``#fragment`` links and
``data:image`` pictures (the browser then also refuses remote images by the page's
Content-Security-Policy, see :mod:`instructor.desk.security`). A relative link is
dropped: it would point into the desk itself (``/submission?label=...&done=...`` shows a
message of the student's choosing as if the desk had written it). ``class`` keeps only
the names nbconvert and Pygments write, never one of the desk's own (:data:`DESK_CLASSES`,
read from its stylesheet): a submission cannot dress its text as the desk's test table,
a "done" message or a sticky panel. Invisible direction controls (``U+202E`` and its
kind, as in "Trojan Source") are shown as ``<U+202E>`` (:func:`show_controls`; the
templates do the same with labels and names), so text cannot be reordered on screen. The page's own script-free design means nothing from a
submission can run even if a payload slipped past this list.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import nh3

__all__ = ["ALLOWED_TAGS", "DESK_CLASSES", "sanitize_html", "show_controls"]

_CONTROLS = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def show_controls(text: str) -> str:
    """``text`` with its invisible bidirectional and zero-width characters (U+061C,
    U+200B..U+200F, U+202A..U+202E, U+2060..U+2069, U+FEFF) written as ``<U+202E>``, so
    that a label or name is shown in the order of its characters. Safe on HTML (the
    characters replaced are none of HTML's; ``<`` is the text ``&lt;`` when given HTML)."""
    return _CONTROLS.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
    "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul", "var",
})
"""Tags kept; any other tag is removed (its text kept, except for :data:`_DROP_WITH_CONTENT`)."""

_DROP_WITH_CONTENT = frozenset({"script", "style", "template", "textarea", "title", "noscript", "xmp",
                                "iframe", "noembed", "noframes", "object", "svg", "math", "select", "option"})

_ATTRIBUTES = {
    "*": {"class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}


_NBCONVERT_STYLED = frozenset({"prompt", "output_area", "output_error", "output_stderr"})
"""nbconvert's own classes that the desk's stylesheet styles (kept on rendered notebooks)."""

DESK_CLASSES = frozenset(re.findall(r"\.(-?[A-Za-z_][\w-]*)", re.sub(
    r"/\*.*?\*/|\{[^}]*\}", " ", (Path(__file__).resolve().parent / "static" / "desk.css").read_text(encoding="utf-8"),
    flags=re.S))) - _NBCONVERT_STYLED
"""Class names of the desk's stylesheet (its own page parts); removed from submission HTML."""

_CLASS = re.compile(r"[A-Za-z][\w-]{0,63}\Z")


def _filter(tag: str, attribute: str, value: str) -> str | None:
    """Per-attribute rule: images only from ``data:image/...``; links only absolute
    ``http``/``https``/``mailto`` or ``#fragment``; classes never the desk's own."""
    if tag == "img" and attribute == "src":
        return value if value.strip().lower().startswith("data:image/") else None
    if tag == "a" and attribute == "href":
        target = value.strip()
        try:
            scheme = urlsplit(target).scheme.lower()
        except ValueError:
            return None
        return target if scheme in ("http", "https", "mailto") or (target.startswith("#") and not scheme) else None
    if attribute == "class":
        names = [name for name in value.split() if _CLASS.match(name) and name not in DESK_CLASSES]
        return " ".join(names) or None
    return value


def sanitize_html(html: str) -> str:
    """Sanitise an HTML fragment from a submission by the desk's allow-list.

    Args:
        html: untrusted HTML (str).

    Returns:
        str: HTML holding only :data:`ALLOWED_TAGS`, their allowed attributes, absolute
        ``http``/``https``/``mailto`` and ``#fragment`` links (with ``rel="noopener
        noreferrer"``), ``data:image`` images and no class of :data:`DESK_CLASSES`;
        comments removed.
    """
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_filter,
        url_schemes={"http", "https", "mailto", "data"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
    return _CONTROLS.sub(lambda m: f"&lt;U+{ord(m.group()):04X}&gt;", cleaned)
