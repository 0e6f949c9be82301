""""Mon agenda" (AE 4): the school's private calendar feed.

A school has at most one live feed link. Its secret is a random token of 256 bits
(``secrets.token_urlsafe(32)``), given to the school once, when generated; the database keeps
only its SHA-256 (a leaked database does not give working links; a token this long needs no slow
hash). "Générer un nouveau lien" replaces the hash in one UPDATE: the old link answers 404 from
the next request on. The feed is read without a session (calendar apps have none): whoever holds
the link sees the school's upcoming PL exams — centre, hours, "Inspecteur 2488" — and nothing
else.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from . import history, ics, scopes, tokens
from .dates import utcnow
from .errors import NotFound
from .extensions import db, write_transaction
from .models import AutoEcole, Category, Role, Session

# What token_urlsafe(32) produces: 43 characters of the URL-safe base64 alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def _own_school(actor) -> AutoEcole:
    if actor is None or actor.role != Role.AE or actor.auto_ecole_id is None:
        raise NotFound(scopes.SCHOOL_UNIT_NOT_FOUND)
    school = db.session.get(AutoEcole, actor.auto_ecole_id)
    if school is None:
        raise NotFound(scopes.SCHOOL_UNIT_NOT_FOUND)
    return school


def new_feed_link(actor) -> str:
    """Generate the school's feed token ("Générer un nouveau lien"): the previous one, if any,
    stops working at once. Returns the token (shown once; only its hash is kept). History row
    "calendar.link_generated" (no token in it)."""
    write_transaction()
    school = _own_school(actor)
    token, token_digest = tokens.new_token()
    before = {"lien_actif_depuis": school.calendar_token_at}
    school.calendar_token_hash = token_digest
    school.calendar_token_at = utcnow()
    history.record(actor, "calendar.link_generated", "auto_ecole", school.id,
                   department_id=school.department_id, before=before,
                   after={"lien_actif_depuis": school.calendar_token_at})
    db.session.commit()
    return token


def school_for_token(token: str | None) -> AutoEcole | None:
    """The active school whose live feed token this is; None for an unknown, revoked or
    malformed token (one indexed read, none for a malformed one)."""
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalar(select(AutoEcole).where(
        AutoEcole.calendar_token_hash == tokens.digest(token), AutoEcole.active.is_(True)))


def feed_text(school: AutoEcole, today: dt.date) -> str:
    """The school's upcoming PL exams (from ``today``, Paris) as an iCalendar feed."""
    units = list(db.session.scalars(
        scopes.school_units_query(school.id)
        .where(Session.date >= today, Category.heavy.is_(True))).unique())
    return ics.calendar_text(ics.feed_events(units),
                             name=f"Examens PL — {school.raison_sociale}")
