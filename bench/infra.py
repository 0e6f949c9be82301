"""Databases the benchmark creates and drops, and gunicorn servers it starts and watches."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# The Redis the grid cache is also timed with, when it answers (a database of its own).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@contextlib.contextmanager
def postgresql_database(prefix: str = "rdvpl_bench"):
    """A fresh PostgreSQL database URL, dropped on exit (whatever happened)."""
    url = make_url(PG_SERVER)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def postgresql_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_SERVER)
        engine.connect().close()
        engine.dispose()
        return True
    except Exception:
        return False


def redis_reachable() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def sqlite_database():
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.sqlite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# gunicorn's words when a worker dies of a signal or exits with an error.
WORKER_DEATH = re.compile(
    r"Worker \(pid:\d+\) was sent (SIG\w+)|Worker \(pid:\d+\) exited with code \d+"
    r"|WORKER TIMEOUT|Fatal Python error|Segmentation fault")


class Gunicorn:
    """``gunicorn <app>`` with ``workers`` sync workers on 127.0.0.1, its log kept in a file."""

    def __init__(self, app: str, *, workers: int = 2, env: dict | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.port = free_port()
        self.log_path = Path(tempfile.mkstemp(prefix="rdvpl-bench-gunicorn-", suffix=".log")[1])
        self.app = app
        self.workers = workers
        self.env = {**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})}
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "120",
             *self.extra_args, self.app],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start:\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not listen within 30 s:\n{self.log()}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def workers_cpu(self) -> float | None:
        """CPU seconds (user + system) the workers have used so far: the server's own cost,
        without the load generator's (Linux /proc; None elsewhere)."""
        try:
            pid = self.process.pid
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            ticks = 0
            for child in children:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
            return ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_deaths(self) -> list[str]:
        """The log lines saying that a worker died (empty when every worker lived)."""
        return [line for line in self.log().splitlines() if WORKER_DEATH.search(line)]
