"""End-to-end fixtures: a live rdvpl server (its own process, real HTTP), a real SMTP sink
(aiosmtpd) it delivers to, and Chromium driven by Playwright at tablet size (768x1024).

Chromium: Debian's /usr/bin/chromium when present (CI, this machine), else Playwright's own
browser (a developer laptop after ``playwright install chromium``). Without any browser the
tests are skipped, and RDVPL_STRICT=1 (CI) turns that skip into a failure.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.mailsink import MailSink, free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TABLET = {"width": 768, "height": 1024}
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def mail_sink():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def server_env(tmp_path_factory, mail_sink):
    database = os.environ.get("E2E_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'rdvpl-e2e.sqlite'}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": "e2e-secret",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_sink.port),
        "MAIL_DELIVERY": "thread",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return env


@pytest.fixture(scope="session")
def live_server(server_env, tmp_path_factory):
    """The app served over HTTP by its own process, as in production."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--no-reload",
             "--with-threads", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("live server did not start:\n" + log.read_text()) from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _seed_demo(server_env) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "seed-demo", "--reset"],
        cwd=ROOT, env=server_env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


def _sqlite_path(url: str) -> str | None:
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None


@pytest.fixture(scope="session")
def demo_snapshot(server_env, live_server, tmp_path_factory):
    """The demo data seeded once per run; on SQLite, a copy of the database to restore before
    each test (the SQLite backup API, through the server's own locking: ~50 ms instead of a
    ~2 s ``seed-demo --reset`` process per test). None on another database."""
    _seed_demo(server_env)
    live = _sqlite_path(server_env["DATABASE_URL"])
    if live is None:
        return None
    snapshot = tmp_path_factory.mktemp("snapshot") / "demo.sqlite"
    with closing(sqlite3.connect(live, timeout=10)) as source, \
            closing(sqlite3.connect(snapshot)) as copy:
        source.backup(copy)
    return snapshot


_restores = itertools.count(1)


@pytest.fixture
def demo_db(server_env, live_server, mail_sink, demo_snapshot):
    """Reload the demo data before each test and empty the mailbox. Each reload also moves every
    department's grid revision forward, as a real change would: whatever the server keeps
    under a revision (cached grid rows, open pages' polling) never outlives a reload."""
    if demo_snapshot is None:
        _seed_demo(server_env)
    else:
        live = _sqlite_path(server_env["DATABASE_URL"])
        with closing(sqlite3.connect(demo_snapshot)) as source, \
                closing(sqlite3.connect(live, timeout=10)) as target:
            source.backup(target)
            target.execute("UPDATE department SET grid_revision = grid_revision + ?",
                           (1_000_000 * next(_restores),))
            target.commit()
    mail_sink.clear()
    return live_server


@pytest.fixture(scope="session")
def gunicorn_server(server_env):
    """The app under gunicorn as in production: started from the project folder (so that it
    reads gunicorn.conf.py) with 2 sync workers, on the e2e database. Yields its URL."""
    from bench.infra import Gunicorn

    with Gunicorn("app:app", workers=2, env=server_env) as server:
        deadline = time.monotonic() + 30
        while server.log().count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.log().count("Booting worker") == 2, server.log()
        yield f"http://127.0.0.1:{server.port}"
        assert server.worker_deaths() == [], server.log()


@pytest.fixture
def gunicorn_db(demo_db, gunicorn_server):
    """The demo data reloaded (demo_db: the database both servers share), served by
    gunicorn_server: returns its URL."""
    return gunicorn_server


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        pytest.skip("playwright is not installed")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(
                headless=True,
                executable_path=executable,  # None: Playwright's own browser
                args=CHROMIUM_ARGS,
            )
        except Exception as exc:  # no browser at all on this machine
            pytest.skip(f"no Chromium available: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, demo_db, request):
    """Open a fresh tablet-sized browser context (a separate user); returns its page.
    ``options`` go to Playwright's new_context (the accessibility audit passes bypass_csp)."""
    contexts = []

    def make(**options):
        context = browser.new_context(viewport=TABLET, has_touch=True, locale="fr-FR",
                                      timezone_id="Europe/Paris", base_url=demo_db, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None)
    for i, context in enumerate(contexts):
        if failed is not None and failed.failed and context.pages:
            ARTIFACTS.mkdir(exist_ok=True)
            context.pages[0].screenshot(path=ARTIFACTS / f"{request.node.name}-{i}.png",
                                        full_page=True)
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
