"""Benchmark: time to serve the two BER week grids for departments of growing size.

Prints, for each size, the SQL statements and the median and slowest response times of the
planning grid (BER 1) and of the unit grid (BER 4), full page and htmx fragment. It asserts
nothing: run it to compare figures before and after a change.

    .venv/bin/python -m bench.grids            # SQLite in a temporary file
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.grids
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time

import sqlalchemy as sa

from rdvpl import create_app, dates
from rdvpl.extensions import db
from rdvpl.models import Tranche
from rdvpl.seed import seed_demo
from tests.helpers import AGENT_PASSWORD, department_with

SIZES = (10, 50, 200)  # inspectors in the department
REPEAT = 15


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    if url:
        run(url)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.sqlite")


def run(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "MAIL_DELIVERY": "off", "TESTING": True})
    monday = dates.monday_of(dates.today()) + dt.timedelta(weeks=5)
    week = [(monday + dt.timedelta(days=d), t) for d in range(5) for t in Tranche]
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_demo()
        agents = {n: department_with(n, f"9{i:02d}", week, reserve_first=True)
                  for i, n in enumerate(SIZES)}
        engine = db.engine

    pages = {
        "planning page": ("/ber/planification", {"date": dates.ddmmyyyy(monday)}, {}),
        "planning htmx": ("/ber/planification", {"date": dates.ddmmyyyy(monday)},
                          {"HX-Request": "true"}),
        "unit grid page": ("/ber/creneaux", {"date": dates.ddmmyyyy(monday)}, {}),
        "unit grid htmx": ("/ber/creneaux", {"date": dates.ddmmyyyy(monday)},
                           {"HX-Request": "true"}),
    }
    print(f"database: {engine.url.get_backend_name()}; {len(week)} sessions per inspector "
          f"in the week, first unit of each reserved; {REPEAT} requests each")
    print(f"{'inspectors':>10}  {'screen':<15} {'statements':>10} {'median ms':>10} "
          f"{'max ms':>8} {'KiB':>6}")
    for n, email in agents.items():
        client = app.test_client()
        client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
        for label, (path, query, headers) in pages.items():
            client.get(path, query_string=query, headers=headers)  # warm-up
            statements = []

            def count(*_args, found=statements):
                found.append(1)

            sa.event.listen(engine, "before_cursor_execute", count)
            timings = []
            for _ in range(REPEAT):
                statements.clear()
                start = time.perf_counter()
                response = client.get(path, query_string=query, headers=headers)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (label, response.status_code)
            sa.event.remove(engine, "before_cursor_execute", count)
            print(f"{n:>10}  {label:<15} {len(statements):>10} "
                  f"{statistics.median(timings):>10.1f} {max(timings):>8.1f} "
                  f"{len(response.data) / 1024:>6.0f}")


if __name__ == "__main__":
    main()
