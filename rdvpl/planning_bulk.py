"""Planning many sessions at once (SPEC Part 2, Capacity): "Recopier cette semaine" (BER 8) and
"Importer un planning" (BER 9).

Both work in two steps. The preview (``copy_preview``, ``import_preview``) names every cell that
will be planned and every cell skipped with its reason, read with the planning grid's own rule
(planning_grid._cell_state: date passée, jour férié, indisponibilité, samedi non travaillé) after
"déjà planifiée"; it changes nothing. The confirmation (``copy_week``, ``import_planning``)
computes the preview again under the write lock and applies it only if it is the one the agent
saw (its ``digest``): otherwise ``PreviewChanged`` carries the new preview and nothing changes.
The sessions then go through sessions.add_sessions — plan_sessions' own rules — in one
transaction with a history row per session and one for the copy or import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import dates
from .errors import Conflict, DomainError
from .extensions import db, write_transaction
from .history import record
from .models import Category, Centre, Inspector, Session, Tranche, User
from .names import fold, hours_label, matches, name_key
from .planning_grid import CellState, _cell_state
from .sessions import (
    CellRef,
    PlannedCell,
    add_sessions,
    planning_horizon,
    tranche_hours,
    unavailabilities,
    worked_saturdays,
)
from .xlsx_import import ParsedPlanning

COPY_MAX_WEEKS = 6  # "Sur les N semaines suivantes" (1-6), SPEC BER 8

# What the preview says of a cell that is skipped, for each closed state of the grid's rule.
STATE_REASONS = {
    CellState.PAST: "date passée",
    CellState.TODAY: "date passée (aujourd'hui)",
    CellState.CLOSED: "samedi non travaillé",
}


@dataclass
class PreviewLine:
    """One cell of a preview, every string ready to print. ``reason`` is None for a cell that
    will be planned."""

    inspector: str  # 'DUMAS Anna'
    day: str  # 'lundi 14/12/2026' (or the file's text when unreadable)
    hours: str  # '08:00 - 10:00' (or the file's tranche)
    session: str  # 'CE CARCASSONNE'
    reason: str | None = None
    row: int | None = None  # the file's row (import)
    column: str = ""  # the file's "Cat" column (import)

    @property
    def already_planned(self) -> bool:
        return bool(self.reason) and self.reason.startswith("déjà planifiée")

    @property
    def where(self) -> str:
        """'Ligne 12, colonne H' for an imported cell."""
        return f"Ligne {self.row}, colonne {self.column}" if self.row else ""


@dataclass
class Preview:
    """What a copy or an import would do: ``plans`` (the sessions to plan), ``lines`` (every
    cell: those to plan and the skipped ones, in order), ``digest`` (what the confirmation must
    match)."""

    lines: list[PreviewLine] = field(default_factory=list)
    plans: list[PlannedCell] = field(default_factory=list)
    first: dt.date | None = None  # the period concerned (copy: the target weeks)
    last: dt.date | None = None
    source: int = 0  # copy: sessions of the week copied

    @property
    def to_plan(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.reason is None]

    @property
    def skipped(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.reason is not None]

    @property
    def already(self) -> int:
        return sum(1 for line in self.lines if line.already_planned)

    @property
    def digest(self) -> str:
        """A fingerprint of the sessions to plan (cell, centre, category)."""
        keys = sorted(f"{p.cell.key}|{p.centre.id}|{p.category.id}" for p in self.plans)
        return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]


class PreviewChanged(Conflict):
    """The planning changed since the preview was shown: nothing applied; ``preview`` is the
    new one."""

    def __init__(self, preview: Preview):
        super().__init__("Le planning a changé depuis l'aperçu (une session planifiée, une "
                         "indisponibilité ou un samedi déclaré entre-temps) : rien n'a été "
                         "planifié. Vérifiez l'aperçu mis à jour puis confirmez à nouveau.",
                         title="Aperçu à vérifier")
        self.preview = preview


# ---------------------------------------------------------------------------------------------
# The one classification of both previews
# ---------------------------------------------------------------------------------------------


def _classify(actor: User, wanted: list[tuple[Inspector, dt.date, Tranche, Centre, Category,
                                              PreviewLine]],
              today: dt.date, preview: Preview, duplicate_reason: str) -> None:
    """Set each line's reason (None: to plan) and add the plannable ones to ``preview.plans``.
    Order: the inspector or centre deactivated, a non-PL category, a cell twice, a cell
    already planned, then the grid's rule (_cell_state), a Sunday, beyond the horizon."""
    if not wanted:
        return
    days = [w[1] for w in wanted]
    first, last = min(days), max(days)
    department = actor.department_id
    worked = worked_saturdays(department, first, last)
    away = unavailabilities(department, first, last)
    planned = {
        (s.inspector_id, s.date, s.tranche): f"{code} {centre}"
        for s, code, centre in db.session.execute(
            select(Session, Category.code, Centre.name)
            .join(Category, Category.id == Session.category_id)
            .join(Centre, Centre.id == Session.centre_id)
            .where(Session.department_id == department, Session.date.between(first, last),
                   Session.inspector_id.in_({w[0].id for w in wanted}))
        )
    }
    horizon = planning_horizon(today)
    seen = set()
    for inspector, day, tranche, centre, category, line in wanted:
        key = (inspector.id, day, tranche.value)
        state, grid_reason = _cell_state(inspector.id, day, tranche, today, worked, away)
        if not inspector.active:
            line.reason = "inspecteur désactivé"
        elif not centre.active:
            line.reason = "centre désactivé"
        elif not category.heavy:
            line.reason = "catégorie inconnue"
        elif key in seen:
            line.reason = duplicate_reason
        elif key in planned:
            line.reason = "déjà planifiée"
            if planned[key] != line.session:
                line.reason += f" ({planned[key]})"
        elif state == CellState.HOLIDAY:
            line.reason = grid_reason[0].lower() + grid_reason[1:]  # 'jour férié (Noël)'
        elif state == CellState.UNAVAILABLE:
            line.reason = "indisponibilité" + grid_reason.removeprefix("Indisponible")
        elif state not in (CellState.FREE, CellState.TOO_FAR):
            line.reason = STATE_REASONS[state]
        elif day.weekday() == 6:
            line.reason = "dimanche"
        elif state == CellState.TOO_FAR:
            line.reason = f"au-delà de l'horizon de planification ({dates.ddmmyyyy(horizon)})"
        seen.add(key)
        if line.reason is None:
            preview.plans.append(PlannedCell(CellRef(inspector.id, day, tranche), centre,
                                             category))


def _line(inspector: Inspector, day: dt.date, tranche: Tranche, label: str, **extra
          ) -> PreviewLine:
    return PreviewLine(inspector.nom_prenom, dates.jour_date(day),
                       hours_label(*tranche_hours(day, tranche)), label, **extra)


# ---------------------------------------------------------------------------------------------
# Recopier cette semaine (BER 8)
# ---------------------------------------------------------------------------------------------


def _check_weeks(weeks) -> int:
    if not isinstance(weeks, int) or not 1 <= weeks <= COPY_MAX_WEEKS:
        raise DomainError(f"Choisissez de 1 à {COPY_MAX_WEEKS} semaines suivantes.")
    return weeks


def copy_preview(actor: User, day: dt.date, weeks: int, *, search: str | None = None,
                 today: dt.date | None = None) -> Preview:
    """What copying the week of ``day`` (the sessions of the department's inspectors whose name
    matches ``search``, as the grid shows them) to the ``weeks`` following weeks would plan, and
    every target cell skipped with its reason. Reads only."""
    weeks = _check_weeks(weeks)
    today = today or dates.today()
    monday = dates.monday_of(day)
    saturday = monday + dt.timedelta(days=5)
    sources = [s for s in db.session.scalars(
        select(Session)
        .options(joinedload(Session.inspector), joinedload(Session.centre),
                 joinedload(Session.category))
        .where(Session.department_id == actor.department_id,
               Session.date.between(monday, saturday))
    ) if matches(s.inspector, search)]
    sources.sort(key=lambda s: (name_key(s.inspector), s.date, Tranche(s.tranche).number))
    preview = Preview(first=monday + dt.timedelta(weeks=1),
                      last=saturday + dt.timedelta(weeks=weeks), source=len(sources))
    wanted = []
    for k in range(1, weeks + 1):
        for s in sources:
            target = s.date + dt.timedelta(weeks=k)
            tranche = Tranche(s.tranche)
            label = f"{s.category.code} {s.centre.name}"
            line = _line(s.inspector, target, tranche, label)
            preview.lines.append(line)
            wanted.append((s.inspector, target, tranche, s.centre, s.category, line))
    _classify(actor, wanted, today, preview, "en double")
    return preview


@dataclass
class CopyResult:
    count: int
    first: dt.date  # Monday of the first week copied to
    last: dt.date  # Saturday of the last one


def copy_week(actor: User, day: dt.date, weeks: int, digest: str | None, *,
              search: str | None = None, today: dt.date | None = None) -> CopyResult:
    """"Recopier": plan what copy_preview lists, in one transaction, if the preview is still the
    one the agent saw (``digest``); else PreviewChanged (nothing changed). History: a row per
    session planned and one "planning.copied" row."""
    write_transaction()
    preview = copy_preview(actor, day, weeks, search=search, today=today)
    sessions = _apply(actor, preview, digest, today=today, source="copie",
                      nothing="Aucune session à recopier : toutes les cellules sont déjà "
                              "planifiées ou fermées.",
                      action="planning.copied",
                      after={"week": dates.monday_of(day), "weeks": weeks,
                             "search": search or "", "skipped": len(preview.skipped)})
    return CopyResult(len(sessions), preview.first, preview.last)


def _apply(actor: User, preview, digest: str | None, *, today, source: str, nothing: str,
           action: str, after: dict) -> list[Session]:
    """Plan a preview's sessions and its history rows, and commit; refused, with nothing
    changed, when the preview is no longer the one the agent saw (``digest``: PreviewChanged,
    with the new one) or plans nothing (``nothing``). The caller began the write transaction
    and computed ``preview`` under it."""
    if digest != preview.digest:
        raise PreviewChanged(preview)
    if not preview.plans:
        raise DomainError(nothing)
    sessions = add_sessions(actor, preview.plans, today=today, source=source)
    record(actor, action, "department", actor.department_id, department_id=actor.department_id,
           after={**after, "sessions": len(sessions), "session_ids": [s.id for s in sessions]})
    db.session.commit()
    return sessions


# ---------------------------------------------------------------------------------------------
# Importer un planning (BER 9)
# ---------------------------------------------------------------------------------------------


def import_preview(actor: User, parsed: ParsedPlanning, *, today: dt.date | None = None
                   ) -> Preview:
    """Each filled cell of the file: to plan, "déjà planifiée", or refused with its reason —
    inspecteur inconnu, autre département, inspecteur désactivé, centre inconnu, centre
    désactivé, catégorie inconnue, date illisible, tranche inconnue, cellule incomplète, then
    the grid's reasons (see _classify). Reads only."""
    today = today or dates.today()
    department = actor.department_id
    ours: dict[str, list[Inspector]] = {}
    for inspector in db.session.scalars(select(Inspector).where(
            Inspector.department_id == department)):
        ours.setdefault(fold(inspector.nom_prenom), []).append(inspector)
    elsewhere = set()
    names = {fold(name) for _, name in parsed.inspectors} - set(ours)
    if names:
        elsewhere = {fold(i.nom_prenom) for i in db.session.scalars(select(Inspector).where(
            Inspector.department_id != department))} & names
    centres = {fold(c.name): c for c in db.session.scalars(select(Centre).where(
        Centre.department_id == department))}
    categories = {c.code.upper(): c for c in db.session.scalars(select(Category))}

    preview = Preview()
    wanted = []
    for cell in parsed.cells:
        who = parsed.inspectors[cell.inspector][1]
        day = dt.date.fromisoformat(cell.day) if cell.day else None
        tranche = cell.tranche.upper() if cell.tranche.upper() in set(Tranche) else None
        line = PreviewLine(who, dates.jour_date(day) if day else cell.day_text,
                           hours_label(*tranche_hours(day, tranche)) if day and tranche
                           else cell.tranche, f"{cell.category} {cell.centre}".strip(),
                           row=cell.row, column=cell.column)
        preview.lines.append(line)
        matching = ours.get(fold(who), [])
        category = categories.get(cell.category.upper())
        centre = centres.get(fold(cell.centre))
        if not matching:
            line.reason = ("autre département" if fold(who) in elsewhere
                           else "inspecteur inconnu")
        elif len(matching) > 1:
            line.reason = "inspecteur ambigu (plusieurs inspecteurs de ce nom)"
        elif day is None:
            line.reason = "date illisible"
        elif tranche is None:
            line.reason = "tranche inconnue"
        elif not cell.category or not cell.centre:
            line.reason = "cellule incomplète (catégorie et centre attendus)"
        elif category is None or not category.heavy:
            line.reason = "catégorie inconnue"
        elif centre is None:
            line.reason = "centre inconnu"
        else:
            line.inspector = matching[0].nom_prenom
            line.session = f"{category.code} {centre.name}"
            wanted.append((matching[0], day, Tranche(tranche), centre, category, line))
    _classify(actor, wanted, today, preview, "en double dans le fichier")
    days = [w[1] for w in wanted]
    preview.first, preview.last = (min(days), max(days)) if days else (None, None)
    return preview


@dataclass
class ImportResult:
    count: int
    already: int
    refused: int
    first: dt.date  # the first day planned (the planning page opens on its week)


def import_planning(actor: User, parsed: ParsedPlanning, digest: str | None, *,
                    name: str = "", today: dt.date | None = None) -> ImportResult:
    """"Importer N session(s)": plan what import_preview lists, in one transaction, if the
    preview is still the one the agent saw (``digest``); else PreviewChanged (nothing changed).
    History: a row per session planned and one "planning.imported" row naming the file."""
    write_transaction()
    preview = import_preview(actor, parsed, today=today)
    already = preview.already
    refused = len(preview.skipped) - already
    sessions = _apply(actor, preview, digest, today=today, source="import",
                      nothing="Aucune session à importer : chaque cellule du fichier est déjà "
                              "planifiée ou refusée.",
                      action="planning.imported",
                      after={"file": name[:120], "already": already, "refused": refused})
    return ImportResult(len(sessions), already, refused, min(s.date for s in sessions))
