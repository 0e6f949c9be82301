"""rdvpl: the heavy-vehicle (PL) exam-planning module of an RdvPermis-style platform."""

from __future__ import annotations

import logging

from flask import Flask, make_response, redirect, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, dates
from .extensions import (
    csrf,
    db,
    htmx,
    limiter,
    login_manager,
    mail,
    migrate,
    note_rate_limited,
    ping_idle_connections,
)

# Scripts and styles only from our own files: no inline script, no eval (htmx's allowEval is
# off and its indicator styles are in app.css). DSFR's CSS draws some icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
# Every response carries these (pages and fragments here, static files in static_files.py).
SECURITY_HEADERS = (
    ("Content-Security-Policy", "; ".join(f"{k} {v}" for k, v in CONTENT_SECURITY_POLICY.items())),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "browsing-topics=()"),
)
# Over https, when the deployment says it is served over https (SESSION_COOKIE_SECURE).
STRICT_TRANSPORT_SECURITY = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(config.INSTANCE_DIR),
    )
    app.config.from_mapping(config.from_environment())
    from .request_memo import SessionCookies

    app.session_interface = SessionCookies()
    from .web import IdConverter

    app.url_map.converters["id"] = IdConverter
    if test_config:
        app.config.update(test_config)
    config.check_secret_key(app.config, debug=app.debug)
    if app.config.get("PROXY_FIX"):
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    config.INSTANCE_DIR.mkdir(exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    with app.app_context():
        ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=str(config.INSTANCE_DIR.parent / "migrations"))
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _security_headers(app)

    _setup_login()
    _register_blueprints(app)
    note_rate_limited(app)
    _register_errors(app)
    _register_templates(app)

    from .access import check_access
    from .extensions import begin_reading

    app.before_request(begin_reading)  # before the sign-in session is read (check_access)
    app.before_request(check_access)

    @app.after_request
    def _vary(response):
        # One URL serves the full page or a fragment: caches must keep both apart.
        response.vary.add("HX-Request")
        return response

    from . import cli, grid_cache, notify, static_files

    cli.register(app)
    notify.init_app(app)
    grid_cache.init_app(app)
    static_files.init_app(app)
    return app


def _security_headers(app: Flask) -> None:
    """CSP, nosniff, no framing, same-origin referrer, no ad-topics; HSTS over https when the
    cookies are secure; no-store on pages. The headers are constant, computed once: set on
    every response by one hook (flask-talisman, used before, built them again per request
    for its per-view options, which rdvpl never used: a tenth of a cached page's time).
    The cookies' flags are Flask's own settings (SESSION_COOKIE_*, rdvpl/config.py); HTTPS
    itself is the reverse proxy's job (README "Production")."""

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.extend(SECURITY_HEADERS)
        if request.is_secure and app.config["SESSION_COOKIE_SECURE"]:
            headers.set(*STRICT_TRANSPORT_SECURITY)
        # A signed-in page (or the sign-in form) must not be kept by a shared computer's cache
        # or back button; static files keep their own caching.
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response


def _setup_login() -> None:
    from . import accounts
    from .access import is_background

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str):
        # The cookie names a server-side sign-in session (User.get_id), not a user.
        return accounts.load_session(token, touch=not is_background())

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
    from .gestion import bp as referentiels_bp
    from .health import bp as health_bp
    from .pages import bp as pages_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(ber_bp, url_prefix="/ber")
    app.register_blueprint(ae_bp, url_prefix="/ae")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(referentiels_bp, url_prefix="/referentiels")
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
        413: ("Fichier trop volumineux", "Le fichier envoyé dépasse 5 Mo. Aucune modification "
              "n'a été faite."),
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
    from .booking import AE_CANCEL_DAYS
    from .creneaux import CATEGORY_FILTERS
    from .export import EXPORT_MAX_WEEKS
    from .models import STATUS_WORDS

    app.jinja_env.filters.update(dates.JINJA_FILTERS)
    app.jinja_env.globals["today"] = dates.today
    # The rules' figures and words, typed once in Python, read by the templates too.
    app.jinja_env.globals.update(AE_CANCEL_DAYS=AE_CANCEL_DAYS, CATEGORY_FILTERS=CATEGORY_FILTERS,
                                 EXPORT_MAX_WEEKS=EXPORT_MAX_WEEKS, STATUS_WORDS=STATUS_WORDS)
