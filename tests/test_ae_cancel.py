"""AE 2 domain: a school cancels one of its units (cancel_unit_by_ae): the unit goes back to
Dispo AE, the history and the BER's e-mail; every refusal changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import booking, dates
from rdvpl.errors import Conflict, DomainError, NotFound
from rdvpl.extensions import db
from rdvpl.models import (
    Category,
    History,
    Inspector,
    OutboxMail,
    Role,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
)
from rdvpl.sessions import new_session
from tests.conftest import user_by_email
from tests.helpers import planned_session, refused, school
from tests.mailsink import body_html, body_text


@pytest.fixture
def alliance_user(demo, ctx):
    return user_by_email("alliance@example.test")


def reserved_units(aurige="auto-ecole-aurige-1", *, min_days=7, max_days=None) -> list[Unit]:
    """The school's reserved units from today + ``min_days`` on (up to ``max_days``)."""
    query = (sa.select(Unit).join(Unit.session)
             .where(Unit.auto_ecole_id == school(aurige).id,
                    Session.date >= dates.today() + dt.timedelta(days=min_days))
             .order_by(Session.date, Unit.start_time))
    if max_days is not None:
        query = query.where(Session.date <= dates.today() + dt.timedelta(days=max_days))
    return db.session.scalars(query).all()


def test_cancel_returns_the_unit_to_dispo_ae(alliance_user):
    unit = reserved_units()[1]
    unit_id, session_id, start = unit.id, unit.session_id, unit.start_time
    booking.cancel_unit_by_ae(alliance_user, unit_id)
    db.session.expire_all()
    unit = db.session.get(Unit, unit_id)
    assert unit.status == UnitStatus.DISPO
    assert unit.auto_ecole_id is None and unit.reserved_at is None and unit.reserved_by_id is None
    assert (unit.session_id, unit.start_time) == (session_id, start)


def test_cancel_records_history_with_the_school_user_as_actor(alliance_user):
    unit = reserved_units()[0]
    booking.cancel_unit_by_ae(alliance_user, unit.id)
    [row] = db.session.scalars(sa.select(History).where(History.object_id == unit.id)).all()
    assert row.actor_id == alliance_user.id and row.action == "unit.cancelled_by_ae"
    assert row.object_type == "unit" and row.department_id == unit.session.department_id
    assert row.before["status"] == "reserved" and row.before["auto_ecole"] == "Alliance Auto-Ecole"
    assert row.after["status"] == "dispo" and row.after["auto_ecole_id"] is None


def test_cancel_queues_one_mail_to_the_ber_mailbox(alliance_user):
    unit = reserved_units()[0]
    booking.cancel_unit_by_ae(alliance_user, unit.id)
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.recipients == "pl.ber011@example.test" and mail.kind == "cancel_by_ae"
    assert mail.subject == "Annulation examen CE par une auto-école"


def test_the_ber_can_assign_the_cancelled_unit_again(alliance_user):
    unit_id = reserved_units()[0].id
    booking.cancel_unit_by_ae(alliance_user, unit_id)
    ber = user_by_email("ber011@example.test")
    other = school("auto-ecole-aurige-2")
    booking.reserve_units(ber, [unit_id], other.id)
    db.session.expire_all()
    assert db.session.get(Unit, unit_id).auto_ecole_id == other.id


def test_the_mail_reaches_the_ber_mailbox_with_the_guide_text(demo, smtp):
    """The guide's example, p.30: 19 May 2022, 07:00-07:30, CARCASSONNE, cancelled in time."""
    with demo.test_request_context():
        dumas = db.session.scalar(sa.select(Inspector).where(Inspector.matricule == "2488"))
        session = new_session(dumas, dumas.home_centre,
                              db.session.scalar(sa.select(Category).where(Category.code == "CE")),
                              dt.date(2022, 5, 19), Tranche.M1, start=dt.time(7, 0),
                              end=dt.time(9, 0))
        first, *_ = session.units
        first.status, first.auto_ecole = UnitStatus.RESERVED, school()
        db.session.commit()
        actor = user_by_email("alliance@example.test")
        booking.cancel_unit_by_ae(actor, first.id,
                                  now=dt.datetime(2022, 5, 13, 23, 59, tzinfo=dates.PARIS))
    [message] = smtp.wait_for(count=1, timeout=10)
    assert message["To"] == "pl.ber011@example.test"
    assert message["Subject"] == "Annulation examen CE par une auto-école"
    text = " ".join(body_text(message).split())
    assert text == (
        "Madame, Monsieur, L'auto-école ALLIANCE AUTO-ECOLE a annulé l'unité de permis de "
        "conduire pour la catégorie groupe Lourds sur le centre CARCASSONNE le jeudi 19 mai "
        "2022 de 07:00 à 07:30. Pour modifier les réservations ou ajuster les plannings, "
        "veuillez vous connecter à votre espace RdvPermis.")
    html = body_html(message)
    assert "ALLIANCE AUTO-ECOLE" in html and "jeudi 19 mai 2022 de 07:00 à 07:30" in html


def test_mail_names_the_category_of_the_unit(alliance_user):
    session = planned_session("MONTEIL", dates.today() + dt.timedelta(days=20), reserved=[0],
                              for_school=school(), category_code="C")
    first = session.units[0]
    booking.cancel_unit_by_ae(alliance_user, first.id)
    assert db.session.scalar(sa.select(OutboxMail.subject)) == (
        "Annulation examen C par une auto-école")


def test_another_schools_unit_is_not_found(demo, ctx):
    unit_id = reserved_units()[0].id
    herault = user_by_email("herault@example.test")
    refused(NotFound, "pas \\(ou plus\\) réservée", lambda: booking.cancel_unit_by_ae(
        herault, unit_id))


def test_a_unit_of_another_school_of_the_same_department_is_not_found(demo, ctx):
    other = school("auto-ecole-aurige-2")
    user = User(email="ae002@example.test", first_name="Léa", last_name="MARTIN",
                role=Role.AE, auto_ecole=other)
    user.set_password("x")
    db.session.add(user)
    db.session.commit()
    alliance_unit = reserved_units()[0].id
    refused(NotFound, "réservée", lambda: booking.cancel_unit_by_ae(user, alliance_unit))
    # ...while its own unit can be cancelled.
    own = planned_session("MONTEIL", dates.today() + dt.timedelta(days=20), reserved=[1],
                          for_school=other).units[1]
    booking.cancel_unit_by_ae(user, own.id)
    assert db.session.get(Unit, own.id).status == UnitStatus.DISPO


def test_unknown_or_free_unit_is_not_found(alliance_user):
    refused(NotFound, "réservée", lambda: booking.cancel_unit_by_ae(alliance_user, 10**9))
    refused(NotFound, "réservée", lambda: booking.cancel_unit_by_ae(alliance_user, "1"))
    free = db.session.scalar(sa.select(Unit).where(Unit.status == UnitStatus.DISPO))
    refused(NotFound, "réservée", lambda: booking.cancel_unit_by_ae(alliance_user, free.id))


def test_only_a_school_user_may_cancel_this_way(demo, ctx):
    unit_id = reserved_units()[0].id
    for email in ("ber011@example.test", "admin@example.test"):
        refused(NotFound, "réservée", lambda e=email: booking.cancel_unit_by_ae(
            user_by_email(e), unit_id))


def test_already_cancelled_or_double_submit_changes_nothing(alliance_user):
    unit_id = reserved_units()[0].id
    booking.cancel_unit_by_ae(alliance_user, unit_id)
    error = refused(Conflict, "déjà été annulée",
                    lambda: booking.cancel_unit_by_ae(alliance_user, unit_id))
    assert error.status_code == 409
    assert db.session.get(Unit, unit_id).status == UnitStatus.DISPO
    assert db.session.scalar(sa.select(sa.func.count()).select_from(History)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 1


def test_unit_cancelled_by_the_ber_meanwhile_is_already_cancelled(alliance_user):
    unit_id = reserved_units()[0].id
    booking.cancel_unit_by_ber(user_by_email("ber011@example.test"), unit_id)
    refused(Conflict, "déjà été annulée",
            lambda: booking.cancel_unit_by_ae(alliance_user, unit_id))


def soon_unit() -> Unit:
    """The demo's unit reserved for Alliance Auto-Ecole 2 to 4 days ahead (never on a weekend)."""
    return reserved_units(min_days=1, max_days=5)[0]


def test_less_than_six_days_ahead_is_refused(alliance_user):
    soon = soon_unit()
    error = refused(DomainError, "Pour une annulation tardive, contactez votre BER",
                    lambda: booking.cancel_unit_by_ae(alliance_user, soon.id))
    assert error.status_code == 422


def test_six_day_boundary_on_the_server(alliance_user):
    unit = reserved_units()[0]
    unit_id, day = unit.id, unit.session.date
    d_minus_5 = dt.datetime.combine(day - dt.timedelta(days=5), dt.time(0, 0), tzinfo=dates.PARIS)
    refused(DomainError, "annulation tardive",
            lambda: booking.cancel_unit_by_ae(alliance_user, unit_id, now=d_minus_5))
    d_minus_6 = d_minus_5 - dt.timedelta(minutes=1)  # 23:59 on D-6
    booking.cancel_unit_by_ae(alliance_user, unit_id, now=d_minus_6)
    assert db.session.get(Unit, unit_id).status == UnitStatus.DISPO


def test_past_exam_is_refused(alliance_user):
    unit = reserved_units()[0]
    unit_id = unit.id
    after = dt.datetime.combine(unit.session.date + dt.timedelta(days=1), dt.time(9),
                                tzinfo=dates.PARIS)
    refused(DomainError, "passé", lambda: booking.cancel_unit_by_ae(
        alliance_user, unit_id, now=after))
