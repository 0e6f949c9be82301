"""Europe/Paris time and French formatting (through Babel, never hand-written month names)."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import holidays
from babel.dates import format_date as _babel_date

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def now() -> dt.datetime:
    """The current instant, aware, in Paris time."""
    return dt.datetime.now(PARIS)


def today() -> dt.date:
    """Today's date on a Paris wall clock."""
    return now().date()


def utcnow() -> dt.datetime:
    """Naive UTC timestamp for storage columns."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def paris_wall_clock(now: dt.datetime | None = None) -> dt.datetime:
    """``now`` (aware, default: the current instant) as a naive Paris wall-clock datetime.
    A naive ``now`` is taken as already on the Paris wall clock."""
    now = now or dt.datetime.now(PARIS)  # the parameter hides now()
    if now.tzinfo is not None:
        now = now.astimezone(PARIS).replace(tzinfo=None)
    return now


def has_started(day: dt.date, start: dt.time, now: dt.datetime | None = None) -> bool:
    """True once a unit of ``day`` starting at ``start`` has begun (Paris): it is "past"."""
    return dt.datetime.combine(day, start) <= paris_wall_clock(now)


# The days a screen may show. Python's dates end at 31/12/9999, so a week navigated to or
# exported from a typed "31/12/9999" overflowed; these bounds leave room for an export
# (EXPORT_MAX_WEEKS) on either side and are far beyond any real planning (see
# planning_horizon in sessions.py).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


def _strptime(text: str | None) -> dt.date | None:
    if not text or len(text) > 20:
        return None
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_fr_date(text: str | None) -> dt.date | None:
    """Parse "jj/mm/aaaa" (or ISO "aaaa-mm-jj" from <input type=date>); None when malformed or
    outside the calendar (FIRST_DAY..LAST_DAY): see date_error for the reason."""
    day = _strptime(text)
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def outside_calendar(text: str | None) -> bool:
    """True for a well-formed date that parse_fr_date refuses because of the calendar's bounds."""
    day = _strptime(text)
    return day is not None and not FIRST_DAY <= day <= LAST_DAY


def date_error(text: str, malformed: str) -> str:
    """Why the typed ``text`` is no usable date, in French. ``malformed`` ends the message of a
    malformed date (each screen says what it shows instead)."""
    shown = text.strip()[:20]
    if outside_calendar(text):
        return (f"La date « {shown} » est hors du calendrier : choisissez une date entre le "
                f"{ddmmyyyy(FIRST_DAY)} et le {ddmmyyyy(LAST_DAY)}.")
    return f"La date « {shown} » n'est pas valide : saisissez-la au format jj/mm/aaaa{malformed}"


def one_year_after(day: dt.date) -> dt.date:
    """The same day a year later (a 29 February gives the 28th)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the week that holds ``day``. A week runs Monday to Saturday (SPEC "Week"),
    so a Sunday belongs to the week it opens onto: on a Sunday, the grids, the export and the
    week copy start tomorrow, not at the week that has just ended."""
    return day + dt.timedelta(days=1 if day.weekday() == 6 else -day.weekday())


def week_days(monday: dt.date) -> list[dt.date]:
    """Monday to Saturday of the week starting on ``monday``."""
    return [monday + dt.timedelta(days=i) for i in range(6)]


@functools.lru_cache(maxsize=4096)
def fmt(day: dt.date, pattern: str) -> str:
    """``day`` in French with a Babel ``pattern``. Memoised: a page names the same few days
    again and again (a school's exams, a week's cells), and Babel parses the pattern and
    looks up the locale on every call."""
    return _babel_date(day, pattern, locale=LOCALE)


def jour_date(day: dt.date) -> str:
    """'vendredi 11/02/2022'."""
    return fmt(day, "EEEE dd/MM/yyyy")


def jour_date_cap(day: dt.date) -> str:
    """'Vendredi 11/02/2022'."""
    return jour_date(day).capitalize()


def jour_court(day: dt.date) -> str:
    """'ven.' as in the export's "Jour" column."""
    return fmt(day, "EEE")


def colonne(day: dt.date) -> str:
    """'LUN. 07/02', a grid column heading."""
    return f"{fmt(day, 'EEE').upper()} {day:%d/%m}"


def mois(day: dt.date) -> str:
    """'Février 2022'."""
    return fmt(day, "LLLL yyyy").capitalize()


def en_toutes_lettres(day: dt.date) -> str:
    """'jeudi 19 mai 2022'."""
    return fmt(day, "EEEE d MMMM yyyy")


def hhmm(t: dt.time) -> str:
    return t.strftime("%H:%M")


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def paris_datetime(moment: dt.datetime | None) -> str:
    """A stored (naive UTC) instant on a Paris wall clock: "06/12/2026 à 09:15"."""
    if moment is None:
        return ""
    local = moment.replace(tzinfo=dt.UTC).astimezone(PARIS)
    return local.strftime("%d/%m/%Y à %H:%M")


JINJA_FILTERS = {
    "paris_datetime": paris_datetime,
    "jour_date": jour_date,
    "jour_date_cap": jour_date_cap,
    "jour_court": jour_court,
    "colonne": colonne,
    "mois": mois,
    "en_toutes_lettres": en_toutes_lettres,
    "hhmm": hhmm,
    "ddmmyyyy": ddmmyyyy,
}


# French public holidays (métropole: the national list, without Alsace-Moselle's two extra
# days), from the maintained `holidays` package rather than a hand-written list: Easter Monday,
# Ascension and Whit Monday move every year. One calendar object, filled year by year on demand.
_HOLIDAYS = holidays.France(language="fr")


def public_holiday(day: dt.date) -> str | None:
    """The name of the public holiday on ``day`` ('Noël', 'Lundi de Pâques'), else None."""
    return _HOLIDAYS.get(day)
