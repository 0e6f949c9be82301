"""What every signed-in request recomputes from the same inputs, kept per process.

A page served from the grid cache costs a few milliseconds, and a fair part of it was work
whose inputs do not change between two requests of the same browser: verifying the signed
session cookie (HMAC, base64, JSON) and signing the form token (HMAC, base64). Both are pure
functions of the cookie (of the session's form token) and the secret key, so their results are
kept here, per app, in small LRUs, and used again only while they hold:

- ``SessionCookies``: Flask's signed-cookie session; the content of a cookie string already
  verified is reused until the cookie's own age limit (PERMANENT_SESSION_LIFETIME, checked as
  itsdangerous does). A different string (one byte changed, another signature) is verified
  afresh: the key is the whole cookie as sent. The session each request gets is a copy.
- ``form_token``: ``generate_csrf()`` of the request, the same signed token for a minute per
  session token (a token signed up to a minute earlier expires up to a minute earlier:
  WTF_CSRF_TIME_LIMIT is an hour).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict

from flask import Flask, current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature

SIZE = 4096  # entries per LRU: the browsers a worker serves within the entries' lifetime
FORM_TOKEN_SECONDS = 60.0
_SESSIONS = "rdvpl.verified_session_cookies"
_FORM_TOKENS = "rdvpl.signed_form_tokens"


class BoundedMemo:
    """A thread-safe LRU of at most ``size`` entries."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def _memo(app: Flask, name: str) -> BoundedMemo:
    memo = app.extensions.get(name)
    if memo is None:
        memo = app.extensions.setdefault(name, BoundedMemo())
    return memo


def _copy(data: dict) -> dict:
    # Flask's flash() appends to the list it reads from the session: never hand out ours.
    return {key: copy.deepcopy(value) if isinstance(value, (list, dict)) else value
            for key, value in data.items()}


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, each cookie string verified once per process."""

    def open_session(self, app: Flask, request):
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        memo = _memo(app, _SESSIONS)
        known = memo.get(value)
        if known is not None:
            data, signed_at = known
            if 0 <= int(time.time()) - signed_at <= max_age:  # as itsdangerous counts
                return self.session_class(_copy(data))
        serializer = self.get_signing_serializer(app)
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        memo.set(value, (data, int(signed_at.timestamp())))
        return self.session_class(_copy(data))


def form_token() -> str:
    """``generate_csrf()``, the same signed token for FORM_TOKEN_SECONDS per session token."""
    if "csrf_token" in g or "csrf_token" not in session:
        return generate_csrf()  # already signed for this request, or a new session token
    memo = _memo(current_app, _FORM_TOKENS)
    raw = session["csrf_token"]
    known = memo.get(raw)
    now = time.monotonic()
    if known is not None and now - known[1] < FORM_TOKEN_SECONDS:
        g.csrf_token = known[0]  # what generate_csrf() answers for the rest of the request
        return known[0]
    token = generate_csrf()
    memo.set(raw, (token, now))
    return token
