"""Sign-in, sign-out, the menus by role, demo data, migrations and configuration."""

from __future__ import annotations

import sqlalchemy as sa

from rdvpl import config
from rdvpl.extensions import db
from rdvpl.models import AutoEcole, Department, Inspector, Session, Unit, User


def test_login_page_renders(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Connexion à RdvPermis" in response.get_data(as_text=True)


def test_wrong_password_is_refused_in_french(demo, client):
    response = client.post("/connexion", data={"email": "ber011@example.test", "password": "x"})
    assert response.status_code == 422
    assert "Adresse électronique ou mot de passe incorrect." in response.get_data(as_text=True)


def test_ber_lands_on_planning_with_ber_menu(demo, client, auth):
    response = auth.login("ber011@example.test")
    assert response.location.endswith("/ber/planification")
    page = client.get("/ber/planification").get_data(as_text=True)
    assert "Thibault CARPENTIER" in page
    assert "Planifier les activités" in page and "Gérer les créneaux" in page
    assert "Mes examens programmés" not in page


def test_ae_lands_on_its_exams_with_ae_tab(demo, client, auth):
    response = auth.login("alliance@example.test")
    assert response.location.endswith("/ae/examens")
    page = client.get("/ae/examens").get_data(as_text=True)
    assert "Mes examens programmés" in page
    assert "Planifier les activités" not in page


def test_logout_is_post_only_and_signs_out(demo, client, auth):
    auth.login()
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion").status_code == 302
    assert client.get("/ber/planification").status_code == 302


def test_login_next_only_follows_local_paths(demo, client):
    response = client.post("/connexion?next=https://evil.example/x",
                           data={"email": "ber011@example.test", "password": "demo-ber-011"})
    assert response.location.endswith("/ber/planification")


def test_htmx_request_with_expired_session_gets_401_and_redirect(demo, client):
    response = client.get("/ber/planification", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/connexion")


def test_csrf_is_enforced_when_enabled(demo):
    demo.config["WTF_CSRF_ENABLED"] = True
    client = demo.test_client()
    response = client.post("/connexion", data={"email": "ber011@example.test",
                                               "password": "demo-ber-011"})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_seed_demo_loads_spec_data(demo):
    with demo.app_context():
        aude = db.session.scalar(sa.select(Department).where(Department.code == "011"))
        assert aude.ber_email == "pl.ber011@example.test"
        assert sorted(c.name for c in aude.centres) == ["CARCASSONNE", "LUCHAPT DU 011",
                                                         "NARBONNE"]
        names = set(db.session.scalars(sa.select(Inspector.last_name).where(
            Inspector.department_id == aude.id)))
        assert names == {"DUMAS", "MONTEIL", "MARAIS", "BARBET", "KLÉBER", "ARNAUD", "GONZALEZ"}
        dumas = db.session.scalar(sa.select(Inspector).where(Inspector.last_name == "DUMAS"))
        assert dumas.matricule == "2488" and dumas.home_centre.name == "CARCASSONNE"
        schools = set(db.session.scalars(sa.select(AutoEcole.raison_sociale).where(
            AutoEcole.department_id == aude.id)))
        assert schools == {"Alliance Auto-Ecole", "Alliance du 002", "Alliance du 011",
                           "Alliance du 051"}
        ber = db.session.scalar(sa.select(User).where(User.email == "ber011@example.test"))
        assert ber.display_name == "Thibault CARPENTIER" and ber.check_password("demo-ber-011")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) > 10
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(
            Unit.status == "reserved")) > 5


def test_seed_demo_cli_is_idempotent(demo, runner):
    result = runner.invoke(args=["seed-demo"])
    assert "déjà présentes" in result.output
    result = runner.invoke(args=["seed-demo", "--reset"])
    assert "chargées" in result.output


def test_migrations_match_the_models(app):
    """`flask db upgrade` builds exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/x")
    assert config.from_environment()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h:5432/x"
    monkeypatch.delenv("DATABASE_URL")
    assert config.from_environment()["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_seed_always_has_a_reservation_within_six_days(app):
    """Whatever the weekday, the demo shows a school a unit it can no longer cancel itself."""
    import datetime as dt

    from rdvpl.seed import seed_demo

    monday = dt.date(2026, 11, 23)
    for offset in range(7):
        today = monday + dt.timedelta(days=offset)
        with app.app_context():
            seed_demo(reset=True, today=today)
            soon = db.session.scalars(
                sa.select(Session.date).join(Unit).where(
                    Unit.status == "reserved",
                    Session.date > today,
                    Session.date <= today + dt.timedelta(days=5))
            ).all()
            assert soon, today
            assert all(d.weekday() < 5 for d in soon)


def test_htmx_refusal_swaps_only_the_banner_and_closes_the_dialog(demo, client, auth):
    auth.login("ber011@example.test")
    response = client.get("/ber/creneaux/unites/999999", headers={"HX-Request": "true"})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert response.headers["HX-Retarget"] == "#banner"
    assert response.headers["HX-Reswap"].startswith("innerHTML")
    assert 'class="fr-alert fr-alert--error' in body
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in body


def test_unknown_url_is_a_french_404_page(demo, client, auth):
    auth.login("ber011@example.test")
    response = client.get("/ber/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_seed_reset_empties_every_table_even_ones_added_later(app):
    """`seed-demo --reset` (what the e2e run and a demo reload use) must not trip over rows of
    tables the wipe did not know: an absence and a sign-in session refer to an inspector and a
    user that the reset deletes."""
    import datetime as dt

    from rdvpl.accounts import start_session
    from rdvpl.capacity import add_absence
    from rdvpl.models import Absence, Inspector, SignInSession, User
    from rdvpl.seed import seed_demo

    with app.app_context():
        seed_demo(reset=True)
        ber = db.session.scalar(sa.select(User).where(User.email == "ber011@example.test"))
        dumas = db.session.scalar(sa.select(Inspector).where(Inspector.last_name == "DUMAS"))
        day = dt.date.today() + dt.timedelta(days=120)
        add_absence(ber, dumas.id, "Congé", day, False, day, True)
        start_session(ber)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInSession)) >= 1
        seed_demo(reset=True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0
        assert db.session.scalar(sa.select(User).where(User.email == "ber011@example.test"))


def test_a_reset_moves_every_grid_revision_forward(app):
    """Whatever a running server keeps under a department's grid revision (cached rows, open
    grids) must not survive a demo reload: the reloaded departments start past it."""
    from rdvpl.models import Department
    from rdvpl.seed import seed_demo

    with app.app_context():
        seed_demo(reset=True)
        db.session.execute(sa.update(Department).where(Department.code == "011")
                           .values(grid_revision=41))
        db.session.commit()
        seed_demo(reset=True)
        revisions = db.session.execute(sa.select(Department.grid_revision)).scalars().all()
        assert revisions and min(revisions) == 42
