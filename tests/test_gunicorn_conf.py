"""gunicorn.conf.py: workers collect garbage between requests, never during one (issue 9: a
CPython 3.11 use-after-free, reached by a collection that starts inside an attribute store,
killed workers with SIGSEGV). `make bench` runs the load that used to kill them."""

from __future__ import annotations

import gc
import http.client
import runpy
import weakref
from pathlib import Path

from bench.infra import Gunicorn

ROOT = Path(__file__).resolve().parent.parent
CONF = runpy.run_path(str(ROOT / "gunicorn.conf.py"))


class _Node:
    pass


def test_a_collection_between_requests_frees_the_cycles_of_the_request():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        node = _Node()
        node.me = node  # a cycle: only the garbage collector frees it
        alive = weakref.ref(node)
        del node
        young = [_Node() for _ in range(1000)]  # past the youngest generation's threshold
        assert alive() is not None  # no automatic collection meanwhile
        assert CONF["collect_between_requests"]() == 0
        assert alive() is None
        assert CONF["collect_between_requests"]() is None  # nothing new: nothing to do
        del young
    finally:
        if was_enabled:
            gc.enable()


def _get(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/")
    body = conn.getresponse().read().decode()
    conn.close()
    return body


def test_gunicorn_workers_started_from_the_project_folder_collect_between_requests():
    with Gunicorn("tests.gc_probe:app", workers=1) as server:
        first = _get(server.port)
        second = _get(server.port)
    assert first.startswith("enabled=False")
    # The 5,000 cycles the first request left were collected after it, before the second.
    assert int(second.split("young=")[1]) < 700
    assert server.worker_deaths() == []
