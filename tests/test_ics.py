"""AE 4: the .ics of reservation and cancellation e-mails, received by a real SMTP server and
read back with tests/ical_parse.py (a reader of our own, not the ``icalendar`` package the app
writes with): UID, SEQUENCE, METHOD, times across the spring daylight-saving change, partial
cancellations, session deletions, AE 2, BER 10, and retries sending the same bytes."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import booking, sessions
from rdvpl.extensions import db
from rdvpl.models import OutboxMail, Tranche, Unit
from rdvpl.notify import deliver_pending
from rdvpl.seed import seed_demo
from tests import ical_parse
from tests.conftest import user_by_email
from tests.helpers import planned_session, school

UTC = dt.UTC
# Paris changes to summer time on Sunday 2027-03-28: +01:00 before, +02:00 after.
FRIDAY = dt.date(2027, 3, 26)
MONDAY = dt.date(2027, 3, 29)


@pytest.fixture(autouse=True)
def _before_those_dates(paris_clock):
    """"Today" is 01/03/2027 for these tests, so that their fixed dates stay ahead of it."""
    paris_clock(dt.datetime(2027, 3, 1, 9))


@pytest.fixture
def setup(app, smtp):
    with app.app_context():
        seed_demo()
        smtp.clear()
        yield app, smtp


def ber():
    return user_by_email("ber011@example.test")


def morning(day: dt.date):
    """DUMAS (Inspecteur 2488, CARCASSONNE) 10:00-12:00 on ``day``: 4 units Dispo AE."""
    session = planned_session("DUMAS", day, Tranche.M2)
    return sorted(session.units, key=lambda u: u.start_time)


def calendar_of(message):
    """(Content-Type's method, filename, the .ics text) of the e-mail's one attachment."""
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    return part.get_param("method"), part.get_filename(), part.get_content()


def utc(prop) -> dt.datetime:
    return prop.moment.astimezone(UTC)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def test_reservation_then_cancellation_across_daylight_saving(setup):
    app, smtp = setup
    friday, monday = morning(FRIDAY), morning(MONDAY)
    booking.reserve_units(ber(), [friday[0].id, friday[1].id, monday[0].id], school().id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    method, filename, text = calendar_of(mail)
    assert (method, filename) == ("REQUEST", "reservation.ics")

    calendar, events = ical_parse.events(text)
    assert calendar["METHOD"] == "REQUEST" and calendar["VERSION"] == "2.0"
    assert len(events) == 2  # one per run: Friday 10:00-11:00, Monday 10:00-10:30
    fri, mon = events
    assert fri.one("DTSTART").params["TZID"] == "Europe/Paris"
    # 10:00 in Paris is 09:00 UTC before the change, 08:00 UTC after it.
    assert (utc(fri.one("DTSTART")), utc(fri.one("DTEND"))) == (at(FRIDAY, 9), at(FRIDAY, 10))
    assert (utc(mon.one("DTSTART")), utc(mon.one("DTEND"))) == (at(MONDAY, 8),
                                                                at(MONDAY, 8, 30))
    assert fri["SEQUENCE"] == mon["SEQUENCE"] == "0" and fri["UID"] != mon["UID"]
    assert fri.one("LOCATION").text == "CARCASSONNE"
    assert "Inspecteur 2488" in fri.one("DESCRIPTION").text
    assert "DUMAS" not in text and "Anna" not in text  # a school never sees the name
    assert fri.one("ATTENDEE").value == "mailto:alliance@example.test"
    # The file carries the rules of its time zone: +01:00 in winter, +02:00 in summer.
    [zone] = calendar.sub("VTIMEZONE")
    assert zone["TZID"] == "Europe/Paris"
    offsets = {(c.name, c["TZOFFSETTO"]) for c in zone.children}
    assert {("STANDARD", "+0100"), ("DAYLIGHT", "+0200")} <= offsets
    # ...and its own rules put summer time between the two days: onset on 2027-03-28.
    onsets = {v[:8] for c in zone.sub("DAYLIGHT")
              for p in c.all("DTSTART") + c.all("RDATE") for v in p.value.split(",")}
    assert "20270328" in onsets

    smtp.clear()
    booking.cancel_unit_by_ber(ber(), monday[0].id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    method, filename, text = calendar_of(mail)
    assert (method, filename) == ("CANCEL", "annulation.ics")
    calendar, [cancelled] = ical_parse.events(text)
    assert calendar["METHOD"] == "CANCEL"
    assert cancelled["UID"] == mon["UID"] and int(cancelled["SEQUENCE"]) > int(mon["SEQUENCE"])
    assert cancelled["STATUS"] == "CANCELLED"
    assert utc(cancelled.one("DTSTART")) == at(MONDAY, 8)


def test_partial_cancellations_follow_what_the_calendar_holds(setup):
    app, smtp = setup
    units = morning(FRIDAY)  # 10:00 10:30 11:00 11:30
    booking.reserve_units(ber(), [u.id for u in units], school().id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    _, [run] = ical_parse.events(calendar_of(mail)[2])
    assert (utc(run.one("DTSTART")), utc(run.one("DTEND"))) == (at(FRIDAY, 9), at(FRIDAY, 11))

    # 10:30 cancelled: the event is shortened to 10:00-10:30 (same UID, SEQUENCE 1) and
    # 11:00-12:00 becomes an event of its own. Nothing the school keeps is cancelled.
    smtp.clear()
    booking.cancel_unit_by_ber(ber(), units[1].id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    method, _, text = calendar_of(mail)
    calendar, [first, rest] = ical_parse.events(text)
    assert method == calendar["METHOD"] == "REQUEST"
    assert (first["UID"], first["SEQUENCE"]) == (run["UID"], "1")
    assert (utc(first.one("DTSTART")), utc(first.one("DTEND"))) == (at(FRIDAY, 9),
                                                                    at(FRIDAY, 9, 30))
    assert rest["UID"] != run["UID"] and rest["SEQUENCE"] == "0"
    assert (utc(rest.one("DTSTART")), utc(rest.one("DTEND"))) == (at(FRIDAY, 10),
                                                                  at(FRIDAY, 11))
    assert first["STATUS"] == rest["STATUS"] == "CONFIRMED"

    # The school cancels 11:00 (AE 2, more than 6 days ahead): the e-mail (to the BER
    # mailbox) shortens the second event.
    smtp.clear()
    ae = user_by_email("alliance@example.test")
    booking.cancel_unit_by_ae(ae, units[2].id, now=dt.datetime(2027, 3, 1, 12, tzinfo=UTC))
    [mail] = smtp.wait_for(count=1, timeout=5)
    assert mail["To"] == "pl.ber011@example.test"
    _, [shorter] = ical_parse.events(calendar_of(mail)[2])
    assert (shorter["UID"], shorter["SEQUENCE"]) == (rest["UID"], "1")
    assert utc(shorter.one("DTSTART")) == at(FRIDAY, 10, 30)

    # 10:00, the last unit of the first event: that event is cancelled, SEQUENCE 2.
    smtp.clear()
    booking.cancel_unit_by_ber(ber(), units[0].id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    method, _, text = calendar_of(mail)
    calendar, [gone] = ical_parse.events(text)
    assert method == calendar["METHOD"] == "CANCEL"
    assert (gone["UID"], gone["SEQUENCE"], gone["STATUS"]) == (run["UID"], "2", "CANCELLED")


def test_a_later_reservation_next_to_an_event_is_an_event_of_its_own(setup):
    """The school's calendar holds what each e-mail told it: cancelling the unit reserved
    second cancels the second event, not a part of the first."""
    app, smtp = setup
    units = morning(FRIDAY)
    booking.reserve_units(ber(), [units[0].id, units[1].id], school().id)
    booking.reserve_units(ber(), [units[2].id], school().id)
    first, second = smtp.wait_for(count=2, timeout=5)
    _, [a] = ical_parse.events(calendar_of(first)[2])
    _, [b] = ical_parse.events(calendar_of(second)[2])
    assert a["UID"] != b["UID"]
    smtp.clear()
    booking.cancel_unit_by_ber(ber(), units[2].id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    calendar, [gone] = ical_parse.events(calendar_of(mail)[2])
    assert (calendar["METHOD"], gone["UID"], gone["SEQUENCE"]) == ("CANCEL", b["UID"], "1")


def test_session_deletion_cancels_every_event_in_one_file(setup):
    app, smtp = setup
    friday, monday = morning(FRIDAY), morning(MONDAY)
    booking.reserve_units(ber(), [friday[0].id, friday[3].id, monday[0].id], school().id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    _, reserved = ical_parse.events(calendar_of(mail)[2])
    kept = [e for e in reserved if utc(e.one("DTSTART")) == at(MONDAY, 8)]
    reserved = [e for e in reserved if e not in kept]
    smtp.clear()
    sessions.delete_session(ber(), friday[0].session_id, today=dt.date(2027, 3, 1))
    [mail] = smtp.wait_for(count=1, timeout=5)
    method, _, text = calendar_of(mail)
    calendar, cancelled = ical_parse.events(text)
    assert method == calendar["METHOD"] == "CANCEL"
    assert sorted((e["UID"], e["SEQUENCE"]) for e in cancelled) == sorted(
        (e["UID"], "1") for e in reserved)
    assert {e["STATUS"] for e in cancelled} == {"CANCELLED"}
    assert kept[0]["UID"] not in text  # Monday's event is not touched


def test_apply_the_allocation_sends_each_school_its_calendar(setup):
    app, smtp = setup
    units = morning(FRIDAY)
    other = school("auto-ecole-aurige-2")
    booking.reserve_for_schools(ber(), {school().id: [units[0].id, units[1].id],
                                        other.id: [units[3].id]})
    mails = {m["To"]: m for m in smtp.wait_for(count=2, timeout=5)}
    _, mine = ical_parse.events(calendar_of(mails["alliance@example.test"])[2])
    _, theirs = ical_parse.events(calendar_of(mails[other.email])[2])
    assert [utc(e.one("DTSTART")) for e in mine] == [at(FRIDAY, 9)]
    assert [utc(e.one("DTSTART")) for e in theirs] == [at(FRIDAY, 10, 30)]


def test_a_retry_sends_the_same_bytes(setup):
    """The .ics is stored with the mail: a retry carries the same file and Message-ID."""
    app, smtp = setup
    units = morning(FRIDAY)
    smtp.answer = "451 4.3.0 Réessayez plus tard"
    booking.reserve_units(ber(), [units[0].id], school().id)
    [refused] = smtp.attempts  # delivered synchronously after the commit, refused
    assert smtp.messages == []
    smtp.answer = None
    db.session.commit()  # end this read transaction (on SQLite it holds the write lock)
    assert deliver_pending(app, ignore_backoff=True) == {"sent": 1, "failed": 0}
    [accepted] = smtp.wait_for(count=1, timeout=5)
    [a] = list(refused.iter_attachments())
    [b] = list(accepted.iter_attachments())
    assert a.get_payload(decode=True) == b.get_payload(decode=True)
    assert refused["Message-ID"] == accepted["Message-ID"]
    stored = db.session.scalar(sa.select(OutboxMail.attachment_body))
    assert b.get_payload(decode=True).decode() == stored


def test_mails_without_calendar_have_no_attachment(setup):
    """Units reserved before UIDs existed (no event in any calendar): their cancellation e-mail
    has no .ics."""
    app, smtp = setup
    session = planned_session("DUMAS", FRIDAY, Tranche.M2, reserved=[0], for_school=school())
    unit = db.session.get(Unit, sorted(session.units, key=lambda u: u.start_time)[0].id)
    assert unit.ics_uid is None
    booking.cancel_unit_by_ber(ber(), unit.id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    assert list(mail.iter_attachments()) == []


def test_an_absence_over_reserved_sessions_cancels_their_events(setup):
    """BER 6: "Supprimer ces sessions et prévenir les auto-écoles" — one e-mail per school,
    its .ics cancelling every event of the removed sessions."""
    from rdvpl.capacity import add_absence
    from tests.helpers import inspector

    app, smtp = setup
    friday, monday = morning(FRIDAY), morning(MONDAY)
    booking.reserve_units(ber(), [friday[0].id, monday[2].id, monday[3].id], school().id)
    [mail] = smtp.wait_for(count=1, timeout=5)
    _, reserved = ical_parse.events(calendar_of(mail)[2])
    smtp.clear()
    ids = {friday[0].session_id, monday[0].session_id}
    add_absence(ber(), inspector("DUMAS").id, "Congé", FRIDAY, False, MONDAY, True,
                confirmed=ids, today=dt.date(2027, 3, 1))
    [mail] = smtp.wait_for(count=1, timeout=5)
    calendar, cancelled = ical_parse.events(calendar_of(mail)[2])
    assert calendar["METHOD"] == "CANCEL"
    assert sorted((e["UID"], e["SEQUENCE"], e["STATUS"]) for e in cancelled) == sorted(
        (e["UID"], "1", "CANCELLED") for e in reserved)
    assert [utc(e.one("DTSTART")) for e in cancelled] == [at(FRIDAY, 9), at(MONDAY, 9)]


def _summer_starts(vtimezone) -> set[dt.date]:
    """The days the VTIMEZONE's DAYLIGHT part starts (its DTSTART and RDATEs)."""
    [daylight] = vtimezone.sub("DAYLIGHT")
    values = [daylight["DTSTART"]] + [v for p in daylight.all("RDATE") for v in p.value.split(",")]
    return {dt.datetime.strptime(v, "%Y%m%dT%H%M%S").date() for v in values}


@pytest.mark.parametrize("days", [
    [dt.date(2027, 6, 1)],
    [dt.date(2027, 6, 1), dt.date(2029, 1, 10)],
    [dt.date(2031, 11, 3)],
])
def test_the_timezone_of_each_file_covers_the_years_of_its_events(days):
    """The VTIMEZONE (built once per span of years) comes before the events and holds the
    summer time of the year before, of every year of the events, and of the year after."""
    from rdvpl import ics

    events = [ics.CalendarEvent(f"uid-{n}@rdvpl.test", 0, day, dt.time(8), dt.time(10), 4,
                                "CARCASSONNE", "CE", "Inspecteur 2488")
              for n, day in enumerate(days)]
    text = ics.calendar_text(events, method=ics.REQUEST)
    calendar, found = ical_parse.events(text)
    assert [c.name for c in calendar.children][0] == "VTIMEZONE" and len(found) == len(days)
    [vtimezone] = calendar.sub("VTIMEZONE")
    assert vtimezone["TZID"] == "Europe/Paris"
    assert {p["TZOFFSETTO"] for p in vtimezone.sub("DAYLIGHT")} == {"+0200"}
    starts = _summer_starts(vtimezone)
    for year in range(min(days).year - 1, max(days).year + 2):
        last_sunday_of_march = max(dt.date(year, 3, d) for d in range(25, 32)
                                   if dt.date(year, 3, d).weekday() == 6)
        assert last_sunday_of_march in starts
