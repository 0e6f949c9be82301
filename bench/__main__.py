"""make bench: the figures of SPEC "Scale and speed" at department and national scale.

    .venv/bin/python -m bench               # department scale: SQLite, then PostgreSQL + gunicorn
    .venv/bin/python -m bench --national    # and the national scale (100 departments)

Figures, not pass/fail, with two exceptions: if a gunicorn worker dies (SIGSEGV or any other
signal or error exit) during the load, the run prints the worker's log and exits with status 1;
if any request of a load run answers anything but 200, it exits with status 1 too.
Every database is created for the run and dropped at the end (PostgreSQL at BENCH_PG_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/postgres; SQLite in a temporary folder).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version

import sqlalchemy as sa

from bench import dataset, infra, load

REPEAT = 12  # timed requests per page (after 2 warm-ups)


@dataclass
class Page:
    label: str
    path: str
    fragment: bool = False  # an htmx request (HX-Request: true)
    as_school: bool = False  # signed in as the busiest school's user, not the BER agent


@dataclass
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float
    kib: float
    statements: int
    status: int
    cold_ms: float  # median with the grid cache emptied before each request (a miss)
    cold_statements: int


def main() -> int:
    # The app refuses to start without a key outside debug; the bench's apps and gunicorns
    # (which inherit the environment) share this throwaway one.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true",
                        default=os.environ.get("SCALE") == "national",
                        help="also build and time the national scale (100 departments)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    args = parser.parse_args()
    logging.getLogger("rdvpl").setLevel(logging.WARNING)  # the outbox logs each queued mail

    print(f"rdvpl bench, {dt.datetime.now():%Y-%m-%d %H:%M}; Python {platform.python_version()},"
          f" SQLAlchemy {version('sqlalchemy')}, Flask {version('flask')}, psycopg "
          f"{version('psycopg')}, gunicorn {version('gunicorn')}; {os.cpu_count()} CPU(s), load "
          f"average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"department: {dataset.INSPECTORS} inspectors, {dataset.CENTRES} centres, "
          f"{dataset.WEEKS} weeks x 20 sessions, {dataset.SCHOOLS} schools, "
          f"{dataset.RESERVED_SHARE:.0%} of units reserved. Server time = in-process request, "
          f"median [min-max] of {REPEAT}.")
    department_pg: dict[str, Timing] = {}
    failed = False
    if not args.no_sqlite:
        with infra.sqlite_database() as url:
            app, built = _build(url, 1, "SQLite, department")
            _print_pages(_time_pages(app, built))
            _dispose(app)
    if not infra.postgresql_reachable():
        print(f"\nPostgreSQL is not reachable at {infra.PG_SERVER}: PostgreSQL runs skipped.")
        return 0
    with infra.postgresql_database() as url:
        app, built = _build(url, 1, "PostgreSQL, department")
        department_pg = _time_pages(app, built)
        _print_pages(department_pg)
        _reserve(app, built)
        _export(url, built)
        failed = not _throughput(url, built, department_pg)
        if args.national:
            # Built beside the department-only database, and timed in turns with it, request
            # by request: the machine's speed varies by up to 2x within minutes, so tables
            # timed one after the other would compare the machine's moments, not the data.
            with infra.postgresql_database() as national_url:
                national_app, national_built = _build(national_url, 100, "PostgreSQL, national")
                national, department_again = _time_side_by_side(
                    [(national_app, national_built), (app, built)])
                _print_pages(national, compare=department_again)
                _reserve(national_app, national_built)
                _dispose(national_app)
        _dispose(app)
    if not args.national:
        print("\nNational scale (100 departments, 3.84 M units): `make bench SCALE=national`.")
    if failed:
        print("\nFAILED: a gunicorn worker died or a request under load did not answer 200 "
              "(see above).")
        return 1
    return 0


def _build(url: str, departments: int, title: str):
    from rdvpl import create_app
    from rdvpl.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "MAIL_DELIVERY": "off"})
    start = time.perf_counter()
    with app.app_context():
        db.create_all()  # the models' schema (the tests prove the migrations build the same)
        built = dataset.build(db.engine, departments)
        db.session.remove()
    units = built.rows["unit"]
    print(f"\n== {title}: {departments} department(s), {units:,} units, "
          f"{built.rows['exam_session']:,} sessions; built in {time.perf_counter() - start:.1f} s")
    return app, built


def _dispose(app) -> None:
    from rdvpl.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _ids(app, built) -> dict:
    """Ids the partials need, in the first department's second week (all of it ahead)."""
    from rdvpl.extensions import db
    from rdvpl.models import Inspector, Session, Unit, User

    monday = built.first_monday + dt.timedelta(weeks=1)
    with app.app_context():
        agent = db.session.scalar(sa.select(User).where(
            User.email == built.agents[built.departments[0]]))
        in_week = (sa.select(Unit).join(Unit.session)
                   .where(Session.department_id == agent.department_id,
                          Session.date.between(monday, monday + dt.timedelta(days=5)))
                   .order_by(Unit.id))
        dispo = db.session.scalars(in_week.where(Unit.status == "dispo").limit(3)).all()
        reserved = db.session.scalar(in_week.where(Unit.status == "reserved").limit(1))
        session = db.session.get(Session, reserved.session_id)
        inspector = db.session.scalar(sa.select(Inspector).where(
            Inspector.department_id == agent.department_id).order_by(Inspector.id).limit(1))
        ids = {"monday": monday.strftime("%d/%m/%Y"), "dispo": [u.id for u in dispo],
               "reserved": reserved.id, "session": session.id, "inspector": inspector.id,
               "saturday": (monday + dt.timedelta(days=5)).isoformat()}
        db.session.remove()
    return ids


def pages(ids: dict) -> list[Page]:
    """Every page and partial timed, by URL (whatever the templates render)."""
    d = ids["monday"]
    ticked = "&".join(f"unit={i}" for i in ids["dispo"])
    cell = f"{ids['inspector']}|{ids['saturday']}|M1"
    return [
        Page("planning grid (BER 1)", f"/ber/planification?date={d}"),
        Page("unit grid, default filters", f"/ber/creneaux?date={d}"),
        Page("unit grid, CE", f"/ber/creneaux?date={d}&categorie=CE"),
        Page("unit grid, Tous", f"/ber/creneaux?date={d}&categorie=Tous"),
        Page("AE exams, busiest school", "/ae/examens", as_school=True),
        Page("partial: selection panel (3 units)", f"/ber/creneaux/selection?{ticked}",
             fragment=True),
        Page("partial: unit dialog", f"/ber/creneaux/unites/{ids['reserved']}", fragment=True),
        Page("partial: school search", "/ber/creneaux/auto-ecoles?q=Auto-%C3%A9cole+0",
             fragment=True),
        Page("partial: planning cell tick/panel",
             f"/ber/planification/selection?date={d}&cell={cell}", fragment=True),
        Page("partial: session dialog", f"/ber/planification/sessions/{ids['session']}",
             fragment=True),
    ]


class _PageTimer:
    """Times the pages and partials of one database's app, signed in as its first
    department's agent and busiest school, counting the SQL statements of each request."""

    def __init__(self, app, built):
        from rdvpl.extensions import db

        self.app = app
        self.pages = pages(_ids(app, built))
        code = built.departments[0]
        self.clients = {}
        for as_school, email in ((False, built.agents[code]),
                                 (True, built.busiest_school[code])):
            self.clients[as_school] = app.test_client()
            response = self.clients[as_school].post("/connexion", data={
                "email": email, "password": dataset.PASSWORD})
            assert response.status_code == 302, f"sign-in of {email}: {response.status_code}"
        with app.app_context():
            self.engine = db.engine
        self.statements = 0
        self.response = None

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.statements += 1

    def get(self, page: Page, *, cold: bool) -> float:
        """One request of ``page`` (``cold``: the grid cache emptied first): milliseconds."""
        client = self.clients[page.as_school]
        headers = {"HX-Request": "true"} if page.fragment else {}
        if cold:
            self.app.extensions["grid_cache"].clear()
        self.statements = 0
        start = time.perf_counter()
        self.response = client.get(page.path, headers=headers)
        return (time.perf_counter() - start) * 1000


def _time_pages(app, built) -> dict[str, Timing]:
    return _time_side_by_side([(app, built)])[0]


def _time_side_by_side(databases: list) -> list[dict[str, Timing]]:
    """Each page and partial of every database in ``databases`` ([(app, built)]): the
    databases take turns request by request, so that they meet the machine's same moments."""
    timers = [_PageTimer(app, built) for app, built in databases]
    results: list[dict[str, Timing]] = [{} for _ in timers]
    with contextlib.ExitStack() as stack:
        for timer in timers:
            stack.enter_context(timer)
        for index in range(len(timers[0].pages)):
            cold = [[] for _ in timers]
            warm = [[] for _ in timers]
            cold_statements = [0 for _ in timers]
            for timer in timers:
                for _ in range(2):
                    timer.get(timer.pages[index], cold=False)
            for _ in range(REPEAT):  # cold: every request misses the grid cache
                for n, timer in enumerate(timers):
                    cold[n].append(timer.get(timer.pages[index], cold=True))
                    cold_statements[n] = timer.statements
            for timer in timers:
                timer.get(timer.pages[index], cold=False)
            for _ in range(REPEAT):  # warm: served from the grid cache where it applies
                for n, timer in enumerate(timers):
                    warm[n].append(timer.get(timer.pages[index], cold=False))
            for n, timer in enumerate(timers):
                page, response = timer.pages[index], timer.response
                results[n][page.label] = Timing(
                    statistics.median(warm[n]), min(warm[n]), max(warm[n]),
                    len(response.data) / 1024, timer.statements, response.status_code,
                    statistics.median(cold[n]), cold_statements[n])
    return results


def _print_pages(results: dict[str, Timing], compare: dict[str, Timing] | None = None) -> None:
    extra = f" {'vs dept, cold / warm':>21}" if compare else ""
    print("warm: the grid cache filled by earlier requests; cold: emptied before each request"
          + ("; vs dept: this time over the department-only database's, the two timed in "
             "turns request by request (cold: the reading of the data; warm: one statement, "
             "whatever the data)" if compare else ""))
    print(f"{'page or partial':<38} {'warm ms':>8} {'[min-max]':>15} {'cold ms':>8} {'KiB':>7} "
          f"{'SQL':>7} {'HTTP':>4}{extra}")
    for label, t in results.items():
        ratio = ""
        if compare and label in compare:
            ratio = (f" {t.cold_ms / compare[label].cold_ms:>11.2f}x / "
                     f"{t.median_ms / compare[label].median_ms:.2f}x")
        sql = f"{t.statements}/{t.cold_statements}"
        print(f"{label:<38} {t.median_ms:>8.1f} {f'[{t.min_ms:.1f}-{t.max_ms:.1f}]':>15} "
              f"{t.cold_ms:>8.1f} {t.kib:>7.1f} {sql:>7} {t.status:>4}{ratio}")


def _reserve(app, built) -> None:
    """booking.reserve_units for 4 Dispo AE units of one session, REPEAT times (domain call)."""
    from rdvpl import booking
    from rdvpl.extensions import db
    from rdvpl.models import AutoEcole, Session, Unit, User

    code = built.departments[0]
    timings = []
    with app.app_context():
        agent_id = db.session.scalar(sa.select(User.id).where(User.email == built.agents[code]))
        department_id = db.session.get(User, agent_id).department_id
        school_id = db.session.scalar(sa.select(AutoEcole.id).where(
            AutoEcole.department_id == department_id).limit(1))
        # Sessions far ahead whose 4 units are all Dispo AE.
        free = (sa.select(Unit.session_id).join(Unit.session)
                .where(Session.department_id == department_id,
                       Session.date >= built.first_monday + dt.timedelta(weeks=2))
                .group_by(Unit.session_id)
                .having(sa.func.count() == sa.func.sum(
                    sa.case((Unit.status == "dispo", 1), else_=0)))
                .having(sa.func.count() == 4).limit(REPEAT))
        sessions = db.session.scalars(free).all()
        db.session.remove()
    for session_id in sessions:
        with app.app_context():
            ids = db.session.scalars(sa.select(Unit.id).where(Unit.session_id == session_id)).all()
            agent = db.session.get(User, agent_id)
            start = time.perf_counter()
            booking.reserve_units(agent, ids, school_id)
            timings.append((time.perf_counter() - start) * 1000)
            db.session.remove()
    if timings:
        print(f"reserve 4 units (booking.reserve_units, {len(timings)} runs): median "
              f"{statistics.median(timings):.1f} ms [{min(timings):.1f}-{max(timings):.1f}]")


def _export(url: str, built) -> None:
    code = built.departments[0]
    weeks = 6
    day = (built.first_monday + dt.timedelta(weeks=1)).strftime("%d/%m/%Y")
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_probe", url, built.agents[code], dataset.PASSWORD,
         day, str(weeks)], cwd=infra.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"export: failed\n{done.stderr[-2000:]}")
        return
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"export {weeks} weeks x {dataset.INSPECTORS} inspectors (.xlsx, {r['bytes'] / 1024:.0f}"
          f" KiB): {r['seconds'] * 1000:.0f} ms; memory: {r['traced_peak_mb']:.1f} MB traced peak"
          f" during one export; the probe process' memory {r['rss_before_mb']:.0f} MB before "
          f"the first export, {r['rss_after_mb']:.0f} MB after 5, max RSS {r['max_rss_mb']:.0f}"
          f" MB ({r['app_rss_mb']:.0f} MB before any export: the app, its libraries and locale "
          f"data, and the sign-in's scrypt)")


GRIDS = ["planning grid (BER 1)", "unit grid, Tous", "unit grid, CE", "AE exams, busiest school"]
LOAD_REQUESTS = 400  # per page and round, after WARM_UP untimed ones
HELLO_REQUESTS = 1500  # per round
ROUNDS = 3  # hello and every page in turn, so that the machine's ups and downs hit both alike
WARM_UP = 40  # untimed requests first: both workers have opened their connections and, for
              # the warm runs, filled their own cache with the page


def _throughput(url: str, built, timings: dict[str, Timing]) -> bool:
    """gunicorn, 2 sync workers, on 127.0.0.1, beside a bare Flask hello served the same way
    (the same gunicorn.conf.py, read from the project folder, and the same client loop): in
    each of ROUNDS rounds, the hello then every grid page warm (each signed in as its user);
    a page's ratio is its throughput over the hello's of the same round, and the figure is the
    median over the rounds; the heaviest page is the one with the lowest. Then the rest of the
    crash scenario of issue 9 (100 x Tous then 150 x CE); the page slowest to render (cold)
    with the grid cache off (every request a miss); and, when a Redis server answers, the
    rounds again with the cache in Redis (behind each worker's LRU). Every timed run also
    gives the workers' CPU per request (the server's cost without the load generator's, which
    runs on the same machine). Returns False when a worker died or a request did not answer
    200."""
    slowest_cold = max(GRIDS, key=lambda label: timings[label].cold_ms)
    by_label = {p.label: p for p in pages(_ids_from_url(url, built))}
    code = built.departments[0]
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench-only", "MAIL_DELIVERY": "off"}
    print(f"\ngunicorn, 2 sync workers, {load.CONCURRENCY} concurrent clients on 127.0.0.1 "
          f"(bounded loops, no keep-alive; {WARM_UP} untimed requests before each timed run), "
          f"{ROUNDS} rounds of: the bare hello ({HELLO_REQUESTS} requests), then each page "
          f"({LOAD_REQUESTS}); load average {os.getloadavg()[0]:.1f}:")
    ok = True

    def timed(server: infra.Gunicorn, path: str, n: int, cookie: str = "") -> load.LoadResult:
        nonlocal ok
        warm_up = load.run(server.port, [path] * WARM_UP, cookie=cookie)
        cpu_before = server.workers_cpu()
        result = load.run(server.port, [path] * n, cookie=cookie)
        cpu_after = server.workers_cpu()
        if cpu_before is not None and cpu_after is not None:
            result.cpu_ms = (cpu_after - cpu_before) * 1000 / n
        ok = ok and not (result.failed or warm_up.failed)
        return result

    def line(label: str, n: int, result: load.LoadResult, extra: str = "") -> str:
        cpu = f", worker CPU {result.cpu_ms:.2f} ms/request" if result.cpu_ms else ""
        return (f"  {label:<48} {n:>5} requests: {result.per_second:>8.1f} req/s{cpu}, latency "
                f"median {statistics.median(result.latencies_ms or [0]):.0f} ms; statuses "
                f"{result.statuses}, failures {len(result.errors)}{extra}"
                f"{'  <-- NOT ALL 200' if result.failed else ''}")

    def serve(title: str, hello_server: infra.Gunicorn, labels: list[str], rounds: int,
              extra_env: dict, after: list[tuple[str, int]] = ()) -> dict[str, list[float]]:
        """Each page's ratio to the hello in each round (and, in ``cpu_ratios``, the hello's
        worker CPU per request over the page's)."""
        nonlocal ok
        ratios: dict[str, list[float]] = {label: [] for label in labels}
        cpu_ratios[title] = {label: [] for label in labels}
        with infra.Gunicorn("app:app", workers=2, env={**env, **extra_env}) as server:
            cookies = {False: load.sign_in(server.port, built.agents[code], dataset.PASSWORD),
                       True: load.sign_in(server.port, built.busiest_school[code],
                                          dataset.PASSWORD)}
            for round_ in range(1, rounds + 1):
                hello = timed(hello_server, "/", HELLO_REQUESTS)
                print(line(f"round {round_}: bare Flask hello", HELLO_REQUESTS, hello))
                for label in labels:
                    page = by_label[label]
                    result = timed(server, page.path, LOAD_REQUESTS, cookies[page.as_school])
                    ratio = result.per_second / hello.per_second
                    ratios[label].append(ratio)
                    if result.cpu_ms and hello.cpu_ms:
                        cpu_ratios[title][label].append(hello.cpu_ms / result.cpu_ms)
                    print(line(f"round {round_}: {label} {title}", LOAD_REQUESTS, result,
                               f"; {ratio:.1%} of the hello"))
            for label, n in after:
                page = by_label[label]
                print(line(f"{label} {title}", n,
                           timed(server, page.path, n, cookies[page.as_school])))
            deaths = server.worker_deaths()
            if deaths:
                ok = False
                print("\n  WORKER DEATH under load:\n    " + "\n    ".join(deaths))
                print("  gunicorn log (faulthandler shows the Python stack of every thread):\n"
                      + server.log()[-6000:])
        return ratios

    results: dict[str, dict[str, list[float]]] = {}
    cpu_ratios: dict[str, dict[str, list[float]]] = {}
    with infra.Gunicorn("bench.hello:app", workers=2) as hello:
        crash_scenario = [("unit grid, Tous", 100), ("unit grid, CE", 150)]
        results["(warm)"] = serve("(warm)", hello, GRIDS, ROUNDS, {}, crash_scenario)
        results["(cache off)"] = serve("(cache off)", hello, [slowest_cold], 1,
                                       {"GRID_CACHE_URL": "off"})
        if infra.redis_reachable():
            from rdvpl.grid_cache import RedisCache

            RedisCache(infra.REDIS_URL).clear()
            results["(Redis)"] = serve("(Redis)", hello, GRIDS, ROUNDS,
                                       {"GRID_CACHE_URL": infra.REDIS_URL})
    for title, ratios in results.items():
        medians = {label: statistics.median(values) for label, values in ratios.items()}
        heaviest = min(medians, key=medians.get)
        spread = f" [{min(ratios[heaviest]):.1%}-{max(ratios[heaviest]):.1%}]" \
            if len(ratios[heaviest]) > 1 else ""
        print(f"  heaviest page {title}: {heaviest} at {medians[heaviest]:.1%}{spread} of the "
              f"hello's throughput (median of {len(ratios[heaviest])} round(s))"
              + (" - the slowest page to render, every request rendered"
                 if title == "(cache off)" else ""))
        by_cpu = {label: statistics.median(values)
                  for label, values in cpu_ratios.get(title, {}).items() if values}
        if by_cpu:
            costliest = min(by_cpu, key=by_cpu.get)
            print(f"    by worker CPU per request (the server's cost alone, without the load "
                  f"generator's): {costliest} at {by_cpu[costliest]:.1%} of the hello's "
                  f"(the hello's CPU per request over the page's, median of the rounds)")
    print(f"  load average after the runs {os.getloadavg()[0]:.1f}")
    if ok:
        print("  no worker died; every request answered 200")
    return ok


def _ids_from_url(url: str, built) -> dict:
    from rdvpl import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "MAIL_DELIVERY": "off"})
    ids = _ids(app, built)
    _dispose(app)
    return ids


if __name__ == "__main__":
    sys.exit(main())
