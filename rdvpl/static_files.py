"""Static files: compressed, and cached by browsers for a year under versioned URLs.

WhiteNoise serves ``/static/`` in front of Flask: gzip when the browser accepts it (from a
compressed copy made once, at start-up, under ``instance/static/``), ETag and Last-Modified.
``url_for('static', filename=...)`` adds ``?v=<content hash>``: a URL names one content forever,
so the browser keeps it a year without asking again (``immutable``), and a changed file gets a
new URL. Files under ``vendor/`` carry their version in their folder name (dsfr-1.15.3), so the
fonts and icons the DSFR stylesheet loads by relative URL are immutable too. Any other URL is
revalidated on each use (``no-cache``: a 304 when unchanged).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

from flask import Flask
from whitenoise import WhiteNoise

ONE_YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
# Text formats worth compressing (fonts and images are compressed already).
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".map", ".txt", ".md", ".ico"}


def init_app(app: Flask) -> None:
    source = Path(app.static_folder)
    versions, files = _prepared(source, Path(app.instance_path) / "static",
                                       app.static_url_path.rstrip("/") + "/")

    @app.url_defaults
    def _versioned_static(endpoint, values):
        if endpoint == "static" and "v" not in values:
            version = versions.get(values.get("filename", ""))
            if version:
                values["v"] = version

    prefix = app.static_url_path.rstrip("/") + "/"
    served = WhiteNoise(app.wsgi_app, max_age=None, allow_all_origins=False)
    served.files = files
    from . import SECURITY_HEADERS  # WhiteNoise answers before Flask: nosniff matters most here

    app.wsgi_app = _CacheControl(served, prefix, versions, list(SECURITY_HEADERS))


@functools.cache
def _prepared(source: Path, build: Path, prefix: str) -> tuple[dict, dict]:
    """Hash, compress and index the ~1,000 static files once per process, whatever the number
    of apps it creates (the test suite creates one per test; a worker, one). A file changed
    while a process runs is seen by the next process (a restart), as in production."""
    versions = {path: digest[:12] for path, digest in _digests(source).items()}
    _compressed_copy(source, build)
    index = WhiteNoise(None, root=str(build), prefix=prefix, max_age=None,
                       allow_all_origins=False)
    return versions, index.files


class _CacheControl:
    """Sets Cache-Control on static responses from the URL's ``v``: the current content hash of
    that file (or a vendor path) is immutable for a year; anything else is revalidated."""

    def __init__(self, app, prefix: str, versions: dict[str, str], extra: list):
        self.app, self.prefix, self.versions, self.extra = app, prefix, versions, extra

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return self.app(environ, start_response)
        name = path[len(self.prefix):]
        given = parse_qs(environ.get("QUERY_STRING", "")).get("v", [None])[0]
        immutable = name.startswith("vendor/") or (
            given is not None and given == self.versions.get(name))

        def start(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != "cache-control"]
            headers.append(("Cache-Control", IMMUTABLE if immutable else "no-cache"))
            headers.extend(self.extra)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _files(root: Path):
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            yield path.relative_to(root).as_posix(), path


def _digests(root: Path) -> dict[str, str]:
    return {rel: hashlib.sha256(path.read_bytes()).hexdigest() for rel, path in _files(root)}


def _compressed_copy(source: Path, build: Path) -> Path:
    """Mirror ``source`` into ``build`` with a ``.gz`` beside each text file. Only files whose
    size or time changed are copied again, so a restart costs a few stat() calls; writes go
    through a temporary file and a rename, so workers starting together never see half a file."""
    for rel, path in _files(source):
        target = build / rel
        stat = path.stat()
        try:
            current = target.stat()
            if current.st_size == stat.st_size and current.st_mtime == stat.st_mtime:
                continue
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        if path.suffix in COMPRESSIBLE:
            _write_atomically(target.with_name(target.name + ".gz"),
                              gzip.compress(data, compresslevel=9, mtime=0), stat)
        _write_atomically(target, data, stat)
    return build


def _write_atomically(target: Path, data: bytes, stat: os.stat_result) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.utime(temporary, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
