"""The school's exams as calendar files (AE 4): the ``.ics`` of reservation and cancellation
e-mails, and the school's private feed ("Mon agenda").

**Events.** An event is a run of consecutive 30-minute units of one session (one inspector, one
centre, one day, one category; the end of one unit is the start of the next), in Europe/Paris
time with its VTIMEZONE, the centre as LOCATION and the inspector as "Inspecteur 2488" only.

**UID and SEQUENCE are stored, not recomputed** (``Unit.ics_uid``, ``Unit.ics_sequence``). What
the school's calendar holds depends on the e-mails it received, not on today's units: two
reservations of adjacent units made a week apart are two events there, and a cancellation must
name the very event that holds the unit. So each reservation gives each of its runs a new random
UID (SEQUENCE 0) written on its units; a cancellation reads the UID of each cancelled unit:

- the event loses all its units: METHOD:CANCEL, same UID, SEQUENCE + 1 (the school's calendar
  deletes it);
- the event keeps some units (one unit of a 4-unit run cancelled): the event is *updated*, not
  cancelled — METHOD:REQUEST, same UID, SEQUENCE + 1, with the hours of the units left; if the
  cancelled unit was in the middle, the units after it become a new event (new UID). RFC 5546
  has no "cancel part of an event": a CANCEL would delete the units the school keeps.

An e-mail's file has one METHOD. Events never cross a session boundary, so that a deleted
session (BER 2, BER 6/7) always takes whole events with it (only CANCELs), and a BER 5 or AE 2
cancellation touches one unit, hence one event (a CANCEL or a REQUEST): the two kinds never
meet in one e-mail. (Were they to meet, the file is a REQUEST whose cancelled events carry
STATUS:CANCELLED.) Units reserved before this existed have no UID: no calendar holds them, so
their cancellation carries no event for them.

No Flask request here; ``queue`` functions of rdvpl/notify.py call ``reservation_events`` /
``cancellation_events`` inside the caller's transaction (they write the UIDs on the units).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app
from icalendar import Calendar, Event, Timezone, vCalAddress, vText
from sqlalchemy import select

from .dates import PARIS
from .extensions import db
from .models import Unit, UnitStatus

PRODID = "-//RdvPermis PL//Examens du permis poids lourds//FR"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
CONTENT_TYPE = "text/calendar; charset=UTF-8; method={method}"


@dataclass
class CalendarEvent:
    """One event of a calendar file: a run of units as the school's calendar holds it."""

    uid: str
    sequence: int
    day: dt.date
    start: dt.time
    end: dt.time
    units: int
    centre: str
    category: str
    inspector: str  # "Inspecteur 2488": a school never sees the inspector's name
    cancelled: bool = False

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.day, self.start, tzinfo=PARIS)

    @property
    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.day, self.end, tzinfo=PARIS)


def runs(units: list[Unit]) -> list[list[Unit]]:
    """Runs of consecutive units of one session, by day and hour."""
    ordered = sorted(units, key=lambda u: (u.session.date, u.session_id, u.start_time))
    result: list[list[Unit]] = []
    for unit in ordered:
        last = result[-1][-1] if result else None
        if last is not None and last.session_id == unit.session_id \
                and last.end_time == unit.start_time:
            result[-1].append(unit)
        else:
            result.append([unit])
    result.sort(key=lambda run: (run[0].session.date, run[0].start_time, run[0].session_id))
    return result


def _event(run: list[Unit], uid: str, sequence: int, *, cancelled: bool = False
           ) -> CalendarEvent:
    s = run[0].session
    return CalendarEvent(uid=uid, sequence=sequence, day=s.date, start=run[0].start_time,
                         end=run[-1].end_time, units=len(run), centre=s.centre.name,
                         category=s.category.code, inspector=s.inspector.public_name,
                         cancelled=cancelled)


def _domain() -> str:
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    address = parseaddr(sender if isinstance(sender, str) else sender[-1])[1]
    return address.rpartition("@")[2] or "rdvpl.invalid"


def new_uid() -> str:
    """A UID of its own for a new event (random: a unit reserved again after a cancellation
    must not revive the cancelled event)."""
    return f"examen-{uuid.uuid4().hex}@{_domain()}"


def _place(run: list[Unit], uid: str, sequence: int) -> None:
    for unit in run:
        unit.ics_uid = uid
        unit.ics_sequence = sequence


def reservation_events(units: list[Unit]) -> list[CalendarEvent]:
    """The events of newly reserved units: one new event (new UID, SEQUENCE 0) per run, its
    UID written on its units (caller's transaction)."""
    events = []
    for run in runs(units):
        uid = new_uid()
        _place(run, uid, 0)
        events.append(_event(run, uid, 0))
    return events


def cancellation_events(units: list[Unit]) -> tuple[str, list[CalendarEvent]]:
    """What the school's calendar must do once ``units`` are cancelled: (METHOD, events).

    Call it in the transaction that cancels them, after their change and before the deletion
    of their sessions: it reads the UID each unit still carries, the units left in the same
    event, and writes the new SEQUENCE / UIDs (see the module's docstring)."""
    touched: dict[str, list[Unit]] = {}
    for unit in units:
        if unit.ics_uid:
            touched.setdefault(unit.ics_uid, []).append(unit)
    events: list[CalendarEvent] = []
    for uid in sorted(touched, key=lambda k: min((u.session.date, u.start_time)
                                                 for u in touched[k])):
        gone = touched[uid]
        gone_ids = {u.id for u in gone}
        kept = list(db.session.scalars(
            select(Unit).where(Unit.ics_uid == uid, Unit.status == UnitStatus.RESERVED,
                               Unit.id.not_in(gone_ids))))
        sequence = max(u.ics_sequence for u in gone + kept) + 1
        if not kept:
            events.append(_event(sorted(gone, key=lambda u: u.start_time), uid, sequence,
                                 cancelled=True))
        else:
            for i, run in enumerate(runs(kept)):
                run_uid, run_sequence = (uid, sequence) if i == 0 else (new_uid(), 0)
                _place(run, run_uid, run_sequence)
                events.append(_event(run, run_uid, run_sequence))
        for unit in gone:
            unit.ics_uid = None
            unit.ics_sequence = 0
    method = CANCEL if events and all(e.cancelled for e in events) else REQUEST
    return method, events


def feed_events(units: list[Unit]) -> list[CalendarEvent]:
    """The events of a school's feed: its reserved units grouped as its calendar holds them
    (by stored UID; units reserved before UIDs existed: by run, with a UID of their own)."""
    by_uid: dict[str, list[Unit]] = {}
    for unit in units:
        by_uid.setdefault(unit.ics_uid or "", []).append(unit)
    events = []
    for uid, grouped in by_uid.items():
        for i, run in enumerate(runs(grouped)):
            if uid and i == 0:
                events.append(_event(run, uid, max(u.ics_sequence for u in run)))
            else:  # no stored UID, or a second run under one UID (should not happen)
                events.append(_event(run, f"examen-unite-{run[0].id}@{_domain()}", 0))
    events.sort(key=lambda e: (e.day, e.start, e.centre))
    return events


def _summary(event: CalendarEvent) -> str:
    units = "1 unité" if event.units == 1 else f"{event.units} unités"
    return f"Examen permis {event.category} ({units}) — {event.centre}"


def _description(event: CalendarEvent) -> str:
    units = ("1 unité d'examen" if event.units == 1
             else f"{event.units} unités d'examen")
    return (f"Examen pratique du permis de conduire, catégorie {event.category} : {units} de "
            f"30 minutes, de {event.start:%H:%M} à {event.end:%H:%M}.\n"
            f"Centre d'examen : {event.centre}.\n{event.inspector}.\n"
            "Réservation gérée sur RdvPermis (examens du permis poids lourds).")


def calendar_text(events: list[CalendarEvent], *, method: str | None = None,
                  name: str | None = None, organizer: tuple[str, str] | None = None,
                  attendee: tuple[str, str] | None = None,
                  stamp: dt.datetime | None = None) -> str:
    """The iCalendar text (RFC 5545) of ``events``, with the VTIMEZONE of Europe/Paris.

    ``method``: REQUEST or CANCEL for an e-mail (iTIP, RFC 5546; then ``organizer`` and
    ``attendee``, each (address, name), are required by calendar apps), None for the feed.
    ``name``: the calendar's display name (feed)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", "Europe/Paris")
        cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", dt.timedelta(hours=1))
    stamp = stamp or dt.datetime.now(dt.UTC)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("sequence", item.sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.ends_at)
        event.add("summary", _summary(item))
        event.add("location", vText(item.centre))
        event.add("description", _description(item))
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        if organizer:
            who = vCalAddress(f"mailto:{organizer[0]}")
            who.params["cn"] = vText(organizer[1])
            event.add("organizer", who)
        if attendee:
            who = vCalAddress(f"mailto:{attendee[0]}")
            who.params["cn"] = vText(attendee[1])
            who.params["role"] = vText("REQ-PARTICIPANT")
            who.params["partstat"] = vText("ACCEPTED")
            who.params["rsvp"] = vText("FALSE")
            event.add("attendee", who)
        cal.add_component(event)
    text = cal.to_ical().decode("utf-8")
    if not events:
        return text
    # The VTIMEZONE before the events (RFC 5545: before the components that name its TZID),
    # with the transitions of the years around these events only (not 1970-2038).
    years = [e.day.year for e in events]
    first_event = text.index("BEGIN:VEVENT\r\n")
    return text[:first_event] + _vtimezone(min(years) - 1, max(years) + 1) + text[first_event:]


@functools.lru_cache(maxsize=32)
def _vtimezone(first_year: int, last_year: int) -> str:
    """Europe/Paris' VTIMEZONE with its transitions from the first of January of
    ``first_year`` to the last of December of ``last_year``, as iCalendar text: the same for
    every file of those years, and most of a small file's lines, so it is built once."""
    zone = Timezone.from_tzid(PARIS.key, first_date=dt.date(first_year, 1, 1),
                              last_date=dt.date(last_year, 12, 31))
    return zone.to_ical().decode("utf-8")
