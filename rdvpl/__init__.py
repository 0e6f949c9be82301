"""rdvpl: the heavy-vehicle (PL) exam-planning module of an RdvPermis-style platform."""

from __future__ import annotations

import logging

from flask import Flask, make_response, redirect, request, url_for
from flask_wtf.csrf import CSRFError

from . import config, dates
from .extensions import csrf, db, htmx, login_manager, mail, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(config.INSTANCE_DIR),
    )
    app.config.from_mapping(config.from_environment())
    if test_config:
        app.config.update(test_config)
    config.INSTANCE_DIR.mkdir(exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.INSTANCE_DIR.parent / "migrations"))
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    _setup_login()
    _register_blueprints(app)
    _register_errors(app)
    _register_templates(app)

    from .access import check_access

    app.before_request(check_access)

    @app.after_request
    def _vary(response):
        # One URL serves the full page or a fragment: caches must keep both apart.
        response.vary.add("HX-Request")
        return response

    from . import cli, notify

    cli.register(app)
    notify.init_app(app)
    return app


def _setup_login() -> None:
    from .models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @login_manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            # Never swap a login page into a cell: send the browser to it.
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login_url
            return response
        return redirect(login_url)


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .ae import bp as ae_bp
    from .auth import bp as auth_bp
    from .ber import bp as ber_bp
    from .health import bp as health_bp
    from .pages import bp as pages_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(ber_bp, url_prefix="/ber")
    app.register_blueprint(ae_bp, url_prefix="/ae")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(health_bp)
    app.register_blueprint(pages_bp)


def _register_errors(app: Flask) -> None:
    from .errors import DomainError
    from .web import error_response

    messages = {
        400: ("Requête invalide", "La demande est incomplète ou mal formée."),
        403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
        404: ("Page introuvable", "L'élément demandé n'existe pas ou ne vous est pas accessible."),
        405: ("Action impossible", "Cette action n'est pas possible ainsi."),
        500: ("Erreur", "Une erreur inattendue est survenue. Aucune modification n'a été faite."),
    }

    def handler(code):
        def handle(error):
            db.session.rollback()
            title, message = messages[code]
            return error_response(message, title=title, status=code)

        return handle

    for code in messages:
        app.register_error_handler(code, handler(code))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return error_response(
            "Le formulaire a expiré ou a été modifié. Rechargez la page puis recommencez.",
            title="Formulaire expiré",
            status=400,
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_response(error.message, title=error.title, status=error.status_code)


def _register_templates(app: Flask) -> None:
    app.jinja_env.filters.update(dates.JINJA_FILTERS)
    app.jinja_env.globals["today"] = dates.today
