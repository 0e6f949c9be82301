"""A WSGI app for tests/test_gunicorn_conf.py: reports the worker's garbage collector state,
then leaves cyclic garbage behind (what an ORM request does)."""

import gc


class _Cycle:
    def __init__(self):
        self.me = self


def app(environ, start_response):
    body = f"enabled={gc.isenabled()} young={gc.get_count()[0]}".encode()
    for _ in range(5000):
        _Cycle()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
