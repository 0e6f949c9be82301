"""Reserve, cancel and set the status of units; the 6-day rule (the write side of "Gérer les
créneaux" and of the school's cancellation).

Sections: BER (reserve_units, cancel_unit_by_ber, set_unit_status) and AE (cancel_unit_by_ae,
the 6-day rule). Every function takes the actor, loads what it changes through rdvpl/scopes.py,
enforces every rule, owns its transaction, records the history and queues the promised e-mail
through its function in rdvpl/notify.py. No request, no templates: the screens are read by
rdvpl/creneaux.py and rdvpl/exams.py.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value

from . import candidates, dates, history, notify, scopes
from .dates import jour_date, utcnow
from .errors import Conflict, DomainError, NotFound
from .extensions import db, write_transaction
from .models import Department, History, Role, Unit, UnitStatus

# ---------------------------------------------------------------------------------------------
# BER: reserve units for a school, cancel an exam, set a unit's status (BER 4-5)
# ---------------------------------------------------------------------------------------------

# The statuses a BER may give a unit itself (a reservation goes through reserve_units).
SETTABLE_STATUSES = (UnitStatus.INDISPO, UnitStatus.DISPO)


def describe_unit(unit: Unit) -> str:
    """'du vendredi 11/02/2022 de 15:30 à 16:00 (DUMAS Anna)', for messages."""
    s = unit.session
    return (f"du {jour_date(s.date)} de {unit.start_time:%H:%M} à {unit.end_time:%H:%M} "
            f"({s.inspector.nom_prenom})")


# What a unit keeps of a reservation once it is cancelled: nothing.
NO_RESERVATION = {"auto_ecole_id": None, "reserved_at": None, "reserved_by_id": None}


def _change_unit(unit: Unit, still, values: dict, refusal: Conflict) -> None:
    """Change one unit only if it is still as this request read it (``still``: conditions of
    the UPDATE's WHERE). A concurrent change makes the UPDATE touch no row: the transaction is
    then rolled back and ``refusal`` raised. The unit is reloaded afterwards."""
    result = db.session.execute(
        update(Unit).where(Unit.id == unit.id, *still).values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise refusal
    db.session.refresh(unit)


def _require_ber(actor) -> int:
    if actor is None or actor.role != Role.BER or actor.department_id is None:
        raise NotFound(scopes.UNIT_NOT_FOUND)
    return actor.department_id


def _not_dispo(unit: Unit, school) -> Conflict:
    """The refusal naming a selected unit that is no longer Dispo AE."""
    what = f"L'unité {describe_unit(unit)}"
    if unit.status == UnitStatus.RESERVED and unit.auto_ecole_id == school.id:
        message = (f"{what} est déjà attribuée à {school.raison_sociale} : cette réservation "
                   "a déjà été enregistrée. Aucune autre place n'a été réservée.")
    elif unit.status == UnitStatus.RESERVED:
        message = (f"{what} vient d'être attribuée à une autre auto-école "
                   f"({unit.auto_ecole.raison_sociale}). Aucune place n'a été réservée : "
                   "retirez-la de la sélection puis validez de nouveau.")
    else:
        message = (f"{what} est indisponible (Indispo). Aucune place n'a été réservée : "
                   "retirez-la de la sélection puis validez de nouveau.")
    return Conflict(message, title="Réservation impossible")


def reserve_units(actor, unit_ids, school_id, *, now: dt.datetime | None = None) -> list[Unit]:
    """Reserve the selected Dispo AE units for one school of the department (BER 4): all of
    them, or none.

    Refused with nothing changed: an empty selection, no school, a school or unit of another
    department or unknown (NotFound), a unit already started (DomainError), an Indispo or
    reserved unit — also the second of a double submit (Conflict, naming it). See
    ``_reserve`` for how the database keeps one school per unit.
    """
    write_transaction()
    department_id = _require_ber(actor)
    ids = set(unit_ids or ())
    if not all(isinstance(i, int) for i in ids):
        raise NotFound(scopes.UNIT_NOT_FOUND)
    if not ids:
        raise DomainError("Sélectionnez au moins une unité « Dispo AE » dans la grille.",
                          title="Aucune unité sélectionnée")
    if school_id is None:
        raise DomainError("Choisissez une auto-école dans la liste des suggestions avant de "
                          "valider la place d'examen.", title="Auto-école manquante")
    school = scopes.school(department_id, school_id)
    return _reserve(actor, department_id, {school: ids}, now)[school_id]


def reserve_for_schools(actor, plan: dict, *, now: dt.datetime | None = None
                        ) -> dict[int, list[Unit]]:
    """Reserve units for several schools at once ("Appliquer la répartition", BER 10): every
    unit of ``plan`` ({school id: unit ids}) for its school, or none; one e-mail per school.

    Refused with nothing changed, like ``reserve_units``: nothing to reserve, a unit listed for
    two schools (DomainError), an unknown or foreign school or unit (NotFound), a unit
    started, Indispo or reserved meanwhile (naming it).
    """
    write_transaction()
    department_id = _require_ber(actor)
    wanted = {}
    seen: set[int] = set()
    for school_id, unit_ids in (plan or {}).items():
        ids = set(unit_ids or ())
        if not all(isinstance(i, int) for i in ids) or not isinstance(school_id, int):
            raise NotFound(scopes.UNIT_NOT_FOUND)
        if ids & seen:
            raise DomainError("Une même unité figure pour deux auto-écoles : aucune place n'a "
                              "été réservée.", title="Répartition impossible")
        seen |= ids
        if ids:
            wanted[scopes.school(department_id, school_id)] = ids
    if not wanted:
        raise DomainError("La répartition ne contient plus aucune unité à réserver.",
                          title="Répartition vide")
    return _reserve(actor, department_id, wanted, now)


def _reserve(actor, department_id: int, wanted: dict, now) -> dict[int, list[Unit]]:
    """Reserve ``wanted`` ({school: unit ids}) in one transaction: all, or none.

    The units are locked first (PostgreSQL: FOR UPDATE, in one fixed order, so that overlapping
    reservations wait for each other instead of deadlocking; SQLite already serialises
    writers), then read and checked; one UPDATE ``... WHERE id IN (...) AND status='dispo'``
    per school must touch every unit, or the transaction is rolled back — so two agents racing
    for a unit can never both get it. One history row per unit and one e-mail per school, in
    the same transaction.
    """
    school_of = {i: school for school, ids in wanted.items() for i in ids}
    all_ids = set(school_of)
    try:
        selected = scopes.units(department_id, all_ids, lock=True)
    except DBAPIError:  # deadlock or lock timeout: treated as a lost race
        db.session.rollback()
        raise _lost_race(department_id, school_of) from None
    refusal = _refusal(selected, school_of, now)
    if refusal is not None:
        db.session.rollback()  # the locks go now, not when the refusal's page is rendered
        raise refusal
    before = {unit.id: history.snapshot_unit(unit) for unit in selected}

    reserved_at = utcnow()
    taken = False
    try:
        for school, ids in sorted(wanted.items(), key=lambda item: item[0].id):
            result = db.session.execute(
                update(Unit)
                .where(Unit.id.in_(ids), Unit.status == UnitStatus.DISPO)
                .values(status=UnitStatus.RESERVED, auto_ecole_id=school.id,
                        reserved_at=reserved_at, reserved_by_id=actor.id)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != len(ids):
                taken = True
                break
    except DBAPIError:  # deadlock, serialisation or lock timeout: treated as a lost race
        taken = True
    if taken:
        db.session.rollback()
        raise _lost_race(department_id, school_of)

    reserved: dict[int, list[Unit]] = {}
    for unit in selected:
        # Locked and matched by the UPDATE: the rows now hold exactly these values, so the
        # loaded units take them rather than being read again.
        school = school_of[unit.id]
        for key, value in (("status", UnitStatus.RESERVED), ("auto_ecole_id", school.id),
                           ("auto_ecole", school), ("reserved_at", reserved_at),
                           ("reserved_by_id", actor.id)):
            set_committed_value(unit, key, value)
        history.record(actor, "unit.reserved", "unit", unit.id, department_id=department_id,
                       before=before[unit.id], after=history.snapshot_unit(unit))
        reserved.setdefault(school.id, []).append(unit)
    for school in sorted(wanted, key=lambda s: s.id):
        notify.reservation_email(school, reserved[school.id])
    db.session.commit()
    return reserved


def _refusal(selected: list[Unit], school_of: dict, now) -> DomainError | None:
    """Why the selected units cannot be reserved (the first one started, else the first one
    no longer Dispo AE), or None."""
    for unit in selected:
        if dates.has_started(unit.session.date, unit.start_time, now):
            return DomainError(f"L'unité {describe_unit(unit)} est passée : elle ne peut plus "
                               "être attribuée. Aucune place n'a été réservée.",
                               title="Réservation impossible")
    for unit in selected:
        if unit.status != UnitStatus.DISPO:
            return _not_dispo(unit, school_of[unit.id])
    return None


def _lost_race(department_id: int, school_of: dict) -> Conflict:
    """After a rolled-back reservation: the refusal naming the unit taken meanwhile."""
    for unit in scopes.units(department_id, school_of):
        if unit.status != UnitStatus.DISPO:
            return _not_dispo(unit, school_of[unit.id])
    return Conflict("Le planning vient d'être modifié en même temps par un autre agent. "
                    "Aucune place n'a été réservée : validez de nouveau.",
                    title="Réservation impossible")


def cancel_unit_by_ber(actor, unit_id, *, now: dt.datetime | None = None) -> Unit:
    """Cancel a school's exam on a unit (BER 5): the unit becomes Indispo, the school is told
    by e-mail. Allowed at any time before the exam starts, also within 6 days (the 6-day rule
    binds schools only). Refused: an unknown or foreign unit (NotFound), a unit that is not
    reserved — also the second of a double submit (Conflict), an exam already started
    (DomainError: it took place, or is taking place; its record must stay as it was)."""
    write_transaction()
    department_id = _require_ber(actor)
    unit = scopes.unit(department_id, unit_id)
    if unit.status != UnitStatus.RESERVED:
        raise Conflict(f"L'unité {describe_unit(unit)} n'est plus réservée : l'examen a déjà "
                       "été annulé.", title="Annulation impossible")
    if dates.has_started(unit.session.date, unit.start_time, now):
        raise DomainError(f"L'examen {describe_unit(unit)} a déjà commencé ou eu lieu : il ne "
                          "peut plus être annulé.", title="Annulation impossible")
    school = unit.auto_ecole
    before = history.snapshot_unit(unit)
    _change_unit(unit, [Unit.status == UnitStatus.RESERVED, Unit.auto_ecole_id == school.id],
                 {"status": UnitStatus.INDISPO, **NO_RESERVATION},
                 Conflict(f"L'unité {describe_unit(unit)} vient d'être modifiée par ailleurs : "
                          "rien n'a été annulé.", title="Annulation impossible"))
    history.record(actor, "unit.cancelled_by_ber", "unit", unit.id, department_id=department_id,
                   before=before, after=history.snapshot_unit(unit))
    candidates.forget(actor, [unit], department_id=department_id,
                      reason="examen annulé par le BER")
    notify.cancellation_by_ber_email(school, [unit])
    db.session.commit()
    return unit


def set_unit_status(actor, unit_id, status, *, now: dt.datetime | None = None) -> Unit:
    """Give a non-reserved unit the status Indispo or Dispo AE (BER 5, "Statut de la place").

    Refused: an unknown status value, an unknown or foreign unit (NotFound), a reserved unit
    (Conflict: cancel the exam first), a unit already started (DomainError). Setting the status
    it already has changes nothing and records nothing.
    """
    write_transaction()
    department_id = _require_ber(actor)
    unit = scopes.unit(department_id, unit_id)
    if status not in SETTABLE_STATUSES:
        raise DomainError("Statut inconnu : choisissez « Indisponible » ou « Disponible aux "
                          "auto-écoles ».", title="Statut invalide")
    if unit.status == UnitStatus.RESERVED:
        raise Conflict(f"L'unité {describe_unit(unit)} est réservée pour "
                       f"{unit.auto_ecole.raison_sociale} : annulez d'abord l'examen.",
                       title="Modification impossible")
    if dates.has_started(unit.session.date, unit.start_time, now):
        raise DomainError(f"L'unité {describe_unit(unit)} est passée : son statut ne peut plus "
                          "être modifié.", title="Modification impossible")
    if unit.status == status:
        return unit
    before = history.snapshot_unit(unit)
    _change_unit(unit, [Unit.status == unit.status], {"status": UnitStatus(status)},
                 Conflict(f"L'unité {describe_unit(unit)} vient d'être modifiée par ailleurs : "
                          "son statut n'a pas été changé.", title="Modification impossible"))
    history.record(actor, "unit.status_changed", "unit", unit.id, department_id=department_id,
                   before=before, after=history.snapshot_unit(unit))
    db.session.commit()
    return unit


# ---------------------------------------------------------------------------------------------
# AE: the school cancels its own units; the 6-day rule (AE 2)
# ---------------------------------------------------------------------------------------------

# A unit on day D can be cancelled by its school until day D-6 inclusive (Paris wall clock).
AE_CANCEL_DAYS = 6

LATE_CANCEL_MESSAGE = (
    "Pour une annulation tardive, contactez votre BER : une auto-école ne peut plus annuler "
    f"une unité moins de {AE_CANCEL_DAYS} jours avant la date de l'examen."
)
PAST_EXAM_MESSAGE = "Cet examen est passé : il ne peut plus être annulé."
ALREADY_CANCELLED_MESSAGE = (
    "Cette unité a déjà été annulée : elle n'est plus réservée pour votre auto-école."
)


def ae_cancel_deadline(unit_date: dt.date) -> dt.date:
    """The last day (Paris) on which the school may cancel a unit of ``unit_date``."""
    return unit_date - dt.timedelta(days=AE_CANCEL_DAYS)


def can_ae_cancel(unit_date: dt.date, now: dt.datetime) -> bool:
    """True while the school may still cancel a unit on ``unit_date`` (until D-6 inclusive).

    ``now`` must be aware: it is read on a Paris wall clock, so the rule follows calendar days
    there whatever the offset (23:59 on D-6 is allowed, 00:00 on D-5 is not, also across a
    daylight-saving change).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("can_ae_cancel needs an aware datetime")
    return now.astimezone(dates.PARIS).date() <= ae_cancel_deadline(unit_date)


def _cancelled_since(unit_id, school_id: int) -> bool:
    """True for a unit no longer reserved that the history shows was once this school's (a
    cancellation already made: a double submit, or the BER's)."""
    unit = db.session.get(Unit, unit_id) if isinstance(unit_id, int) else None
    return (unit is not None and unit.status != UnitStatus.RESERVED
            and _was_ours(unit.id, school_id))


def _was_ours(unit_id: int, school_id: int) -> bool:
    """True if the history shows the unit was once reserved for this school."""
    rows = db.session.scalars(
        select(History).where(History.object_type == "unit", History.object_id == unit_id)
    )
    return any(
        school_id in ((row.before or {}).get("auto_ecole_id"),
                      (row.after or {}).get("auto_ecole_id"))
        for row in rows
    )


def cancel_unit_by_ae(actor, unit_id: int, now: dt.datetime | None = None) -> Unit:
    """The school cancels one of its reserved units (AE 2); the unit goes back to Dispo AE.

    Refused (nothing changed): another school's or an unknown unit (NotFound), a unit already
    cancelled (Conflict, also the second of a double submit), a past unit or one less than
    6 days ahead (DomainError). Records the history with the school's user as actor and queues
    the e-mail to the department's BER mailbox, in one transaction.
    """
    write_transaction()
    now = now or dates.now()
    if actor is None or actor.role != Role.AE or actor.auto_ecole_id is None:
        raise NotFound(scopes.SCHOOL_UNIT_NOT_FOUND)
    school_id = actor.auto_ecole_id
    try:
        unit = scopes.school_unit(school_id, unit_id)
    except NotFound:
        if _cancelled_since(unit_id, school_id):
            raise Conflict(ALREADY_CANCELLED_MESSAGE, title="Annulation impossible") from None
        raise
    session = unit.session
    if session.date < now.astimezone(dates.PARIS).date():
        raise DomainError(PAST_EXAM_MESSAGE, title="Annulation impossible")
    if not can_ae_cancel(session.date, now):
        raise DomainError(LATE_CANCEL_MESSAGE, title="Annulation tardive")

    before = history.snapshot_unit(unit)
    school = unit.auto_ecole
    # Two concurrent cancellations cannot both succeed: the second updates no row.
    _change_unit(unit, [Unit.status == UnitStatus.RESERVED, Unit.auto_ecole_id == school_id],
                 {"status": UnitStatus.DISPO, **NO_RESERVATION},
                 Conflict(ALREADY_CANCELLED_MESSAGE, title="Annulation impossible"))
    history.record(
        actor, "unit.cancelled_by_ae", "unit", unit.id,
        department_id=session.department_id, before=before, after=history.snapshot_unit(unit),
    )
    candidates.forget(actor, [unit], department_id=session.department_id,
                      reason="unité annulée par l'auto-école")
    department = db.session.get(Department, session.department_id)
    notify.cancellation_by_ae_email(department, school, session, unit)
    db.session.commit()
    return unit
