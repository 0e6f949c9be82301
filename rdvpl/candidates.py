"""AE 5 "Mes candidats": the school names the candidate of each of its reserved units (nom,
prénom, numéro NEPH of 12 digits), changes or removes them until the exam starts.

Rules:
- only the school the unit is reserved for names, changes or removes its candidate (any other
  unit, of another school or department, or free, reads as unknown: NotFound);
- not once the exam has started (Paris time): what was named stays as it was on the day sheet;
- the candidate goes with the reservation: cancelling the unit (BER 5, AE 2) or deleting its
  session (BER 2, BER 6, BER 7) deletes the candidate row in the same transaction (``forget``).
  A unit reserved again starts without a candidate.
- the history (rdvpl/history.py) records who named whom, changed or removed them, with the
  candidate's name and only the last 4 digits of the NEPH (the history is append-only: the full
  number is personal data that must leave with the reservation).

Reads (``school_candidates``, ``of_units``) return only candidates whose unit is still reserved
for the school that named them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, select

from . import dates, history, scopes
from .errors import Conflict, DomainError, NotFound
from .extensions import db, write_transaction
from .models import Candidate, Role, Session, Unit, UnitStatus, User
from .names import hours_label

NAME_MAX = 80
NEPH_DIGITS = 12

# Letters (any script, with their accents), spaces, hyphens, apostrophes and dots: "Jean-Marc",
# "N'Diaye", "O’Connor", "St. Pierre". No digits, no other signs.
_NAME_SIGNS = set(" -'’.")
_SPACES = re.compile(r"\s+")


class InvalidCandidate(DomainError):
    """What was typed is refused: ``errors`` maps each refused field ("nom", "prenom",
    "neph") to its French message; nothing was changed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()), title="Candidat non enregistré")
        self.errors = errors


def clean_neph(text) -> tuple[str | None, str | None]:
    """The NEPH typed, as 12 digits, or (None, the French message). Spaces anywhere are
    ignored ("1234 5678 9012", as it is often written in groups); anything else is refused."""
    raw = _SPACES.sub("", text) if isinstance(text, str) else ""
    if not raw:
        return None, "Saisissez le numéro NEPH du candidat (12 chiffres)."
    if not (raw.isascii() and raw.isdigit()):
        return None, ("Le numéro NEPH ne contient que des chiffres : saisissez ses 12 chiffres, "
                      "sans lettres ni autres signes.")
    if len(raw) != NEPH_DIGITS:
        return None, (f"Le numéro NEPH comporte exactement {NEPH_DIGITS} chiffres : vous en "
                      f"avez saisi {len(raw)}.")
    return raw, None


def clean_name(text, what: str) -> tuple[str | None, str | None]:
    """A last or first name (``what``: "nom" or "prénom"), blanks trimmed and collapsed, or
    (None, the French message)."""
    value = _SPACES.sub(" ", text).strip() if isinstance(text, str) else ""
    value = unicodedata.normalize("NFC", value)
    if not value:
        return None, f"Saisissez le {what} du candidat."
    if len(value) > NAME_MAX:
        return None, f"Le {what} du candidat ne peut pas dépasser {NAME_MAX} caractères."
    if not any(c.isalpha() for c in value) or not all(
            c.isalpha() or c in _NAME_SIGNS for c in value):
        return None, (f"Le {what} du candidat ne peut contenir que des lettres, des espaces, "
                      "des traits d'union et des apostrophes.")
    return value, None


def _require_ae(actor) -> int:
    if actor is None or actor.role != Role.AE or actor.auto_ecole_id is None:
        raise NotFound(scopes.SCHOOL_UNIT_NOT_FOUND)
    return actor.auto_ecole_id


def _locked_unit(school_id: int, unit_id) -> Unit:
    """The school's reserved unit, locked until the end of the transaction (FOR UPDATE on
    PostgreSQL; SQLite writers are serialised), so that a cancellation cannot slip in between
    the check and the write: it waits, then removes the candidate with the unit."""
    if isinstance(unit_id, int):
        db.session.execute(
            select(Unit.id).where(Unit.id == unit_id, Unit.auto_ecole_id == school_id,
                                  Unit.status == UnitStatus.RESERVED).with_for_update())
    unit = scopes.school_unit(school_id, unit_id)
    db.session.refresh(unit)  # as it is now that it is locked
    if unit.status != UnitStatus.RESERVED or unit.auto_ecole_id != school_id:
        raise NotFound(scopes.SCHOOL_UNIT_NOT_FOUND)
    return unit


def _refuse_started(unit: Unit, now) -> None:
    if dates.has_started(unit.session.date, unit.start_time, now):
        raise DomainError(f"L'examen {describe_unit_public(unit)} a déjà commencé ou eu lieu : "
                          "son candidat ne peut plus être modifié.",
                          title="Modification impossible")


def describe_unit_public(unit: Unit) -> str:
    """'du jeudi 17/12/2026 de 10:00 à 10:30 (CARCASSONNE)': what a school may read of a unit
    (never the inspector's name)."""
    s = unit.session
    return (f"du {dates.jour_date(s.date)} de {unit.start_time:%H:%M} à "
            f"{unit.end_time:%H:%M} ({s.centre.name})")


def snapshot(candidate: Candidate, school_name: str) -> dict:
    """What the history keeps of a candidate: the name, the NEPH's last 4 digits."""
    return {"candidat": candidate.nom_prenom, "neph_fin": candidate.neph[-4:],
            "auto_ecole_id": candidate.auto_ecole_id, "auto_ecole": school_name}


def current(unit_id: int, school_id: int) -> Candidate | None:
    """The candidate named on the unit by this school, if any."""
    return db.session.scalar(select(Candidate).where(Candidate.unit_id == unit_id,
                                                     Candidate.auto_ecole_id == school_id))


def name_candidate(actor: User, unit_id, *, last_name, first_name, neph,
                   now: dt.datetime | None = None) -> tuple[Candidate, str]:
    """"Affecter un candidat": name (or change) the candidate of one of the school's units.

    Returns the candidate and what happened: "named", "changed" or "unchanged" (the same
    values again: nothing recorded). Refused with nothing changed: another school's, a free
    or unknown unit (NotFound), an exam already started (DomainError), a refused field
    (InvalidCandidate, every refused field at once)."""
    write_transaction()
    school_id = _require_ae(actor)
    unit = _locked_unit(school_id, unit_id)
    _refuse_started(unit, now)
    values, errors = {}, {}
    for key, field, raw, clean in (("last_name", "nom", last_name, lambda t: clean_name(t, "nom")),
                                   ("first_name", "prenom", first_name,
                                    lambda t: clean_name(t, "prénom")),
                                   ("neph", "neph", neph, clean_neph)):
        values[key], message = clean(raw)
        if message:
            errors[field] = message
    if errors:
        raise InvalidCandidate(errors)

    school_name = unit.auto_ecole.raison_sociale
    department_id = unit.session.department_id
    found = current(unit.id, school_id)
    if found is not None and all(getattr(found, k) == v for k, v in values.items()):
        db.session.rollback()
        return found, "unchanged"
    before = snapshot(found, school_name) if found is not None else None
    if found is None:
        # A row left by another school (it cannot happen: forget() runs with every
        # cancellation) would block the unique unit_id: it goes first.
        db.session.execute(delete(Candidate).where(Candidate.unit_id == unit.id))
        found = Candidate(unit_id=unit.id, auto_ecole_id=school_id, named_by_id=actor.id,
                          **values)
        db.session.add(found)
    else:
        for key, value in values.items():
            setattr(found, key, value)
        found.updated_at = dates.utcnow()
    db.session.flush()
    action = "candidate.named" if before is None else "candidate.changed"
    history.record(actor, action, "unit", unit.id, department_id=department_id,
                   before=before, after=snapshot(found, school_name))
    db.session.commit()
    return found, "named" if before is None else "changed"


def remove_candidate(actor: User, unit_id, *, now: dt.datetime | None = None) -> Unit:
    """"Retirer le candidat": the unit stays reserved, without a candidate.

    Refused with nothing changed: another school's, a free or unknown unit (NotFound), an exam
    already started (DomainError), no candidate named — also the second of a double submit
    (Conflict)."""
    write_transaction()
    school_id = _require_ae(actor)
    unit = _locked_unit(school_id, unit_id)
    _refuse_started(unit, now)
    found = current(unit.id, school_id)
    if found is None:
        db.session.rollback()
        raise Conflict(f"Aucun candidat n'est affecté à l'unité {describe_unit_public(unit)} : "
                       "rien n'a été retiré.", title="Retrait impossible")
    before = snapshot(found, unit.auto_ecole.raison_sociale)
    db.session.delete(found)
    history.record(actor, "candidate.removed", "unit", unit.id,
                   department_id=unit.session.department_id, before=before,
                   after={"motif": "retiré par l'auto-école"})
    db.session.commit()
    return unit


def forget(actor: User | None, units, *, department_id: int | None, reason: str) -> int:
    """Delete the candidates of ``units`` in the caller's transaction (their reservation is
    being cancelled or their session deleted), one history row each. Returns how many."""
    ids = [u.id for u in units]
    if not ids:
        return 0
    rows = db.session.execute(
        select(Candidate.unit_id, Candidate.last_name, Candidate.first_name, Candidate.neph,
               Candidate.auto_ecole_id).where(Candidate.unit_id.in_(ids))).all()
    if not rows:
        return 0
    school_of = {u.id: u.auto_ecole.raison_sociale if u.auto_ecole else None for u in units}
    for unit_id, last, first, neph, school_id in rows:
        history.record(actor, "candidate.removed", "unit", unit_id, department_id=department_id,
                       before={"candidat": f"{last.upper()} {first}", "neph_fin": neph[-4:],
                               "auto_ecole_id": school_id, "auto_ecole": school_of[unit_id]},
                       after={"motif": reason})
    db.session.execute(delete(Candidate).where(Candidate.unit_id.in_(ids))
                       .execution_options(synchronize_session=False))
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------


def of_units(unit_ids) -> dict[int, Candidate]:
    """The candidates of these units, by unit id, when still reserved for the school that
    named them (one statement). The caller scoped the units (BER: its department)."""
    ids = [i for i in unit_ids if isinstance(i, int)]
    if not ids:
        return {}
    return {c.unit_id: c for c in db.session.scalars(
        select(Candidate).join(Unit, Unit.id == Candidate.unit_id)
        .where(Candidate.unit_id.in_(ids), Unit.status == UnitStatus.RESERVED,
               Unit.auto_ecole_id == Candidate.auto_ecole_id))}


@dataclass
class CandidateRow:
    """One line of "Mes candidats": a reserved unit of the school and its candidate, if any."""

    unit_id: int
    day: dt.date
    start: dt.time
    end: dt.time
    hours: str  # "10:00 - 10:30"
    centre: str
    category: str
    candidate: Candidate | None
    editable: bool  # the exam has not started


@dataclass
class CandidatesView:
    rows: list[CandidateRow]
    past: bool

    @property
    def named(self) -> int:
        return sum(r.candidate is not None for r in self.rows)

    @property
    def missing(self) -> int:
        return len(self.rows) - self.named


def school_candidates(school_id: int, *, past: bool = False,
                      now: dt.datetime | None = None) -> CandidatesView:
    """The school's reserved units with their candidates: the coming ones (from today) in
    chronological order, or the past ones (before today), latest first. Two statements."""
    today = dates.paris_wall_clock(now).date()
    query = scopes.school_units_query(school_id)
    if past:
        query = query.where(Session.date < today).order_by(
            Session.date.desc(), Unit.start_time.desc())
    else:
        query = query.where(Session.date >= today).order_by(Session.date, Unit.start_time)
    units = db.session.scalars(query).all()
    named = {c.unit_id: c for c in db.session.scalars(
        select(Candidate).where(Candidate.auto_ecole_id == school_id,
                                Candidate.unit_id.in_([u.id for u in units])))} if units else {}
    rows = [CandidateRow(u.id, u.session.date, u.start_time, u.end_time,
                         hours_label(u.start_time, u.end_time), u.session.centre.name,
                         u.session.category.code, named.get(u.id),
                         not dates.has_started(u.session.date, u.start_time, now))
            for u in units]
    return CandidatesView(rows, past)
