"""How people and cells are named and searched: the accessible names of SPEC "Named controls",
the spelling of the banners, and the accent-free search of names as people type them."""

from __future__ import annotations

import datetime as dt
import unicodedata

from . import dates
from .models import Inspector


def hours_label(start: dt.time, end: dt.time) -> str:
    """'08:00 - 10:00', as written in each grid cell and unit."""
    return f"{start:%H:%M} - {end:%H:%M}"


def cell_name(inspector: Inspector, day: dt.date, start: dt.time, end: dt.time) -> str:
    """A cell's accessible name and how messages name it: 'DUMAS Anna, vendredi 11/02/2022,
    08:00 - 10:00' (SPEC "Named controls")."""
    return f"{inspector.nom_prenom}, {dates.jour_date(day)}, {hours_label(start, end)}"


def name_capitalised(inspector: Inspector) -> str:
    """'Monteil Marie', as the guide's deletion banner writes the inspector."""
    return f"{inspector.last_name.title()} {inspector.first_name}"


def fold(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced text, to search names as people type them."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def matches(inspector: Inspector, search: str | None) -> bool:
    """Every word typed appears in the inspector's name ('dumas anna', 'Kleber', 'ANNA')."""
    haystack = fold(f"{inspector.last_name} {inspector.first_name}")
    return all(word in haystack for word in fold(search).split())


def name_key(inspector: Inspector) -> tuple[str, str]:
    """Sort key: by last name, then first name, ignoring case and accents."""
    return fold(inspector.last_name), fold(inspector.first_name)
