"""The demo data of SPEC ("Demo data"), dated relative to today so that no page starts empty."""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from . import dates, demand
from .extensions import db
from .models import (
    AutoEcole,
    Candidate,
    Category,
    Centre,
    Department,
    FavouriteInspector,
    HalfDay,
    Inspector,
    Role,
    SchoolDemand,
    Tranche,
    UnitStatus,
    User,
    WorkedSaturday,
)
from .sessions import new_session

# The guide's category filter lists A HC, A CIR and B beside the heavy ones; only heavy
# categories are planned in this module.
CATEGORIES = [
    ("A HC", False), ("A CIR", False), ("B", False),
    ("C", True), ("C1", True), ("CE", True), ("C1E", True),
    ("D", True), ("D1", True), ("DE", True), ("D1E", True),
]

INSPECTORS_011 = [
    # last name, first name, matricule, home centre
    ("DUMAS", "Anna", "2488", "CARCASSONNE"),
    ("MONTEIL", "Marie", "2489", "CARCASSONNE"),
    ("MARAIS", "Pierrette", "2490", "CARCASSONNE"),
    ("BARBET", "Anaïs", "2491", "NARBONNE"),
    ("KLÉBER", "Thierry", "2492", "NARBONNE"),
    ("ARNAUD", "Agathe", "240", "LUCHAPT DU 011"),
    ("GONZALEZ", "Grégory", "2493", "LUCHAPT DU 011"),
]

SCHOOLS_011 = [
    ("Alliance Auto-Ecole", "auto-ecole-aurige-1", "alliance@example.test"),
    ("Alliance du 002", "auto-ecole-aurige-2", "alliance002@example.test"),
    ("Alliance du 011", "auto-ecole-aurige-11", "alliance011@example.test"),
    ("Alliance du 051", "auto-ecole-aurige-51", "alliance051@example.test"),
]


def _wipe() -> None:
    """Every table emptied, children first (the metadata's dependency order), so that a table
    added later is never forgotten."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())


def seed_demo(*, reset: bool = False, today: dt.date | None = None) -> str:
    """Load the demo data. Without ``reset``, an already seeded database is left as it is."""
    if db.session.scalar(select(Department).where(Department.code == "011")) is not None:
        if not reset:
            return "Données de démonstration déjà présentes (utilisez --reset pour les recharger)."
        # The reloaded departments start past every revision a running server has seen, so
        # nothing kept under an old revision (cached grid rows, open pages) outlives a reset.
        floor = db.session.scalar(select(func.max(Department.grid_revision))) or 0
        _wipe()
    else:
        floor = 0
    today = today or dates.today()
    _load(today)
    db.session.execute(update(Department).values(grid_revision=floor + 1))
    db.session.commit()
    return "Données de démonstration chargées."


@functools.cache
def _hash(password: str) -> str:
    # Hashing is slow on purpose; the demo reloads (and the tests) hash each password once.
    return generate_password_hash(password)


# The demo accounts and their passwords (README "Demo accounts"; the tests sign in with them).
PASSWORDS = {
    "ber011@example.test": "demo-ber-011",
    "ber034@example.test": "demo-ber-034",
    "alliance@example.test": "demo-ae-alliance",
    "herault@example.test": "demo-ae-herault",
    "admin@example.test": "demo-admin",
}


def _user(email, first, last, role, *, department=None, school=None) -> User:
    user = User(email=email, first_name=first, last_name=last, role=role,
                department=department, auto_ecole=school, password_hash=_hash(PASSWORDS[email]),
                activated_at=dates.utcnow())  # the demo accounts have their password
    db.session.add(user)
    return user


def _load(today: dt.date) -> None:
    categories = {}
    for position, (code, heavy) in enumerate(CATEGORIES):
        categories[code] = Category(code=code, heavy=heavy, position=position)
        db.session.add(categories[code])

    aude = Department(code="011", name="Aude", ber_email="pl.ber011@example.test")
    herault = Department(code="034", name="Hérault", ber_email="pl.ber034@example.test")
    db.session.add_all([aude, herault])

    centres = {name: Centre(department=aude, name=name)
               for name in ("CARCASSONNE", "NARBONNE", "LUCHAPT DU 011")}
    montpellier = Centre(department=herault, name="MONTPELLIER")
    db.session.add_all([*centres.values(), montpellier])

    inspectors = {}
    for last, first, matricule, centre in INSPECTORS_011:
        inspectors[last] = Inspector(department=aude, last_name=last, first_name=first,
                                     matricule=matricule, home_centre=centres[centre])
    inspectors["LEROY"] = Inspector(department=herault, last_name="LEROY", first_name="Paul",
                                    matricule="3401", home_centre=montpellier)
    inspectors["FABRE"] = Inspector(department=herault, last_name="FABRE", first_name="Claire",
                                    matricule="3402", home_centre=montpellier)
    db.session.add_all(inspectors.values())

    schools = {name: AutoEcole(department=aude, raison_sociale=name, aurige_id=aurige, email=mail)
               for name, aurige, mail in SCHOOLS_011}
    herault_school = AutoEcole(department=herault, raison_sociale="Auto-École de l'Hérault",
                               aurige_id="auto-ecole-aurige-34", email="herault@example.test")
    db.session.add_all([*schools.values(), herault_school])

    ber = _user("ber011@example.test", "Thibault", "CARPENTIER", Role.BER,
                department=aude)
    ber034 = _user("ber034@example.test", "Hélène", "ROUSSEL", Role.BER,
                   department=herault)
    alliance_user = _user("alliance@example.test", "Zacharis", "NICOLAS", Role.AE,
                          school=schools["Alliance Auto-Ecole"])
    _user("herault@example.test", "Lucie", "BERNARD", Role.AE,
          school=herault_school)
    _user("admin@example.test", "Camille", "ADMIN", Role.ADMIN)
    db.session.flush()

    db.session.add_all([FavouriteInspector(user_id=ber.id, inspector_id=inspectors[n].id)
                        for n in ("DUMAS", "MONTEIL")])

    # Weeks: the current one (from tomorrow on) and the next three.
    monday = dates.monday_of(today)
    next_monday = monday + dt.timedelta(days=7)
    for inspector in ("DUMAS", "MARAIS"):
        for week in (1, 2):
            db.session.add(WorkedSaturday(inspector=inspectors[inspector],
                                          date=monday + dt.timedelta(days=7 * week + 5)))

    ce = categories["CE"]

    def plan(inspector, day, tranches, centre, agent=ber):
        made = []
        for tranche in tranches:
            made.append(new_session(inspector, centre, ce, day, tranche, created_by=agent))
        return made

    def reserve(session, indexes, school, agent=ber):
        for i in indexes:
            unit = session.units[i]
            unit.status = UnitStatus.RESERVED
            unit.auto_ecole = school
            unit.reserved_by_id = agent.id
            unit.reserved_at = dates.utcnow()

    all_tranches = list(Tranche)
    alliance = schools["Alliance Auto-Ecole"]

    # Within six days: a reservation the school can no longer cancel itself.
    # Two days ahead, moved on to the Monday from a weekend: always 2 to 4 days ahead, so that
    # every day of the week the demo shows one, and never after next Tuesday (next week's
    # Wednesday to Saturday stay as described below).
    soon = today + dt.timedelta(days=2)
    if soon.weekday() >= 5:
        soon += dt.timedelta(days=7 - soon.weekday())
    m1, m2, *_ = plan(inspectors["DUMAS"], soon, all_tranches, centres["CARCASSONNE"])
    reserve(m2, [0, 1], alliance)

    # Next week: the guide's Thursday for DUMAS Anna (10:00 x4, 14:30 x2, 16:30 x2).
    thursday = next_monday + dt.timedelta(days=3)
    m1, m2, s1, s2 = plan(inspectors["DUMAS"], thursday, all_tranches, centres["CARCASSONNE"])
    reserve(m2, [0, 1, 2, 3], alliance)
    # AE 5: the school already named the candidate of 10:30 (a made-up NEPH).
    db.session.add(Candidate(unit=m2.units[1], auto_ecole_id=alliance.id, last_name="Martin",
                             first_name="Léa", neph="120684000017",
                             named_by_id=alliance_user.id))
    reserve(s1, [3], alliance)
    reserve(s2, [0], alliance)
    reserve(s2, [3], schools["Alliance du 002"])
    s1.units[0].status = UnitStatus.INDISPO

    friday = next_monday + dt.timedelta(days=4)
    plan(inspectors["DUMAS"], friday, all_tranches, centres["CARCASSONNE"])
    monteil = plan(inspectors["MONTEIL"], friday, all_tranches, centres["CARCASSONNE"])
    reserve(monteil[0], [0, 1], schools["Alliance du 011"])
    plan(inspectors["MARAIS"], next_monday, all_tranches, centres["CARCASSONNE"])
    plan(inspectors["MARAIS"], next_monday + dt.timedelta(days=1), all_tranches,
         centres["CARCASSONNE"])
    barbet = plan(inspectors["BARBET"], next_monday + dt.timedelta(days=2),
                  [Tranche.M1, Tranche.M2, Tranche.S1], centres["NARBONNE"])
    reserve(barbet[1], [0, 1, 2], schools["Alliance du 051"])

    # In two and three weeks.
    later = next_monday + dt.timedelta(days=7)
    arnaud = plan(inspectors["ARNAUD"], later + dt.timedelta(days=1), [Tranche.M1, Tranche.M2],
                  centres["LUCHAPT DU 011"])
    reserve(arnaud[0], [0, 1], alliance)
    plan(inspectors["KLÉBER"], later + dt.timedelta(days=3), all_tranches, centres["NARBONNE"])
    plan(inspectors["GONZALEZ"], later + dt.timedelta(days=14), [Tranche.S1, Tranche.S2],
         centres["LUCHAPT DU 011"])

    _demands_next_month(today, next_monday, inspectors, centres, schools, ce, plan)

    # Hérault, so that isolation can be seen.
    leroy = plan(inspectors["LEROY"], next_monday + dt.timedelta(days=1), all_tranches,
                 montpellier, agent=ber034)
    reserve(leroy[0], [0, 1], herault_school, agent=ber034)


def _demands_next_month(today, next_monday, inspectors, centres, schools, ce, plan) -> None:
    """BER 10's shortage: the four 011 schools ask next month for more CE units than its
    sessions hold. The sessions start four weeks after next Monday, so that the weeks the
    other demo data describes (and the tests count) stay as they are; late in a month, when
    next month ends before that, next month has no free unit and the page shows only demand."""
    month = demand.demand_months(today)[0]
    end = demand.add_months(month, 1)
    day = max(month, next_monday + dt.timedelta(days=28))
    days = []
    while day < end and len(days) < 6:
        if day.weekday() < 5 and not dates.public_holiday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    for day in days:  # 20 Dispo AE units a day
        plan(inspectors["MONTEIL"], day, [Tranche.M1, Tranche.M2], centres["CARCASSONNE"])
        plan(inspectors["BARBET"], day, [Tranche.M1], centres["NARBONNE"])
        plan(inspectors["ARNAUD"], day, [Tranche.S1, Tranche.S2], centres["LUCHAPT DU 011"])
    wishes = [  # school, units, centres, half-day
        ("Alliance Auto-Ecole", 60, ("CARCASSONNE", "NARBONNE"), HalfDay.ANY),
        ("Alliance du 002", 40, ("CARCASSONNE",), HalfDay.MORNING),
        ("Alliance du 011", 30, ("NARBONNE", "LUCHAPT DU 011"), HalfDay.ANY),
        ("Alliance du 051", 24, ("LUCHAPT DU 011",), HalfDay.AFTERNOON),
    ]
    for name, units, wished, half_day in wishes:
        db.session.add(SchoolDemand(
            auto_ecole=schools[name], department_id=schools[name].department.id,
            category=ce, month=month, units=units, half_day=half_day,
            centres=[centres[c] for c in wished]))
