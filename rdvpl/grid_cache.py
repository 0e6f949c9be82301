"""Rendered grid fragments (the rows of "Gérer les créneaux" and of the planning grid, the
summary of unassigned units, the inspector filter), cached under the department's grid
revision (rdvpl/revision.py).

A department's grid revision is increased in the very transaction of every change its grids
show, so a cache key holding the revision read at the start of the request can never name
rows older than the last committed change: the next request after a change reads the new
revision, misses, and renders from the database. Nothing is ever deleted on a change; entries
of old revisions simply stop being asked for and age out (LRU, or Redis' TTL).

A key is (department, revision, kind, and EVERYTHING else the fragment depends on): the week,
the filters, the inspectors of the chunk, the ticked units or cells, the focused unit, the
URL prefixes, the actor's favourites where they change the fragment, and the clock
(``clock_key``: past units and today's started units render differently).

Backends: an LRU per process (each gunicorn worker has its own) by default; Redis, shared by
every worker, when ``GRID_CACHE_URL`` (or ``REDIS_URL``) is set, e.g. redis://127.0.0.1:6379/1,
with each process' LRU in front of it: an entry never changes under its key (the key names the
revision and everything else the fragment depends on), so a copy kept by a worker is as good as
Redis' and saves the round trip and the decoding. ``GRID_CACHE_URL=off`` disables the cache.
A Redis failure is logged and the page rendered from the database: the cache can make a page
faster, never wrong or broken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, make_response, request
from markupsafe import Markup
from sqlalchemy import inspect

from . import dates, revision
from .extensions import db
from .request_memo import BoundedMemo, form_token
from .sessions import planning_horizon

log = logging.getLogger(__name__)

DEFAULT_SIZE = 2048  # entries per process: a department's weeks x filters x chunks, small HTML
DEFAULT_MAX_MB = 64  # and at most this much HTML per process (a whole page is up to ~120 KiB)
REDIS_TTL = 24 * 3600  # seconds: entries of old revisions expire by themselves
PREFIX = "rdvpl:grid:v2:"  # v2: whole pages are kept as PageBody ({"page": true})
# Set in the request's environ by accounts.load_session: the signed-in user (with its
# department's revision) was read by this very request.
LOADED_IN_REQUEST = "rdvpl.user_loaded"


# Rendered in place of the CSRF token in a cached page, replaced by the request's own token
# each time the page is served.
CSRF_PLACEHOLDER = "rdvpl-csrf-token-of-the-request"
PAGE = "page"  # the fact that marks a whole page's entry (its HTML is a PageBody)


class PageBody:
    """A cached page kept as the UTF-8 bytes around its CSRF placeholders: serving it joins
    them with the request's token, instead of replacing the token in the page's text and
    encoding the whole text again on every request (a third of a millisecond for 110 KiB)."""

    __slots__ = ("chunks", "size")

    def __init__(self, html: str):
        self.chunks = [part.encode() for part in html.split(CSRF_PLACEHOLDER)]
        self.size = sum(len(chunk) for chunk in self.chunks)

    def __len__(self) -> int:
        return self.size

    def __str__(self) -> str:
        """The page as rendered, placeholders included (what Redis stores)."""
        return CSRF_PLACEHOLDER.join(chunk.decode() for chunk in self.chunks)

    def with_token(self, token: str) -> bytes:
        return token.encode().join(self.chunks)


def _weight(value) -> int:
    """What an entry ``(html, facts)`` holds, in characters of HTML (the facts are a few
    numbers)."""
    return len(value[0]) + 64


class LocalCache(BoundedMemo):
    """A thread-safe LRU (one per gunicorn worker) of at most ``size`` entries and ``max_mb``
    megabytes of HTML, the least recently used dropped first."""

    def __init__(self, size: int = DEFAULT_SIZE, max_mb: float = DEFAULT_MAX_MB):
        super().__init__(size)
        self.max_chars = int(max_mb * 1024 * 1024)
        self.chars = 0

    def set(self, key: str, value) -> None:
        weight = _weight(value)
        if weight > self.max_chars:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.chars -= _weight(old)
            self._entries[key] = value
            self.chars += weight
            while len(self._entries) > self.size or self.chars > self.max_chars:
                _, dropped = self._entries.popitem(last=False)
                self.chars -= _weight(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.chars = 0


class RedisCache:
    """Entries in Redis (JSON), shared by every worker and server, expiring after a day."""

    def __init__(self, url: str, ttl: int = REDIS_TTL):
        import redis

        self.ttl = ttl
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str):
        try:
            raw = self._redis.get(key)
        except Exception as error:  # noqa: BLE001 - a cache outage must not break a page
            log.warning("grid cache: Redis read failed (%s); rendering from the database", error)
            return None
        if raw is None:
            return None
        html, facts = json.loads(raw)
        return (PageBody(html) if facts.get(PAGE) else Markup(html)), facts

    def set(self, key: str, value) -> None:
        html, facts = value
        try:
            self._redis.set(key, json.dumps([str(html), facts]), ex=self.ttl)
        except Exception as error:  # noqa: BLE001
            log.warning("grid cache: Redis write failed (%s)", error)

    def clear(self) -> None:
        try:
            for key in self._redis.scan_iter(f"{PREFIX}*"):
                self._redis.delete(key)
        except Exception as error:  # noqa: BLE001
            log.warning("grid cache: Redis clear failed (%s)", error)


class TieredCache:
    """The process' LRU in front of Redis: a hit in the LRU costs no round trip; a miss asks
    Redis (filled by any worker) and keeps what it finds."""

    def __init__(self, near: LocalCache, far: RedisCache):
        self.near = near
        self.far = far

    def get(self, key: str):
        value = self.near.get(key)
        if value is None:
            value = self.far.get(key)
            if value is not None:
                self.near.set(key, value)
        return value

    def set(self, key: str, value) -> None:
        self.near.set(key, value)
        self.far.set(key, value)

    def clear(self) -> None:
        """Empties this process' LRU and Redis (other processes' LRUs are emptied by nothing
        but age: tests and the bench use one process, or a fresh revision)."""
        self.near.clear()
        self.far.clear()


class NoCache:
    def get(self, key: str):
        return None

    def set(self, key: str, value) -> None:
        pass

    def clear(self) -> None:
        pass




def init_app(app: Flask) -> None:
    @app.context_processor
    def _csrf_placeholder():
        return {"csrf_token": _placeholder} if g.get("grid_cache_page") else {}

    url = app.config.get("GRID_CACHE_URL") or ""
    local = LocalCache(int(app.config.get("GRID_CACHE_SIZE") or DEFAULT_SIZE),
                       float(app.config.get("GRID_CACHE_MAX_MB") or DEFAULT_MAX_MB))
    if url == "off":
        backend = NoCache()
    elif url.startswith(("redis://", "rediss://", "unix://")):
        backend = TieredCache(local, RedisCache(url))
    else:
        backend = local
    app.extensions["grid_cache"] = backend

    @app.after_request
    def _committed_revision(response):
        """The answer to a request that changed the agent's department's grids says the
        revision it committed (X-Grid-Committed): the page adopts it when it was one behind,
        instead of refreshing its grid for its own change (app.js, live grids)."""
        written = revision.committed_revisions(db.session()) if db.session.registry.has() \
            else {}
        if written:  # else nothing committed, and no SQL either
            # The user was loaded again by the answer's page, after the commit.
            department_id = getattr(g.get("_login_user"), "department_id", None)
            if department_id in written:
                response.headers["X-Grid-Committed"] = str(written[department_id])
        return response


def backend():
    return current_app.extensions["grid_cache"]


def grid_revision(department_id: int) -> int:
    """The department's grid revision, read once per request, before any grid data: rows
    rendered later in the request are at least as new as the revision they are stored under."""
    # Kept in the request's environ, not in ``g``: ``g`` belongs to the application context,
    # which outlives the request when one was pushed around it (tests, scripts).
    read = request.environ.setdefault("rdvpl.grid_revisions", {}) if has_request_context() \
        else {}
    if department_id not in read:
        read[department_id] = _signed_in_department_revision(department_id)
        if read[department_id] is None:
            read[department_id] = revision.current(department_id)
    return read[department_id]


def _signed_in_department_revision(department_id: int) -> int | None:
    """The revision of the signed-in user's department (an agent's, or a school's) as loaded
    with the user at the start of the request (accounts.load_session: the request's first
    statement, so before any grid data), or None when it is not at hand (another department,
    or not loaded)."""
    user = g.get("_login_user")
    if user is None or not hasattr(user, "_sa_instance_state") \
            or not request.environ.get(LOADED_IN_REQUEST):
        return None  # not loaded by this request (an application context kept across requests)
    owner = user
    if getattr(user, "auto_ecole_id", None) is not None:
        if "auto_ecole" in inspect(user).unloaded or user.auto_ecole is None:
            return None
        owner = user.auto_ecole
    if getattr(owner, "department_id", None) != department_id \
            or "department" in inspect(owner).unloaded:
        return None
    department = owner.department
    if department is None or "grid_revision" in inspect(department).unloaded:
        return None
    return department.grid_revision or 0


def clock_key(first: dt.date, last: dt.date, *, now: dt.datetime | None = None,
              to_the_minute: bool = True) -> str:
    """What of the clock a fragment of the days ``first``..``last`` depends on: nothing for
    days all past or all ahead; for a span holding today, today's date and (units start on
    whole minutes, "past" from their first minute) the current minute; for a span reaching
    beyond the planning horizon, today's date (a day more opens each day)."""
    wall = dates.paris_wall_clock(now)
    if last < wall.date():
        return "past"
    if first > wall.date():
        # Days beyond the planning horizon (a year ahead) open one by one as the days pass.
        return "ahead" if last <= planning_horizon(wall.date()) else f"ahead of {wall:%Y-%m-%d}"
    return f"{wall:%Y-%m-%dT%H:%M}" if to_the_minute else f"{wall:%Y-%m-%d}"


def make_key(department_id: int, kind: str, parts) -> str:
    """The cache key: department, its grid revision (read now if not yet in this request),
    the kind of fragment, and a digest of everything else it depends on."""
    rev = grid_revision(department_id)
    digest = hashlib.blake2b(json.dumps(parts, default=str, sort_keys=True).encode(),
                             digest_size=16).hexdigest()
    return f"{PREFIX}{department_id}:{rev}:{kind}:{digest}"


def cached(department_id: int, kind: str, parts, build: Callable[[], tuple[str, dict]]
           ) -> tuple[Markup, dict]:
    """The fragment ``(html, facts)`` of ``kind`` for ``parts``: from the cache, else built
    (``build`` renders it and returns the few facts the page needs besides the HTML, as
    JSON-able values) and stored."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        # A write request answers after its commit: it renders from the database (the
        # revision it would key by may predate its own change).
        html, facts = build()
        return Markup(html), facts
    key = make_key(department_id, kind, parts)
    store = backend()
    hit = store.get(key)
    if hit is not None:
        return hit
    html, facts = build()
    value = (Markup(html), facts)
    store.set(key, value)
    return value


def _placeholder() -> str:
    return CSRF_PLACEHOLDER


def page(department_id: int, kind: str, parts, render: Callable[[], Response]) -> Response:
    """A whole GET page (or the fragment an htmx request asks for) from the cache: keyed like
    ``cached`` by ``parts`` (what the page depends on besides the URL), plus the URL, the
    htmx headers that choose between page and fragment, and the signed-in user as the header
    names them; rendered with a placeholder for the CSRF token, which is replaced by the
    request's own token each time it is served. Anything but a 200 is not cached."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return render()
    user = g.get("_login_user")
    who = [getattr(user, "id", None), getattr(user, "display_name", None),
           getattr(user, "department_id", None), getattr(user, "auto_ecole_id", None)]
    if getattr(user, "auto_ecole", None) is not None:
        who.append(user.auto_ecole.raison_sociale)
    if getattr(user, "department", None) is not None:
        who.append(user.department.code)
    headers = [request.headers.get(name) for name in
               ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")]
    key = make_key(department_id, kind, [request.full_path, request.script_root, headers, who,
                                         parts])
    store = backend()
    hit = store.get(key)
    if hit is None:
        g.grid_cache_page = True
        try:
            response = render()
        finally:
            g.grid_cache_page = False
        if response.status_code != 200 or response.direct_passthrough:
            return _with_token(response)
        hit = (PageBody(response.get_data(as_text=True)), {PAGE: True})
        store.set(key, hit)
    return make_response(hit[0].with_token(form_token()))


def _with_token(response: Response) -> Response:
    if not response.direct_passthrough and CSRF_PLACEHOLDER.encode() in response.get_data():
        response.set_data(response.get_data(as_text=True).replace(CSRF_PLACEHOLDER,
                                                                  form_token()))
    return response


def cached_value(department_id: int, kind: str, parts, build: Callable[[], Any]) -> Any:
    """A plain JSON-able value (not HTML) under the same keys and rules as ``cached``."""
    html, facts = cached(department_id, kind, parts, lambda: ("", {"value": build()}))
    return facts["value"]
