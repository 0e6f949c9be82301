"""Schools' monthly demands of exam units (AE 3) and their closing dates (domain: no request,
no templates).

A school asks, for each of the next two months and a PL category, a number of units, its
wished centres and half-days, with a comment. It may change its demand until the department's
closing date for that month (inclusive, Paris): by default the 20th of the month before, or
the day the BER set (BER 10). Saving records the history and sends the school a confirmation
e-mail, in one transaction; the BER mailbox is told nothing (the BER sees it on screen).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import dates, history, notify
from .errors import Conflict, DomainError, NotFound
from .extensions import db
from .models import (
    AutoEcole,
    Category,
    Centre,
    DemandClosing,
    HalfDay,
    Role,
    SchoolDemand,
)

MAX_UNITS = 500  # per school, month and category (also a database constraint)
MAX_COMMENT = 500
DEFAULT_CLOSING_DAY = 20
DEMAND_MONTHS = 2  # the next two months
DEFAULT_CATEGORY = "CE"
DEMAND_NOT_FOUND = "Cette demande n'existe pas ou n'est pas celle de votre auto-école."
MAX_ID = 2**31 - 1  # ids are 32-bit integers: a larger one is unknown, never a database error


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def demand_months(today: dt.date) -> list[dt.date]:
    """The months a school may ask for: the next two (first days)."""
    current = first_of_month(today)
    return [add_months(current, k) for k in range(1, DEMAND_MONTHS + 1)]


def default_closing(month: dt.date) -> dt.date:
    """The 20th of the month before ``month``."""
    return add_months(month, -1).replace(day=DEFAULT_CLOSING_DAY)


def closing_date(department_id: int, month: dt.date) -> dt.date:
    """The last day the department's demands for ``month`` can be changed."""
    row = db.session.scalar(select(DemandClosing).where(
        DemandClosing.department_id == department_id, DemandClosing.month == month))
    return row.closes_on if row else default_closing(month)


def heavy_categories() -> list[Category]:
    return list(db.session.scalars(
        select(Category).where(Category.heavy.is_(True))
        .order_by(Category.position, Category.code)))


def choose_category(code: str | None) -> Category | None:
    """The PL category asked for, else CE, else the first PL category."""
    categories = heavy_categories()
    by_code = {c.code: c for c in categories}
    return by_code.get(code or "") or by_code.get(DEFAULT_CATEGORY) or (
        categories[0] if categories else None)


def department_centres(department_id: int) -> list[Centre]:
    return list(db.session.scalars(
        select(Centre).where(Centre.department_id == department_id).order_by(Centre.name)))


# --- the school's page (read) -----------------------------------------------------------------


@dataclass
class MonthDemand:
    """One form of "Mes demandes de places": a month, its closing date and the demand."""

    month: dt.date
    closes_on: dt.date
    is_open: bool
    demand: SchoolDemand | None


@dataclass
class DemandsView:
    categories: list[Category]
    category: Category | None
    centres: list[Centre]
    months: list[MonthDemand]


def school_view(school: AutoEcole, category_code: str | None, *,
                today: dt.date | None = None) -> DemandsView:
    """The school's demands of the next two months for one PL category."""
    today = today or dates.today()
    category = choose_category(category_code)
    months = demand_months(today)
    demands = {}
    if category is not None:
        demands = {d.month: d for d in db.session.scalars(
            select(SchoolDemand).where(
                SchoolDemand.auto_ecole_id == school.id,
                SchoolDemand.category_id == category.id,
                SchoolDemand.month.in_(months))
            .options(selectinload(SchoolDemand.centres)))}
    rows = []
    for month in months:
        closes_on = closing_date(school.department_id, month)
        rows.append(MonthDemand(month, closes_on, today <= closes_on, demands.get(month)))
    return DemandsView(heavy_categories(), category, department_centres(school.department_id),
                       rows)


def scoped_demand(school_id: int, demand_id) -> SchoolDemand:
    """One of the school's demands, or NotFound (another school's is a 404)."""
    known = isinstance(demand_id, int) and 0 < demand_id <= MAX_ID
    demand = db.session.get(SchoolDemand, demand_id) if known else None
    if demand is None or demand.auto_ecole_id != school_id:
        raise NotFound(DEMAND_NOT_FOUND)
    return demand


# --- the school saves its demand (write) --------------------------------------------------------


def snapshot(demand: SchoolDemand) -> dict:
    return {
        "auto_ecole_id": demand.auto_ecole_id,
        "month": demand.month,
        "category": demand.category.code,
        "units": demand.units,
        "centres": [c.name for c in demand.centres],
        "half_day": demand.half_day,
        "comment": demand.comment,
    }


def _refuse(message: str) -> DomainError:
    return DomainError(message, title="Demande non enregistrée")


def save_demand(actor, *, month, category_code, units, centre_ids, half_day, comment,
                today: dt.date | None = None) -> SchoolDemand:
    """Create or replace the school's demand for ``month`` and a PL category (AE 3).

    Refused with nothing changed (DomainError, French message): a month other than the next
    two, an unknown or non-PL category, the closing date passed, a number of units that is not
    a whole number from 0 to 500, no centre while units are asked, a centre unknown or of
    another department, an unknown half-day, a comment over 500 characters. Records the
    history and queues the confirmation e-mail to the school, in one transaction.
    """
    if actor is None or actor.role != Role.AE or actor.auto_ecole_id is None:
        raise NotFound(DEMAND_NOT_FOUND)
    today = today or dates.today()
    school = db.session.get(AutoEcole, actor.auto_ecole_id)
    if month not in demand_months(today):
        raise _refuse("Ce mois n'est pas ouvert aux demandes : choisissez l'un des deux mois "
                      "suivants.")
    category = next((c for c in heavy_categories() if c.code == category_code), None)
    if category is None:
        raise _refuse("Catégorie inconnue : choisissez une catégorie de permis poids lourds.")
    closes_on = closing_date(school.department_id, month)
    if today > closes_on:
        raise _refuse(f"Demandes closes le {closes_on:%d/%m/%Y} : votre demande pour "
                      f"{dates.mois(month).lower()} ne peut plus être modifiée.")
    if not isinstance(units, int) or isinstance(units, bool) or not 0 <= units <= MAX_UNITS:
        raise _refuse(f"Nombre d'unités souhaitées : saisissez un nombre entier de 0 à "
                      f"{MAX_UNITS}.")
    ids = set(centre_ids or ())
    centres = department_centres(school.department_id)
    chosen = [c for c in centres if c.id in ids]
    if len(chosen) != len(ids):
        raise _refuse("Centre inconnu : choisissez les centres d'examen de votre département.")
    if units > 0 and not chosen:
        raise _refuse("Centres souhaités : choisissez au moins un centre d'examen.")
    if half_day not in set(HalfDay):
        raise _refuse("Demi-journées : choisissez « Matin », « Après-midi » ou « Indifférent ».")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise _refuse(f"Commentaire : {MAX_COMMENT} caractères au plus.")

    demand = db.session.scalar(select(SchoolDemand).where(
        SchoolDemand.auto_ecole_id == school.id, SchoolDemand.month == month,
        SchoolDemand.category_id == category.id))
    before = snapshot(demand) if demand else None
    if demand is None:
        demand = SchoolDemand(auto_ecole_id=school.id, department_id=school.department_id,
                              category=category, month=month)
        db.session.add(demand)
    demand.units = units
    demand.centres = chosen
    demand.half_day = HalfDay(half_day).value
    demand.comment = comment or None
    demand.updated_at = dates.utcnow()
    demand.updated_by_id = actor.id
    try:
        db.session.flush()
    except IntegrityError:  # a double submit created it meanwhile
        db.session.rollback()
        raise Conflict("Votre demande vient d'être enregistrée par ailleurs : rechargez la page "
                       "pour la voir, puis modifiez-la si besoin.",
                       title="Demande non enregistrée") from None
    history.record(actor, "demand.saved", "demand", demand.id,
                   department_id=school.department_id, before=before, after=snapshot(demand))
    notify.demand_confirmation_email(school, demand, closes_on)
    db.session.commit()
    return demand


# --- the BER moves a closing date (write) -------------------------------------------------------


def set_closing_date(actor, month: dt.date, closes_on: dt.date | None, *,
                     today: dt.date | None = None) -> DemandClosing:
    """Set the last day the department's demands for ``month`` can be changed (BER 10).

    Refused (DomainError): a malformed date, a month already begun, a closing date on or after
    the first day of the month (the proposal must be made before). An earlier date than today
    closes the demands at once. History row in the same transaction.
    """
    if actor is None or actor.role != Role.BER or actor.department_id is None:
        raise NotFound()
    today = today or dates.today()
    if closes_on is None:
        raise DomainError("Date de clôture : saisissez une date au format jj/mm/aaaa.",
                          title="Date non enregistrée")
    if month <= first_of_month(today):
        raise DomainError("Ce mois a déjà commencé : sa date de clôture ne peut plus changer.",
                          title="Date non enregistrée")
    if closes_on >= month:
        raise DomainError(f"La date de clôture doit précéder le {month:%d/%m/%Y}, premier jour "
                          "du mois demandé.", title="Date non enregistrée")
    department_id = actor.department_id
    row = db.session.scalar(select(DemandClosing).where(
        DemandClosing.department_id == department_id, DemandClosing.month == month))
    before = {"closes_on": row.closes_on if row else default_closing(month)}
    if row is None:
        row = DemandClosing(department_id=department_id, month=month, closes_on=closes_on)
        db.session.add(row)
    row.closes_on = closes_on
    db.session.flush()
    history.record(actor, "demand.closing_set", "demand_closing", row.id,
                   department_id=department_id, before={"month": month, **before},
                   after={"month": month, "closes_on": closes_on})
    db.session.commit()
    return row
