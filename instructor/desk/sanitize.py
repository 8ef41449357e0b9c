"""Allow-list sanitising of HTML that comes from a submission (hostile content).

Everything the desk shows from a student's notebook (rendered markdown, HTML, SVG and
JavaScript outputs, error tracebacks) passes through :func:`sanitize_html` before it is
put into a page. The allow-list (kept by `nh3 <https://nh3.readthedocs.io>`_, the Python
binding of the Rust ``ammonia`` sanitiser) keeps text formatting, tables, lists, code
and images embedded as ``data:image/...`` URLs, and drops everything that can run code or
load something: ``script``, ``style``, ``iframe``, ``object``, ``embed``, ``svg``,
``math``, ``form`` and its fields, ``meta``, ``base``, ``link``, every event-handler and
``style`` attribute, ``id``/``name`` (no clobbering of the page's own elements), and every
URL but ``http``/``https``/``mailto`` links and ``data:image`` pictures (the browser then
also refuses remote images by the page's Content-Security-Policy, see
:mod:`instructor.desk.security`). The page's own script-free design means nothing from a
submission can run even if a payload slipped past this list.
"""

from __future__ import annotations

import nh3

__all__ = ["ALLOWED_TAGS", "sanitize_html"]

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


def _filter(tag: str, attribute: str, value: str) -> str | None:
    """Per-attribute rule: images only from ``data:image/...``, links never ``data:``."""
    if tag == "img" and attribute == "src":
        return value if value.strip().lower().startswith("data:image/") else None
    if tag == "a" and attribute == "href":
        return None if value.strip().lower().startswith("data:") else value
    return value


def sanitize_html(html: str) -> str:
    """Sanitise an HTML fragment from a submission by the desk's allow-list.

    Args:
        html: untrusted HTML (str).

    Returns:
        str: HTML holding only :data:`ALLOWED_TAGS`, their allowed attributes, ``http``/
        ``https``/``mailto`` links (with ``rel="noopener noreferrer"``) and ``data:image``
        images; comments removed.
    """
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_filter,
        url_schemes={"http", "https", "mailto", "data"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
