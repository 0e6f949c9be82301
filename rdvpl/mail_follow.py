"""Suivi des e-mails: the recent mails of the outbox with their state, for the admin (all of
them) and for a BER agent (its department's: those sent to its BER mailbox, its agents, its
schools and their accounts). The mails are not tagged with a department, so a BER's share
is found by recipient: one statement with an EXISTS over the department's addresses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, select, union

from .errors import NotFound
from .extensions import db
from .models import AutoEcole, Department, OutboxMail, Role, User
from .referentiels import as_id

PAGE_SIZE = 50
STATES = {"sent": "envoyé", "pending": "en attente", "failed": "en échec"}


def _department_addresses(department_id: int):
    """Every address of the department, lower-cased: BER mailbox, agents, schools, AE users."""
    return union(
        select(func.lower(Department.ber_email).label("email"))
        .where(Department.id == department_id),
        select(func.lower(User.email)).where(User.department_id == department_id),
        select(func.lower(AutoEcole.email)).where(AutoEcole.department_id == department_id),
        select(func.lower(User.email)).join(AutoEcole, AutoEcole.id == User.auto_ecole_id)
        .where(AutoEcole.department_id == department_id),
    ).subquery()


def _pattern_of(address):
    """An address as a LIKE pattern matching only itself: "_" and "%" (an "_" is common in
    addresses) are escaped, with "/" as the escape character (itself escaped first)."""
    for char in ("/", "%", "_"):
        address = func.replace(address, char, "/" + char)
    return address


def _visible(actor: User):
    """The WHERE clause of the mails ``actor`` may see (None: all of them)."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role != Role.BER or actor.department_id is None:
        return literal(False)
    addresses = _department_addresses(actor.department_id)
    # recipients is "a@x, b@y": each address is matched whole, between separators.
    listed = literal(", ") + func.lower(OutboxMail.recipients) + literal(",")
    return select(addresses.c.email).where(
        listed.like(literal("%, ") + _pattern_of(addresses.c.email) + literal(",%"),
                    escape="/")).exists()


@dataclass
class MailPage:
    mails: list[OutboxMail]
    page: int
    has_next: bool
    status: str | None


def recent_mails(actor: User, *, status: str | None = None, page: int = 1) -> MailPage:
    """The actor's mails, newest first, PAGE_SIZE a page, optionally of one state."""
    page = max(page, 1)
    query = select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    clause = _visible(actor)
    if clause is not None:
        query = query.where(clause)
    if status in STATES:
        query = query.where(OutboxMail.status == status)
    else:
        status = None
    rows = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return MailPage(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE, status)


def scoped_mail(actor: User, mail_id) -> OutboxMail:
    """A mail the actor may see, else NotFound."""
    query = select(OutboxMail).where(OutboxMail.id == mail_id)
    clause = _visible(actor)
    if clause is not None:
        query = query.where(clause)
    mail = db.session.scalar(query) if as_id(mail_id) else None
    if mail is None:
        raise NotFound("E-mail introuvable.")
    return mail
