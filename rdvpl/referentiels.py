"""Gérer les référentiels (SPEC Part 2 "Reference data and accounts"): departments and BER
agents (admin); centres, inspectors, driving schools and their AE accounts (a BER agent for
its own department, the admin for every one).

Each function takes the actor and plain values, checks the actor's reach (an object of
another department is "introuvable", as if it did not exist), enforces the rules, writes one
history row, queues the e-mails and commits; a refusal raises a DomainError with the French
message and changes nothing.

Uniqueness (department code, centre name, matricule and ID Aurige per department, account
e-mail) is the database's: each table has one unique constraint besides its key, so an
IntegrityError on flush can only mean that one, and is answered with its French message.
Records that sessions, units or history refer to are deactivated, never deleted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import accounts, dates, history
from .errors import DomainError, NotFound
from .extensions import db
from .models import (
    AutoEcole,
    Centre,
    Department,
    Inspector,
    Role,
    Session,
    Unit,
    UnitStatus,
    User,
)

LinkFor = Callable[[str], str]
MAX_ID = 2**31 - 1  # the database's INTEGER: PostgreSQL refuses a larger parameter


def as_id(value) -> int | None:
    """A primary key the database can hold, else None (a tampered or huge number)."""
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


class Refused(DomainError):
    """A reference-data change refused (the form shows the message)."""

    def __init__(self, message: str):
        super().__init__(message, title="Enregistrement impossible")


# --- reach ---------------------------------------------------------------------------------

def _require_admin(actor: User) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise NotFound()


def department_for(actor: User, department_id) -> Department:
    """A department the actor manages: any for the admin, its own for a BER agent."""
    department = (db.session.get(Department, department_id)
                  if as_id(department_id) else None)
    if department is None or actor is None or not (
            actor.role == Role.ADMIN
            or (actor.role == Role.BER and actor.department_id == department.id)):
        raise NotFound("Département introuvable.")
    return department


def scoped(actor: User, model, object_id, message: str = "Élément introuvable."):
    """An object of ``model`` (with a department_id) the actor manages, else NotFound."""
    obj = db.session.get(model, object_id) if as_id(object_id) else None
    if obj is None or actor is None or not (
            actor.role == Role.ADMIN
            or (actor.role == Role.BER and actor.department_id == obj.department_id)):
        raise NotFound(message)
    return obj


def scoped_account(actor: User, user_id) -> User:
    """An account the actor manages: the admin every one but its own role's; a BER agent the
    AE accounts of its department's schools (never BER agents nor admins)."""
    user = db.session.get(User, user_id) if as_id(user_id) else None
    allowed = user is not None and actor is not None and (
        (actor.role == Role.ADMIN and user.role != Role.ADMIN)
        or (actor.role == Role.BER and user.role == Role.AE
            and user.auto_ecole.department_id == actor.department_id))
    if not allowed:
        raise NotFound("Compte introuvable.")
    return user


def _clean(value: str | None) -> str:
    """Blanks folded, control characters (NUL, which PostgreSQL refuses, and the like)
    dropped."""
    value = " ".join(str(value or "").split())
    return "".join(c for c in value if c.isprintable())


def _required(value: str | None, label: str, max_length: int) -> str:
    value = _clean(value)
    if not value:
        raise Refused(f"Saisissez {label}.")
    if len(value) > max_length:
        raise Refused(f"{label[0].upper()}{label[1:]} ne peut pas dépasser {max_length} "
                      "caractères.")
    return value


def _email(value: str | None, label: str = "l'adresse électronique") -> str:
    address = accounts.normalize_email(value)
    if address is None or "@" not in address.strip("@") or " " in address:
        raise Refused(f"Saisissez {label} au format nom@domaine.fr.")
    return address


def _flush_unique(message: str) -> None:
    """Flush; a unique constraint refusing the row becomes ``message`` (nothing saved)."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Refused(message) from None


def _snapshot(obj, *fields) -> dict:
    return {f: getattr(obj, f) for f in fields}


# --- departments (admin) -------------------------------------------------------------------

DEPARTMENT_FIELDS = ("code", "name", "ber_email")


def create_department(actor: User, code: str, name: str, ber_email: str) -> Department:
    """A new department with its BER mailbox (admin)."""
    _require_admin(actor)
    code = _required(code, "le code du département", 3).upper()
    if not code.isalnum():
        raise Refused("Le code du département s'écrit avec des chiffres (et A ou B pour la "
                      "Corse), par exemple 011 ou 2A.")
    department = Department(code=code, name=_required(name, "le nom du département", 80),
                            ber_email=_email(ber_email, "la boîte du BER"))
    db.session.add(department)
    _flush_unique(f"Le département {code} existe déjà.")
    history.record(actor, "department.created", "department", department.id,
                   department_id=department.id, after=_snapshot(department, *DEPARTMENT_FIELDS))
    db.session.commit()
    return department


def update_department(actor: User, department_id, name: str, ber_email: str) -> Department:
    """Rename a department or change its BER mailbox (admin); its code stays."""
    _require_admin(actor)
    department = department_for(actor, department_id)
    before = _snapshot(department, *DEPARTMENT_FIELDS)
    department.name = _required(name, "le nom du département", 80)
    department.ber_email = _email(ber_email, "la boîte du BER")
    history.record(actor, "department.updated", "department", department.id,
                   department_id=department.id, before=before,
                   after=_snapshot(department, *DEPARTMENT_FIELDS))
    db.session.commit()
    return department


# --- centres ---------------------------------------------------------------------------------

def create_centre(actor: User, department_id, name: str) -> Centre:
    department = department_for(actor, department_id)
    name = _required(name, "le nom du centre", 80).upper()
    return _create(actor, Centre(department_id=department.id, name=name), "centre",
                   {"name": name}, _centre_taken(name))


def update_centre(actor: User, centre_id, name: str) -> Centre:
    centre = scoped(actor, Centre, centre_id, "Centre introuvable.")
    name = _required(name, "le nom du centre", 80).upper()
    return _update(actor, centre, "centre", {"name": name}, _centre_taken(name))


def _centre_taken(name: str) -> str:
    return f"Le centre {name} existe déjà dans ce département."


def set_centre_active(actor: User, centre_id, active: bool, *,
                      today: dt.date | None = None) -> Centre:
    """Deactivate (or reactivate) a centre. Refused while sessions are planned there from
    today on, or while active inspectors have it as home centre."""
    centre = scoped(actor, Centre, centre_id, "Centre introuvable.")
    if not active:
        planned = db.session.scalar(select(func.count()).select_from(Session).where(
            Session.centre_id == centre.id, Session.date >= (today or dates.today())))
        if planned:
            raise Refused(f"Le centre {centre.name} a encore {planned} session(s) planifiée(s) "
                          "à venir : supprimez-les avant de le désactiver.")
        homed = db.session.scalar(select(func.count()).select_from(Inspector).where(
            Inspector.home_centre_id == centre.id, Inspector.active.is_(True)))
        if homed:
            raise Refused(f"Le centre {centre.name} est le centre de rattachement de {homed} "
                          "inspecteur(s) actif(s) : changez leur centre avant de le désactiver.")
    return _set_active(actor, centre, "centre", active)


def _set_active(actor: User, obj, kind: str, active: bool):
    if obj.active == active:
        return obj  # a double submit: nothing to do, nothing recorded
    obj.active = active
    history.record(actor, f"{kind}.{'reactivated' if active else 'deactivated'}",
                   kind, obj.id, department_id=obj.department_id,
                   before={"active": not active}, after={"active": active})
    db.session.commit()
    return obj


def _create(actor: User, obj, kind: str, values: dict, taken: str):
    """Add a new record of a department with its history row; ``taken`` is the message when
    the database refuses a duplicate (matricule, ID Aurige, centre name)."""
    db.session.add(obj)
    _flush_unique(taken)
    history.record(actor, f"{kind}.created", kind, obj.id, department_id=obj.department_id,
                   after=values)
    db.session.commit()
    return obj


def _update(actor: User, obj, kind: str, values: dict, taken: str):
    """Change a record's fields to ``values``, with the before/after in its history row."""
    before = _snapshot(obj, *values)
    for key, value in values.items():
        setattr(obj, key, value)
    _flush_unique(taken)
    history.record(actor, f"{kind}.updated", kind, obj.id, department_id=obj.department_id,
                   before=before, after=values)
    db.session.commit()
    return obj


def active_centres(department_id: int) -> list[Centre]:
    return list(db.session.scalars(select(Centre).where(
        Centre.department_id == department_id, Centre.active.is_(True)).order_by(Centre.name)))


# --- inspectors ------------------------------------------------------------------------------

def _home_centre(department_id: int, centre_id) -> Centre:
    """The home centre chosen in the form: an active centre of the same department (a centre
    id of another department, sent by a tampered form, is refused like an unknown one)."""
    centre = db.session.get(Centre, centre_id) if as_id(centre_id) else None
    if centre is None or centre.department_id != department_id or not centre.active:
        raise Refused("Centre de rattachement introuvable : choisissez un centre actif du "
                      "département.")
    return centre


def _inspector_values(department_id: int, last_name, first_name, matricule, centre_id) -> dict:
    return {
        "last_name": _required(last_name, "le nom de l'inspecteur", 80).upper(),
        "first_name": _required(first_name, "le prénom de l'inspecteur", 80),
        "matricule": _required(matricule, "le matricule", 20),
        "home_centre_id": _home_centre(department_id, centre_id).id,
    }


def _matricule_taken(matricule: str) -> str:
    return f"Le matricule {matricule} est déjà celui d'un inspecteur de ce département."


def create_inspector(actor: User, department_id, last_name, first_name, matricule,
                     centre_id) -> Inspector:
    department = department_for(actor, department_id)
    values = _inspector_values(department.id, last_name, first_name, matricule, centre_id)
    return _create(actor, Inspector(department_id=department.id, **values), "inspector",
                   values, _matricule_taken(values["matricule"]))


def update_inspector(actor: User, inspector_id, last_name, first_name, matricule,
                     centre_id) -> Inspector:
    inspector = scoped(actor, Inspector, inspector_id, "Inspecteur introuvable.")
    values = _inspector_values(inspector.department_id, last_name, first_name, matricule,
                               centre_id)
    return _update(actor, inspector, "inspector", values, _matricule_taken(values["matricule"]))


def set_inspector_active(actor: User, inspector_id, active: bool, *,
                         today: dt.date | None = None) -> Inspector:
    """Deactivate (or reactivate) an inspector: an inactive one is no longer offered on the
    grids, but stays on its past sessions. Refused while sessions are planned for it from
    today on (their units would vanish from the grids)."""
    inspector = scoped(actor, Inspector, inspector_id, "Inspecteur introuvable.")
    if not active:
        planned = db.session.scalar(select(func.count()).select_from(Session).where(
            Session.inspector_id == inspector.id, Session.date >= (today or dates.today())))
        if planned:
            raise Refused(f"{inspector.nom_prenom} a encore {planned} session(s) planifiée(s) à "
                          "venir : supprimez-les (Planifier les activités) avant de le "
                          "désactiver.")
    elif not inspector.home_centre.active:
        raise Refused(f"Le centre {inspector.home_centre.name} de {inspector.nom_prenom} est "
                      "désactivé : changez son centre de rattachement d'abord.")
    return _set_active(actor, inspector, "inspector", active)


# --- driving schools -------------------------------------------------------------------------

def _school_values(raison_sociale, aurige_id, email) -> dict:
    return {
        "raison_sociale": _required(raison_sociale, "la raison sociale", 160),
        "aurige_id": _required(aurige_id, "l'ID Aurige", 60),
        "email": _email(email, "l'adresse électronique de l'auto-école"),
    }


def _aurige_taken(aurige_id: str) -> str:
    return f"L'ID Aurige {aurige_id} est déjà celui d'une auto-école de ce département."


def create_school(actor: User, department_id, raison_sociale, aurige_id, email) -> AutoEcole:
    department = department_for(actor, department_id)
    values = _school_values(raison_sociale, aurige_id, email)
    return _create(actor, AutoEcole(department_id=department.id, **values), "auto_ecole",
                   values, _aurige_taken(values["aurige_id"]))


def update_school(actor: User, school_id, raison_sociale, aurige_id, email) -> AutoEcole:
    school = scoped(actor, AutoEcole, school_id, "Auto-école introuvable.")
    values = _school_values(raison_sociale, aurige_id, email)
    return _update(actor, school, "auto_ecole", values, _aurige_taken(values["aurige_id"]))


def set_school_active(actor: User, school_id, active: bool, *,
                      today: dt.date | None = None) -> AutoEcole:
    """Deactivate (or reactivate) a school: an inactive one can no longer be chosen for a
    reservation, but stays on its past exams. Deactivating it also deactivates its AE
    accounts (their sessions end at once). Refused while it holds exams to come."""
    school = scoped(actor, AutoEcole, school_id, "Auto-école introuvable.")
    if not active:
        coming = db.session.scalar(
            select(func.count()).select_from(Unit).join(Unit.session).where(
                Unit.auto_ecole_id == school.id, Unit.status == UnitStatus.RESERVED,
                Session.date >= (today or dates.today())))
        if coming:
            raise Refused(f"{school.raison_sociale} a encore {coming} place(s) d'examen "
                          "réservée(s) à venir : annulez-les avant de la désactiver.")
        for user in db.session.scalars(select(User).where(User.auto_ecole_id == school.id,
                                                          User.active.is_(True))):
            _deactivate_account(actor, user)
    return _set_active(actor, school, "auto_ecole", active)


# --- accounts --------------------------------------------------------------------------------

def _new_account(actor: User, email, first_name, last_name, role: Role, *,
                 department_id: int | None = None, school: AutoEcole | None = None,
                 link_for: LinkFor) -> User:
    address = _email(email)
    user = User(
        email=address, first_name=_clean(first_name)[:80], last_name=_clean(last_name)[:80],
        role=role, department_id=department_id, auto_ecole_id=school.id if school else None,
        # No password yet: an unguessable one nobody knows, until the person chooses theirs
        # through the activation link (which is bound to this hash, so it serves once).
        active=True, activated_at=None,
    )
    user.set_password(secrets.token_urlsafe(32))
    db.session.add(user)
    _flush_unique(f"Un compte existe déjà avec l'adresse {address}.")
    scope = department_id if department_id is not None else school.department_id
    history.record(actor, "user.created", "user", user.id, department_id=scope,
                   after={"email": address, "role": str(role),
                          "auto_ecole_id": school.id if school else None})
    accounts.queue_activation_mail(user, link_for)
    db.session.commit()
    return user


def create_ber_agent(actor: User, department_id, email, first_name, last_name, *,
                     link_for: LinkFor) -> User:
    """A BER agent of a department (admin), created with an e-mail: the person receives
    "Activez votre compte RdvPermis" to choose a password."""
    _require_admin(actor)
    department = department_for(actor, department_id)
    _required(first_name, "le prénom de l'agent", 80)
    _required(last_name, "le nom de l'agent", 80)
    return _new_account(actor, email, first_name, last_name, Role.BER,
                        department_id=department.id, link_for=link_for)


def create_school_account(actor: User, school_id, email, first_name="", last_name="", *,
                          link_for: LinkFor) -> User:
    """An AE account of a school (its BER or the admin), created with an e-mail only."""
    school = scoped(actor, AutoEcole, school_id, "Auto-école introuvable.")
    if not school.active:
        raise Refused(f"{school.raison_sociale} est désactivée : réactivez-la avant de lui "
                      "créer un compte.")
    return _new_account(actor, email, first_name, last_name, Role.AE, school=school,
                        link_for=link_for)


def _deactivate_account(actor: User, user: User) -> None:
    user.active = False
    accounts.revoke_sessions(user)  # signed out everywhere, at once
    history.record(actor, "user.deactivated", "user", user.id,
                   department_id=accounts.department_of(user),
                   before={"active": True}, after={"active": False})


def set_account_active(actor: User, user_id, active: bool) -> User:
    """Deactivate an account (it can no longer sign in; its sessions end at once) or
    reactivate it. Nobody deactivates their own account."""
    user = scoped_account(actor, user_id)
    if user.active == active:
        return user
    if active:
        if user.auto_ecole_id is not None and not user.auto_ecole.active:
            raise Refused(f"L'auto-école {user.auto_ecole.raison_sociale} est désactivée : "
                          "réactivez-la d'abord.")
        user.active = True
        history.record(actor, "user.reactivated", "user", user.id,
                       department_id=accounts.department_of(user),
                       before={"active": False}, after={"active": True})
    else:
        _deactivate_account(actor, user)
    db.session.commit()
    return user


def resend_activation(actor: User, user_id, *, link_for: LinkFor) -> User:
    """A new "Activez votre compte RdvPermis" for an account whose password is not chosen."""
    user = scoped_account(actor, user_id)
    if user.activated_at is not None:
        raise Refused(f"Le compte {user.email} est déjà activé : la personne peut utiliser "
                      "« Mot de passe oublié ? » sur la page de connexion.")
    if not user.active:
        raise Refused(f"Le compte {user.email} est désactivé : réactivez-le d'abord.")
    history.record(actor, "user.activation_sent", "user", user.id,
                   department_id=accounts.department_of(user))
    accounts.queue_activation_mail(user, link_for)
    db.session.commit()
    return user


# --- what the pages show ---------------------------------------------------------------------

@dataclass
class DepartmentData:
    department: Department
    centres: list[Centre]
    inspectors: list[Inspector]
    schools: list[AutoEcole]
    accounts_by_school: dict[int, list[User]]
    agents: list[User]


def department_data(actor: User, department_id) -> DepartmentData:
    """Everything "Gérer les référentiels" shows for one department, inactive records
    included (they are listed as such). Five statements."""
    department = department_for(actor, department_id)
    centres = list(db.session.scalars(select(Centre).where(
        Centre.department_id == department.id).order_by(Centre.active.desc(), Centre.name)))
    inspectors = list(db.session.scalars(select(Inspector).where(
        Inspector.department_id == department.id).order_by(
        Inspector.active.desc(), Inspector.last_name, Inspector.first_name)))
    schools = list(db.session.scalars(select(AutoEcole).where(
        AutoEcole.department_id == department.id).order_by(
        AutoEcole.active.desc(), AutoEcole.raison_sociale)))
    by_school: dict[int, list[User]] = {}
    for user in db.session.scalars(
            select(User).join(AutoEcole, AutoEcole.id == User.auto_ecole_id)
            .where(AutoEcole.department_id == department.id).order_by(User.email)):
        by_school.setdefault(user.auto_ecole_id, []).append(user)
    agents = list(db.session.scalars(select(User).where(
        User.department_id == department.id, User.role == Role.BER).order_by(User.email)))
    return DepartmentData(department, centres, inspectors, schools, by_school, agents)


def all_departments(actor: User) -> list[tuple[Department, list[User]]]:
    """The admin's list: each department with its BER agents."""
    _require_admin(actor)
    departments = list(db.session.scalars(select(Department).order_by(Department.code)))
    agents: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(User.role == Role.BER)
                                   .order_by(User.email)):
        agents.setdefault(user.department_id, []).append(user)
    return [(d, agents.get(d.id, [])) for d in departments]
