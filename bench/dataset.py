"""The benchmark's data: departments at the size of SPEC "Scale and speed", inserted in bulk.

A department: 60 inspectors, 12 centres, 8 weeks of sessions (20 per inspector per week, Monday
to Friday, four tranches, 4 units each), 300 schools, 70 % of the units reserved (mostly CE,
some C and D so that the category filter has something to filter). The national scale is 100
such departments in one database (3.84 M units).

Rows are plain tuples with explicit ids, written with PostgreSQL's COPY (psycopg) or, on
SQLite, with one executemany ``insert()`` per table: building ORM objects for millions of rows
would take the whole time budget. The data is deterministic (a seeded random generator).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from rdvpl import dates
from rdvpl.extensions import db
from rdvpl.models import Tranche
from rdvpl.seed import CATEGORIES
from rdvpl.sessions import tranche_hours, unit_slots

INSPECTORS = 60
CENTRES = 12
WEEKS = 8
SCHOOLS = 300
RESERVED_SHARE = 0.70
PASSWORD = "bench-password"
# Category of each session: mostly CE, as in a real department, the rest C and D.
SESSION_CATEGORIES = ["CE"] * 6 + ["C"] * 2 + ["D"] * 2

TABLES = ("category", "department", "centre", "inspector", "auto_ecole", "user_account",
          "exam_session", "unit")


@dataclass
class Built:
    """What the benchmark needs to find in the data it built (per department)."""

    first_monday: dt.date
    departments: list[str] = field(default_factory=list)  # codes
    agents: dict[str, str] = field(default_factory=dict)  # department code -> BER e-mail
    busiest_school: dict[str, str] = field(default_factory=dict)  # code -> AE e-mail
    rows: dict[str, int] = field(default_factory=dict)


def _rows(n_departments: int, first_monday: dt.date, seed: int = 2022):
    """Yield (table, row tuple) for every row of ``n_departments`` departments, and fill the
    Built summary returned at the end (StopIteration value)."""
    rng = random.Random(seed)
    built = Built(first_monday=first_monday)
    password_hash = generate_password_hash(PASSWORD)
    category_ids = {}
    for position, (code, heavy) in enumerate(CATEGORIES, start=1):
        category_ids[code] = position
        yield "category", (position, code, heavy, position)
    days = [first_monday + dt.timedelta(weeks=w, days=d) for w in range(WEEKS) for d in range(5)]
    slots = {(day.weekday(), t): unit_slots(*tranche_hours(day, t)) for day in days[:5]
             for t in Tranche}
    now = dates.utcnow()
    user_id = session_id = unit_id = 0
    for d in range(n_departments):
        dep_id = d + 1
        code = f"{d:03d}" if n_departments > 1 else "075"
        built.departments.append(code)
        yield "department", (dep_id, code, f"Département {code}", f"ber{code}@bench.test")
        centre_ids = [d * CENTRES + c + 1 for c in range(CENTRES)]
        for c, centre_id in enumerate(centre_ids):
            yield "centre", (centre_id, dep_id, f"CENTRE {code}-{c:02d}")
        school_ids = [d * SCHOOLS + s + 1 for s in range(SCHOOLS)]
        for s, school_id in enumerate(school_ids):
            yield "auto_ecole", (school_id, dep_id, f"Auto-école {code}-{s:03d}",
                                 f"aurige-{code}-{s:03d}", f"ecole{code}-{s:03d}@bench.test")
        user_id += 1
        agent = f"agent{code}@bench.test"
        built.agents[code] = agent
        yield "user_account", (user_id, agent, password_hash, "Agent", f"BER {code}", "ber",
                               dep_id, None)
        # Schools are drawn with a skewed weight, so that one of them is clearly the busiest.
        weights = [1.0 / (s + 1) ** 0.5 for s in range(SCHOOLS)]
        reserved_per_school = [0] * SCHOOLS
        for i in range(INSPECTORS):
            inspector_id = d * INSPECTORS + i + 1
            yield "inspector", (inspector_id, dep_id, centre_ids[i % CENTRES], f"NOM{i:03d}",
                                "Prénom", f"{code}{i:04d}")
            for day in days:
                for tranche in Tranche:
                    session_id += 1
                    category = rng.choice(SESSION_CATEGORIES)
                    start, end = tranche_hours(day, tranche)
                    yield "exam_session", (session_id, dep_id, inspector_id,
                                           centre_ids[i % CENTRES], category_ids[category],
                                           day, str(tranche), start, end, None, now)
                    for u_start, u_end in slots[(day.weekday(), tranche)]:
                        unit_id += 1
                        if rng.random() < RESERVED_SHARE:
                            s = rng.choices(range(SCHOOLS), weights)[0]
                            reserved_per_school[s] += 1
                            yield "unit", (unit_id, session_id, u_start, u_end, "reserved",
                                           school_ids[s], now, user_id)
                        else:
                            status = "dispo" if rng.random() < 0.8 else "indispo"
                            yield "unit", (unit_id, session_id, u_start, u_end, status,
                                           None, None, None)
        busiest = max(range(SCHOOLS), key=reserved_per_school.__getitem__)
        user_id += 1
        ae = f"ae{code}@bench.test"
        built.busiest_school[code] = ae
        yield "user_account", (user_id, ae, password_hash, "Gérant", f"AE {code}", "ae",
                               None, school_ids[busiest])
    return built


def _columns(table: str) -> list[str]:
    # The order of the tuples above, checked against the model (a renamed column fails loudly).
    names = {
        "category": ["id", "code", "heavy", "position"],
        "department": ["id", "code", "name", "ber_email"],
        "centre": ["id", "department_id", "name"],
        "inspector": ["id", "department_id", "home_centre_id", "last_name", "first_name",
                      "matricule"],
        "auto_ecole": ["id", "department_id", "raison_sociale", "aurige_id", "email"],
        "user_account": ["id", "email", "password_hash", "first_name", "last_name", "role",
                         "department_id", "auto_ecole_id"],
        "exam_session": ["id", "department_id", "inspector_id", "centre_id", "category_id",
                         "date", "tranche", "start_time", "end_time", "created_by_id",
                         "created_at"],
        "unit": ["id", "session_id", "start_time", "end_time", "status", "auto_ecole_id",
                 "reserved_at", "reserved_by_id"],
    }[table]
    missing = set(names) - set(db.metadata.tables[table].columns.keys())
    assert not missing, f"bench/dataset.py is out of date: {table} has no {missing}"
    return names


def build(engine: sa.Engine, n_departments: int = 1, *, first_monday: dt.date | None = None,
          batch: int = 50_000) -> Built:
    """Insert ``n_departments`` departments into the (empty) schema of ``engine``; the weeks
    start at ``first_monday`` (default: this week's Monday)."""
    first_monday = first_monday or dates.monday_of(dates.today())
    rows = _rows(n_departments, first_monday)
    if engine.dialect.name == "postgresql":
        built = _copy_postgresql(engine, rows)
    else:
        built = _insert_many(engine, rows, batch)
    return built


def _drain(rows, sink) -> Built:
    counts: dict[str, int] = {}
    while True:
        try:
            table, row = next(rows)
        except StopIteration as stop:
            built = stop.value
            built.rows = counts
            return built
        counts[table] = counts.get(table, 0) + 1
        sink(table, row)


def _insert_many(engine: sa.Engine, rows, batch: int) -> Built:
    pending: dict[str, list[tuple]] = {t: [] for t in TABLES}
    with engine.begin() as conn:
        def flush(table):
            columns = _columns(table)
            conn.execute(db.metadata.tables[table].insert(),
                         [dict(zip(columns, row, strict=True)) for row in pending[table]])
            pending[table].clear()

        def sink(table, row):
            pending[table].append(row)
            if len(pending[table]) >= batch:
                # Parents first: every table before this one in TABLES is flushed too.
                for parent in TABLES[: TABLES.index(table) + 1]:
                    if pending[parent]:
                        flush(parent)

        built = _drain(rows, sink)
        for table in TABLES:
            if pending[table]:
                flush(table)
    return built


def _copy_postgresql(engine: sa.Engine, rows) -> Built:
    """One COPY stream per table, all in one transaction; the foreign keys are checked by
    constraint triggers that ``session_replication_role = replica`` skips during the load
    (the generator writes consistent ids), then the sequences are moved past the ids used."""
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            # COPY streams cannot interleave on one connection: rows are buffered per table
            # and written parents first, one department at a time (bounded memory).
            buffered: dict[str, list[tuple]] = {t: [] for t in TABLES}

            def write_all():
                for table in TABLES:
                    if not buffered[table]:
                        continue
                    columns = ", ".join(f'"{c}"' for c in _columns(table))
                    with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                        for row in buffered[table]:
                            copy.write_row(row)
                    buffered[table].clear()

            def sink(table, row):
                if table == "department":
                    write_all()
                buffered[table].append(row)

            built = _drain(rows, sink)
            write_all()
            for table in TABLES:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                               f"(SELECT max(id) FROM \"{table}\"))")
            cursor.execute("SET session_replication_role = DEFAULT")
        connection.commit()
        with connection.cursor() as cursor:
            # Vacuumed and analysed now, as a database in service has been: else autovacuum
            # starts on the freshly loaded tables (millions of inserted rows) and competes with
            # the timings for the CPU.
            connection.autocommit = True
            cursor.execute("VACUUM (ANALYZE)")
            connection.autocommit = False
    finally:
        raw.close()
    return built
