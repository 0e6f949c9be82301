"""Planning of exam sessions: tranche hours, unit creation (domain: no request, no templates)."""

from __future__ import annotations

import datetime as dt

from .models import UNIT_MINUTES, Session, Tranche, Unit, UnitStatus

_T = dt.time

# The usual hours of each tranche; the guide shows Friday afternoons shifted by 30 minutes.
DEFAULT_HOURS: dict[Tranche, tuple[dt.time, dt.time]] = {
    Tranche.M1: (_T(8, 0), _T(10, 0)),
    Tranche.M2: (_T(10, 0), _T(12, 0)),
    Tranche.S1: (_T(13, 0), _T(15, 0)),
    Tranche.S2: (_T(15, 0), _T(17, 0)),
}
FRIDAY_HOURS: dict[Tranche, tuple[dt.time, dt.time]] = {
    **DEFAULT_HOURS,
    Tranche.S1: (_T(13, 30), _T(15, 30)),
    Tranche.S2: (_T(15, 30), _T(17, 30)),
}


def tranche_hours(day: dt.date, tranche: Tranche | str) -> tuple[dt.time, dt.time]:
    """Start and end of ``tranche`` on ``day`` (Europe/Paris wall clock)."""
    table = FRIDAY_HOURS if day.weekday() == 4 else DEFAULT_HOURS
    return table[Tranche(tranche)]


def unit_slots(start: dt.time, end: dt.time) -> list[tuple[dt.time, dt.time]]:
    """The 30-minute units between ``start`` and ``end``."""
    slots = []
    anchor = dt.datetime.combine(dt.date.min, start)
    stop = dt.datetime.combine(dt.date.min, end)
    step = dt.timedelta(minutes=UNIT_MINUTES)
    while anchor + step <= stop:
        slots.append((anchor.time(), (anchor + step).time()))
        anchor += step
    return slots


def build_units(session: Session, status: UnitStatus = UnitStatus.DISPO) -> list[Unit]:
    """Attach the session's 30-minute units (Dispo AE by default) to it."""
    units = [
        Unit(start_time=start, end_time=end, status=status)
        for start, end in unit_slots(session.start_time, session.end_time)
    ]
    session.units.extend(units)
    return units
