"""A bounded HTTP load on 127.0.0.1: a fixed number of requests from a few threads (no `ab`).

Also signs in through the real login form (CSRF token included), so that the load hits the
pages a BER agent sees, under gunicorn exactly as in production.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field

CONCURRENCY = 8


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # connection resets, truncated answers
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: float | None = None  # the server workers' CPU per request, when measured

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return len(self.errors) + sum(n for s, n in self.statuses.items() if s != 200)


def sign_in(port: int, email: str, password: str) -> str:
    """The session cookie ("session=...") of a user signed in through /connexion."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", "/connexion")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = _cookie(response)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = (f"csrf_token={token}&email={email}&password={password}").encode()
    conn.request("POST", "/connexion", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        conn.close()
        raise RuntimeError(f"sign-in of {email} answered {response.status}")
    cookie = _cookie(response) or cookie
    # The first page after the sign-in adds the form token to the session cookie; a browser
    # keeps the new cookie, and so does the load (else every request would write it again).
    conn.request("GET", response.getheader("Location") or "/", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    conn.close()
    return _cookie(response) or cookie


def _cookie(response) -> str:
    header = response.getheader("Set-Cookie") or ""
    return header.split(";", 1)[0]


def run(port: int, paths: list[str], *, concurrency: int = CONCURRENCY, cookie: str = "",
        timeout: float = 60) -> LoadResult:
    """GET every path of ``paths`` once (in order, shared by ``concurrency`` threads, each on
    its own keep-alive-less connection as `ab` does without -k)."""
    lock = threading.Lock()
    queue = list(reversed(paths))
    result = LoadResult(requests=len(paths), seconds=0.0)
    headers = {"Cookie": cookie} if cookie else {}

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    result.errors.append(f"{path}: {exc!r}")
                continue
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
                result.latencies_ms.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    return result
