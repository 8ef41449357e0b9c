"""The desk's access rules, as one ASGI middleware around the app.

- **Token**, as Jupyter does: every request needs the server's random token, given once
  in the URL (``/?token=...``, printed by ``gradkit serve``); the desk then sets an
  ``HttpOnly``, ``SameSite=Strict`` cookie holding it and redirects to the same address
  without the token (so it leaves the address bar and the history). A request with
  neither a valid token nor the cookie gets ``403``.
- **CSRF**: state-changing requests are ``POST`` forms carrying the server's CSRF token
  (a second random value, in a hidden field of each form the desk writes); checked by
  :func:`check_csrf` in the handlers. Routes accept only the methods they declare
  (``405`` otherwise), and no ``GET`` changes anything.
- **Host and Origin** (DNS rebinding, forged cross-site forms; as Jupyter's
  ``allow_remote_access``): a request whose ``Host`` names another machine than the one
  the desk was bound to (by default only ``127.0.0.1``, ``localhost`` and ``::1``) gets
  ``403``; a state-changing request (not ``GET``/``HEAD``) whose ``Origin`` is another
  address than the desk's (``null``, which Chromium sends for the desk's own forms under
  ``Referrer-Policy: no-referrer``, is let through to the CSRF check), or that the browser
  marks ``Sec-Fetch-Site: cross-site`` or ``same-site`` (another port of this machine),
  gets ``403``.
- **Headers** on every response: a strict Content-Security-Policy (:data:`CSP`: no script
  at all, styles and images from the desk itself or ``data:`` images only, no frames,
  forms only to the desk, ``base-uri 'none'``), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY`` and ``Cache-Control:
  no-store``.

Tokens are compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

__all__ = ["CSP", "LOOPBACK_HOSTS", "DeskSecurity", "check_csrf", "host_name", "new_token"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Host names a desk bound to this machine only answers to."""

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'none'; frame-src 'none'; child-src 'none'; object-src 'none'; media-src 'none'; "
       "manifest-src 'none'; worker-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
"""The Content-Security-Policy of every response."""

HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def new_token() -> str:
    """A fresh random token (48 hex digits, 192 bits), as Jupyter's."""
    return secrets.token_hex(24)


def host_name(value: str) -> str:
    """The host of a ``Host`` header value (``127.0.0.1:8765`` -> ``127.0.0.1``, ``[::1]:80``
    -> ``::1``), lower case, without a trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def check_csrf(expected: str, given: str | None) -> bool:
    """Whether a form's CSRF field matches the server's (constant-time)."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


class DeskSecurity:
    """ASGI middleware: the token rule and the security headers (see the module doc).

    Args:
        app: the ASGI app behind it.
        token: the server's access token.
        hosts: the host names the desk answers to (``Host`` header, without port), or
            None for any (a desk listening on every interface). Default: this machine
            only (:data:`LOOPBACK_HOSTS`). Settable later as the ``hosts`` attribute.
    """

    def __init__(self, app, token: str, hosts=LOOPBACK_HOSTS):
        self.app = app
        self.token = token
        self.hosts = None if hosts is None else frozenset(host_name(h) for h in hosts)
        self.cookie = "gradkit-desk-" + hashlib.sha256(token.encode()).hexdigest()[:10]

    def _valid(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(self.token.encode(), value.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":  # lifespan: nothing to guard
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                message["headers"] = [h for h in message.get("headers", []) if h[0].lower() not in names] + HEADERS
            await send(message)

        async def refuse(body: bytes):
            await send_with_headers({"type": "http.response.start", "status": 403,
                                     "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": body})

        headers = {name.lower(): value.decode("latin-1") for name, value in scope.get("headers", []) if name.lower() != b"cookie"}
        host = headers.get(b"host", "")
        if self.hosts is not None and host_name(host) not in self.hosts:
            return await refuse(b"403 Forbidden: this desk answers only to the address gradkit serve printed "
                                b"(the Host header names another machine).\n")
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            origin = headers.get(b"origin")
            # "null": what Chromium sends for the desk's own forms under Referrer-Policy: no-referrer
            foreign = origin not in (None, "null") and urlsplit(origin).netloc.lower() != host.lower()
            if foreign or headers.get(b"sec-fetch-site") in ("cross-site", "same-site"):
                return await refuse(b"403 Forbidden: a form from another site cannot change grades here.\n")

        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = next((v for k, v in query if k == "token"), None)
        cookies = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is simply not a valid token
                    pass
        from_cookie = cookies[self.cookie].value if self.cookie in cookies else None
        if given is not None and self._valid(given):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            # the same path, never another host (``//host/...`` would be one)
            path = (scope.get("root_path", "") + scope["path"]).lstrip("/\\")
            location = "/" + quote(path, safe="/") + (f"?{rest}" if rest else "")
            await send_with_headers({"type": "http.response.start", "status": 303, "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
            ]})
            await send({"type": "http.response.body", "body": b"signed in"})
            return
        if not self._valid(from_cookie):
            return await refuse(b"403 Forbidden: open the desk with the address gradkit serve printed "
                                b"(http://HOST:PORT/?token=...).\n")
        await self.app(scope, receive, send_with_headers)
