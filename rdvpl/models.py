"""The tables of rdvpl and the constraints the database itself enforces.

Scoping rule: every BER read goes through ``department_id``, every AE read through
``auto_ecole_id``: records addressed by a request are loaded through rdvpl/scopes.py.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .dates import utcnow
from .extensions import db

UNIT_MINUTES = 30

# Primary keys are INTEGER columns. PostgreSQL answers a parameter beyond this bound with an
# error, not with "no row", so every id read from a request is checked against it first.
ID_MAX = 2**31 - 1


def as_id(value) -> int | None:
    """``value`` as a possible primary key (1 to ID_MAX, ASCII digits only), else None.
    ``int()`` alone would also take "+5", "1_000", " 7 " or Arabic-Indic digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= 10 and value.isascii() \
            and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 1 <= number <= ID_MAX else None


class Role(enum.StrEnum):
    BER = "ber"
    AE = "ae"
    ADMIN = "admin"


class Tranche(enum.StrEnum):
    """Half-day slots of an inspector's day, in the guide's order (Session 1..4)."""

    M1 = "M1"
    M2 = "M2"
    S1 = "S1"
    S2 = "S2"

    @property
    def number(self) -> int:
        """1..4, shown as "Session 4" on the unit grid."""
        return list(Tranche).index(self) + 1


class UnitStatus(enum.StrEnum):
    INDISPO = "indispo"  # not offered to schools
    DISPO = "dispo"  # "Dispo AE": free to be assigned
    RESERVED = "reserved"  # held by one driving school


# How the screens write a status that is not a reservation (a reserved unit shows its school).
STATUS_WORDS = {UnitStatus.DISPO: "Dispo AE", UnitStatus.INDISPO: "Indispo"}


class Department(db.Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)  # "011"
    name: Mapped[str] = mapped_column(String(80))  # "Aude"
    ber_email: Mapped[str] = mapped_column(String(254))  # the BER mailbox
    # Increased by every committed change to what the department's grids show (rdvpl.revision).
    # A new department starts at a random value: a database emptied and seeded again (demo
    # reset, tests) never gives a department id back with a revision its cached grids knew.
    grid_revision: Mapped[int] = mapped_column(default=lambda: secrets.randbelow(2**30),
                                               server_default="0")

    centres: Mapped[list[Centre]] = relationship(back_populates="department")

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class Centre(db.Model):
    __tablename__ = "centre"
    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))  # "CARCASSONNE"
    # Sessions refer to their centre: a closed centre is deactivated, never deleted.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    department: Mapped[Department] = relationship(back_populates="centres")

    def __repr__(self) -> str:
        return f"<Centre {self.name}>"


class Category(db.Model):
    """A licence category. ``heavy`` marks the PL ones this module plans (C, CE, D...)."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # "CE"
    heavy: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Category {self.code}>"


class Inspector(db.Model):
    """An IPCSR. Driving schools only ever see "Inspecteur <matricule>".

    The matricule is unique within the department (see the migration d4refdata005 for why not
    nationally). An inactive inspector can no longer be chosen but stays in past sessions."""

    __tablename__ = "inspector"
    __table_args__ = (UniqueConstraint("department_id", "matricule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    home_centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    matricule: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    department: Mapped[Department] = relationship()
    home_centre: Mapped[Centre] = relationship()

    @property
    def nom_prenom(self) -> str:
        """'DUMAS Anna', as in grids and the export."""
        return f"{self.last_name.upper()} {self.first_name}"

    @property
    def prenom_nom(self) -> str:
        """'Anna DUMAS', as on the unit-management screens."""
        return f"{self.first_name} {self.last_name.upper()}"

    @property
    def public_name(self) -> str:
        """What a driving school sees: 'Inspecteur 2488'."""
        return f"Inspecteur {self.matricule}"

    def __repr__(self) -> str:
        return f"<Inspector {self.nom_prenom}>"


class WorkedSaturday(db.Model):
    """A Saturday the BER declared worked for one inspector (Samedis supplémentaires travaillés)."""

    __tablename__ = "worked_saturday"
    __table_args__ = (UniqueConstraint("inspector_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id", ondelete="CASCADE"))
    date: Mapped[dt.date]

    inspector: Mapped[Inspector] = relationship()


class AbsenceMotif(enum.StrEnum):
    """Why an inspector cannot hold exams (SPEC BER 6), in the guide's words."""

    CONGE = "Congé"
    FORMATION = "Formation"
    MALADIE = "Maladie"
    REUNION = "Réunion"
    EXAMENS_HORS_PL = "Examens hors PL"
    AUTRE = "Autre"


class Absence(db.Model):
    """An inspector's absence or other duty, by half-day: from ``start_date`` (morning, or
    afternoon when ``start_afternoon``) to ``end_date`` (afternoon, or morning only when not
    ``end_afternoon``). Its cells are closed on the planning grid (Indisponibilités, BER 6)."""

    __tablename__ = "absence"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="start_before_end"),
        Index("ix_absence_inspector_dates", "inspector_id", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id", ondelete="CASCADE"))
    motif: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date]
    start_afternoon: Mapped[bool] = mapped_column(default=False)
    end_date: Mapped[dt.date]
    end_afternoon: Mapped[bool] = mapped_column(default=True)
    comment: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    inspector: Mapped[Inspector] = relationship()

    @property
    def first_half(self) -> tuple[dt.date, int]:
        """The first half-day covered: (date, 0 morning / 1 afternoon)."""
        return (self.start_date, int(self.start_afternoon))

    @property
    def last_half(self) -> tuple[dt.date, int]:
        return (self.end_date, int(self.end_afternoon))


class AutoEcole(db.Model):
    """A driving school. ID Aurige unique within the department; an inactive school can no
    longer be chosen but stays on its past exams."""

    __tablename__ = "auto_ecole"
    __table_args__ = (UniqueConstraint("department_id", "aurige_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(160))
    aurige_id: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # "Mon agenda" (AE 4): the SHA-256 of the secret of the school's feed URL (never the secret
    # itself), and when it was generated. A new link replaces the hash: the old URL is dead.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_at: Mapped[dt.datetime | None]

    department: Mapped[Department] = relationship()

    def __repr__(self) -> str:
        return f"<AutoEcole {self.raison_sociale}>"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('ber', 'ae', 'admin')", name="role_known"),
        CheckConstraint(
            "(role = 'ber' AND department_id IS NOT NULL AND auto_ecole_id IS NULL)"
            " OR (role = 'ae' AND auto_ecole_id IS NOT NULL AND department_id IS NULL)"
            " OR (role = 'admin' AND department_id IS NULL AND auto_ecole_id IS NULL)",
            name="role_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(8))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    auto_ecole_id: Mapped[int | None] = mapped_column(ForeignKey("auto_ecole.id"))
    # A deactivated account cannot sign in (its sessions end at once); history refers to it.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # When the person first chose a password (activation link); None: not activated yet.
    activated_at: Mapped[dt.datetime | None]

    department: Mapped[Department | None] = relationship()
    auto_ecole: Mapped[AutoEcole | None] = relationship()

    # The sign-in session this object was loaded for (rdvpl/accounts.py): Flask-Login keeps
    # get_id() in the cookie, so the cookie names a revocable server-side session, not the user.
    session_token = None  # set per request, never stored
    favourite_ids = None  # the favourite inspectors' ids, read with the sign-in session

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to sign in an inactive user
        return bool(self.active)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def display_name(self) -> str:
        """'Thibault CARPENTIER', as in the header."""
        # AE accounts may be created with an e-mail only.
        return f"{self.first_name} {self.last_name.upper()}".strip() or self.email

    @property
    def is_ber(self) -> bool:
        return self.role == Role.BER

    @property
    def is_ae(self) -> bool:
        return self.role == Role.AE

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class SignInSession(db.Model):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored,
    so a leaked table signs nobody in. Sign-out revokes the row; a row unused for the idle
    limit (2 hours) no longer signs in."""

    __tablename__ = "sign_in_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class FavouriteInspector(db.Model):
    """The ★ a BER agent put on an inspector."""

    __tablename__ = "favourite_inspector"
    __table_args__ = (UniqueConstraint("user_id", "inspector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id", ondelete="CASCADE"))


class Session(db.Model):
    """One inspector, one date, one tranche, one centre, one category (SPEC "Session")."""

    __tablename__ = "exam_session"
    __table_args__ = (
        UniqueConstraint("inspector_id", "date", "tranche"),
        CheckConstraint("tranche IN ('M1', 'M2', 'S1', 'S2')", name="tranche_known"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        Index("ix_exam_session_department_date", "department_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    date: Mapped[dt.date]
    tranche: Mapped[str] = mapped_column(String(2))
    start_time: Mapped[dt.time]
    end_time: Mapped[dt.time]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    inspector: Mapped[Inspector] = relationship()
    centre: Mapped[Centre] = relationship()
    category: Mapped[Category] = relationship()
    units: Mapped[list[Unit]] = relationship(
        back_populates="session",
        order_by="Unit.start_time",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def number(self) -> int:
        """"Session 4" for S2."""
        return Tranche(self.tranche).number

    def __repr__(self) -> str:
        return f"<Session {self.inspector_id} {self.date} {self.tranche}>"


class Unit(db.Model):
    """30 minutes of a session. Reserved <=> exactly one school (checked by the database)."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("session_id", "start_time"),
        CheckConstraint("status IN ('indispo', 'dispo', 'reserved')", name="status_known"),
        CheckConstraint(
            "(status = 'reserved') = (auto_ecole_id IS NOT NULL)", name="reserved_has_school"
        ),
        Index("ix_unit_auto_ecole_status", "auto_ecole_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("exam_session.id", ondelete="CASCADE"), index=True
    )
    start_time: Mapped[dt.time]
    end_time: Mapped[dt.time]
    status: Mapped[str] = mapped_column(String(10), default=UnitStatus.DISPO)
    auto_ecole_id: Mapped[int | None] = mapped_column(ForeignKey("auto_ecole.id"))
    reserved_at: Mapped[dt.datetime | None]
    reserved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The calendar event (rdvpl/ics.py) that holds this reserved unit in the school's calendar,
    # as the last e-mail sent to the school described it: its UID and SEQUENCE.
    ics_uid: Mapped[str | None] = mapped_column(String(120), index=True)
    ics_sequence: Mapped[int] = mapped_column(default=0, server_default="0")

    session: Mapped[Session] = relationship(back_populates="units")
    auto_ecole: Mapped[AutoEcole | None] = relationship()

    def __repr__(self) -> str:
        return f"<Unit {self.session_id} {self.start_time} {self.status}>"


class Candidate(db.Model):
    """The candidate a school named on one of its reserved units ("Mes candidats", AE 5).

    Personal data, seen only by that school and its department's BER: the row goes with the
    unit's reservation (deleted in the transaction that cancels the unit or deletes its
    session, rdvpl/candidates.py); the history keeps the name and the NEPH's last 4 digits
    only. ``auto_ecole_id`` is the school that named the candidate: a row is shown only while
    the unit is still reserved for that school."""

    __tablename__ = "candidate"
    __table_args__ = (
        UniqueConstraint("unit_id"),
        CheckConstraint("length(neph) = 12", name="neph_twelve"),
        Index("ix_candidate_auto_ecole", "auto_ecole_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    auto_ecole_id: Mapped[int] = mapped_column(ForeignKey("auto_ecole.id"))
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    neph: Mapped[str] = mapped_column(String(12))  # 12 digits
    named_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    named_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()

    @property
    def nom_prenom(self) -> str:
        """'DUPONT Jean', as the inspectors' names."""
        return f"{self.last_name.upper()} {self.first_name}"

    def __repr__(self) -> str:
        return f"<Candidate unit={self.unit_id}>"


class HalfDay(enum.StrEnum):
    """"Demi-journées" of a school's demand."""

    MORNING = "matin"
    AFTERNOON = "apres-midi"
    ANY = "indifferent"


school_demand_centre = db.Table(
    "school_demand_centre",
    db.Column("demand_id", ForeignKey("school_demand.id", ondelete="CASCADE"), primary_key=True),
    db.Column("centre_id", ForeignKey("centre.id"), primary_key=True),
)


class SchoolDemand(db.Model):
    """A school's demand of exam units for one month and one category (AE 3)."""

    __tablename__ = "school_demand"
    __table_args__ = (
        UniqueConstraint("auto_ecole_id", "month", "category_id"),
        CheckConstraint("units >= 0 AND units <= 500", name="units_range"),
        CheckConstraint("half_day IN ('matin', 'apres-midi', 'indifferent')",
                        name="half_day_known"),
        Index("ix_school_demand_department_month", "department_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    auto_ecole_id: Mapped[int] = mapped_column(ForeignKey("auto_ecole.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    month: Mapped[dt.date]  # the first day of the month
    units: Mapped[int]
    half_day: Mapped[str] = mapped_column(String(12), default=HalfDay.ANY)
    comment: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    auto_ecole: Mapped[AutoEcole] = relationship()
    category: Mapped[Category] = relationship()
    centres: Mapped[list[Centre]] = relationship(secondary=school_demand_centre,
                                                 order_by="Centre.name")

    def __repr__(self) -> str:
        return f"<SchoolDemand {self.auto_ecole_id} {self.month:%Y-%m} {self.units}>"


class DemandClosing(db.Model):
    """The day a department's demands for a month close, when the BER moved it from the
    default (the 20th of the month before)."""

    __tablename__ = "demand_closing"
    __table_args__ = (UniqueConstraint("department_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    month: Mapped[dt.date]  # the first day of the month
    closes_on: Mapped[dt.date]  # the last day demands can be changed


class History(db.Model):
    """Append-only record of every action: who, when, what, before/after."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # "session.planned", "unit.reserved"...
    object_type: Mapped[str] = mapped_column(String(20))  # "session", "unit"
    object_id: Mapped[int]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


@event.listens_for(History, "before_update")
@event.listens_for(History, "before_delete")
def _history_is_append_only(mapper, connection, target):  # noqa: ARG001
    raise RuntimeError("history rows are append-only")


class OutboxMail(db.Model):
    """An e-mail promised to someone, stored in the same transaction as the change.

    ``status``: "pending" until the server accepts it ("sent"); "failed" (en échec) after
    MAIL_MAX_ATTEMPTS refusals or MAIL_GIVE_UP_HOURS pending, kept with its last error and
    re-sent only on demand (``flask mail-deliver --failed``).
    """

    __tablename__ = "outbox_mail"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
        Index("ix_outbox_mail_pending", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Stable across attempts: if a deliverer dies between the server's acceptance and marking
    # the mail sent, the retry carries the same Message-ID, so receivers can deduplicate.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipients: Mapped[str] = mapped_column(String(1000))  # comma-separated
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str]
    body_html: Mapped[str | None]
    kind: Mapped[str] = mapped_column(String(40))  # "reservation", "cancel_by_ber"...
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Tries the server answered (its acceptance or a refusal of this mail). An unreachable
    # server is an outage, not this mail's failure: it is not counted (last_error says it).
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A deliverer owns the row until this instant (a lease, so a crashed one is taken over).
    claimed_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    # "Renvoyer" on a failed mail: the 48-hour give-up delay counts from here, not from
    # created_at (which stays the date the mail was promised).
    requeued_at: Mapped[dt.datetime | None]
    # One attachment (the .ics of a reservation or cancellation), stored with the mail so that
    # every attempt sends the same bytes.
    attachment_name: Mapped[str | None] = mapped_column(String(100))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    attachment_body: Mapped[str | None]
