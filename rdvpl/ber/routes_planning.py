"""BER "Planifier les activités": plan and delete sessions, export (BER 1-3).

One screen, /ber/planification, whose filters all live in the URL. Its parts are blocks of
templates/ber/planning.html: "page" (filters, week, grids and panel), "grid", "panel", "chunk"
(the next inspectors' grids, loaded as they scroll into view); a single
cell comes from templates/partials/_cell.html and the dialog from templates/dialogs/.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import render_template, request, send_file, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block, render_blocks
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from .. import dates, grid_cache, scopes
from ..accounts import favourite_ids
from ..errors import Conflict, DomainError, NotFound
from ..export import EXPORT_MAX_WEEKS, export_table, planning_xlsx
from ..extensions import db
from ..names import name_capitalised
from ..planning_grid import (
    GRID_CHUNK,
    grid_cell,
    planning_options,
    planning_week,
    taken_cells,
)
from ..sessions import CellRef, delete_session, is_deletable, plan_sessions, reserved_by_school
from ..web import Banner, committed, dialog, fragments, parse_int, render, wants_fragment
from . import bp
from .forms_planning import PlanningFilters, parse_cells, parse_export_weeks, parse_filters

TEMPLATE = "ber/planning.html"
# Live grids re-render at most this many inspectors at once (a department has about 60).
LIVE_ROWS = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(args: MultiDict) -> PlanningFilters:
    centres, categories = planning_options(current_user)
    return parse_filters(args, centres, categories)


def _context(f: PlanningFilters, *, start: int = 0, show=frozenset(), size: int = GRID_CHUNK,
             fresh: bool = False, **extra) -> dict:
    """Everything planning.html needs: the filters, the week's grids (``size`` inspectors
    from ``start``, through those of ``show``), the selection, and the grids' revision (read
    first: the page is at least as new as it, for live grids). The grids come rendered
    (``chunk_html``) from rdvpl/grid_cache.py when the department's grid revision, the week,
    the filters, the ticked cells, the agent's favourites and the day are those they were
    rendered for; ``fresh`` renders them from the database and gives the grid itself too
    (``built_grid``: live grids read the ticked cells taken meanwhile from it)."""
    monday = f.monday
    saturday = monday + dt.timedelta(days=5)
    columns = [dates.colonne(d) for d in dates.week_days(monday)]
    session_url = _session_url()
    department = current_user.department_id
    grid_revision = grid_cache.grid_revision(department)
    built = {}

    def build():
        grid = built["grid"] = planning_week(current_user, f.day, search=f.search,
                                             selected=f.selected, start=start, size=size,
                                             show=show)
        home = grid.inspectors[0].inspector.home_centre_id if grid.inspectors else None
        if not f.centre_given and home is not None:
            _home_centre(f, home)
        selected = sum(c.selected for iw in grid.inspectors for _, row in iw.rows for c in row)
        html = render_block(TEMPLATE, "chunk", f=f, grid=grid, columns=columns,
                            chunk_size=GRID_CHUNK, session_url=session_url)
        return html, {"home_centre": home, "selected": selected}

    parts = [monday, f.search, f.query(), f.centre_given, start, size, sorted(show),
             sorted(ref.key for ref in f.selected if monday <= ref.day <= saturday),
             sorted(favourite_ids(current_user)), session_url,
             grid_cache.clock_key(monday, saturday, to_the_minute=False)]
    html, facts = build() if fresh else grid_cache.cached(department, "planning-rows", parts,
                                                          build)
    if not f.centre_given and facts["home_centre"] is not None:
        # No centre chosen yet: the home centre of the first inspector shown.
        _home_centre(f, facts["home_centre"])
    return {"f": f, "grid": {"monday": monday, "saturday": saturday, "start": start},
            "chunk_html": Markup(html), "built_grid": built.get("grid"),
            "revision": grid_revision, "selected_count": facts["selected"], "columns": columns,
            "chunk_size": GRID_CHUNK, "session_url": session_url,
            "previous_week": f.monday - dt.timedelta(weeks=1),
            "next_week": f.monday + dt.timedelta(weeks=1), **extra}


def _home_centre(f: PlanningFilters, centre_id: int) -> None:
    f.centre = next((c for c in f.centres if c.id == centre_id), f.centre)


def _session_url() -> str:
    """The prefix of every planned cell's URL: one url_for per page, not one per cell."""
    return url_for("ber.planning_session", session_id=0)[:-1]


def _start(args) -> int:
    """Where a chunk of inspectors starts (0 for anything but a count)."""
    return max(parse_int(args.get("depuis")) or 0, 0)


def _grid_and_panel(f: PlanningFilters, banner: Banner, status: int, *, show=frozenset()):
    """After planning (or a refusal on a stale grid): the grid in place (through the
    inspectors of the cells concerned), the panel and the banner out-of-band; a full page
    when the request is not htmx."""
    if wants_fragment():
        return fragments(render_blocks(TEMPLATE, ["grid", "panel"],
                                       **_context(f, show=show, panel_oob=True)),
                         banner=banner, status=status)
    return render(TEMPLATE, status=status, banner=banner, **_context(f, show=show))


@bp.route("/planification")
def planning():
    """Planifier les activités des IPCSR (BER 1): filters, week navigation, one grid per
    inspector (favourites first, the others loaded as they scroll into view), the panel."""
    # The page served from rdvpl/grid_cache.py while nothing it shows has changed: the grids
    # depend on the day (past, today), the order and the stars on the agent's favourites.
    parts = [dates.today(), sorted(favourite_ids(current_user))]
    return grid_cache.page(current_user.department_id, "planning-page", parts, lambda: render(
        TEMPLATE, "page", **_context(_filters(request.args), start=_start(request.args))))


@bp.route("/planification/grille")
def planning_chunk():
    """The next inspectors' grids, loaded as they scroll into view (a direct visit: the page
    from these inspectors on)."""
    return render(TEMPLATE, "chunk", **_context(_filters(request.args),
                                                start=_start(request.args)))


@bp.route("/planification/actualisation")
def planning_refresh():
    """Live grids: another agent changed the department's grids. The grids the page shows
    (from ``depuis``, ``nombre`` inspectors) with the ticked cells (``cell``) still free, and
    the panel; a notice names the cells taken meanwhile. The revision read first comes back in
    X-Grid-Revision (a direct visit: the page)."""
    f = _filters(request.args)
    if not wants_fragment():
        return render(TEMPLATE, **_context(f, start=_start(request.args)))
    size = min(max(parse_int(request.args.get("nombre")) or 0, GRID_CHUNK), LIVE_ROWS)
    context = _context(f, start=_start(request.args), size=size, fresh=True, panel_oob=True)
    taken = taken_cells(context["built_grid"], f.selected)
    response = fragments(
        render_blocks(TEMPLATE, ["grid", "panel"], **context),
        render_template("partials/_live_notice.html", taken_cells=taken) if taken else "")
    response.headers["X-Grid-Revision"] = str(context["revision"])
    return response


@bp.route("/planification/selection")
def planning_selection():
    """The side panel "Session(s) en planification" for the cells currently ticked."""
    f = _filters(request.args)
    if not wants_fragment():  # a direct visit: the page, with these cells ticked
        return render(TEMPLATE, **_context(f))
    saturday = f.monday + dt.timedelta(days=5)
    count = sum(f.monday <= ref.day <= saturday for ref in f.selected)
    return render(TEMPLATE, "panel", f=f, selected_count=count,
                  grid={"monday": f.monday, "saturday": saturday})


@bp.route("/planification/sessions", methods=["POST"])
def planning_plan():
    """"Planifier ces sessions": every ticked cell at once, or none."""
    f = _filters(request.form)
    if f.category_notice:  # what was asked cannot be planned here: never plan CE instead
        asked = (request.form.get("categorie") or "").strip()[:10]
        raise DomainError(f"La catégorie « {asked} » ne se planifie pas dans le module poids "
                          "lourds. Aucune session n'a été planifiée.")
    cells = parse_cells(request.form.getlist("cell"))
    if cells is None:
        raise DomainError("La sélection envoyée est invalide. Rechargez la page puis recommencez.")
    try:
        sessions = plan_sessions(current_user, f.centre.id, f.category.id, cells)
    except Conflict as conflict:
        # Stale grid: show what is planned now, keep what can still be selected.
        db.session.rollback()
        f.selected = set(cells)
        return _grid_and_panel(f, Banner("error", conflict.title, conflict.message), 409,
                               show={c.inspector_id for c in cells})
    f.selected = set()
    message = (f"{len(sessions)} session(s) de permis {f.category.code} planifiée(s) sur le "
               f"centre {f.centre.name}. Leurs places d'examen sont disponibles pour les "
               "auto-écoles (Dispo AE).")
    done = Banner("success", "Succès", message)
    return committed(lambda: _grid_and_panel(f, done, 200, show={c.inspector_id for c in cells}),
                     done)


@bp.route("/planification/sessions/<id:session_id>")
def planning_session(session_id: int):
    """The dialog "Session déjà planifiée" (a direct visit: the session's week, dialog open)."""
    session = scopes.session(current_user.department_id, session_id)
    groups = reserved_by_school(session)

    def week(**extra):
        f = _filters(MultiDict({"date": dates.ddmmyyyy(session.date),
                                "centre": str(session.centre_id),
                                "categorie": session.category.code}))
        return render(TEMPLATE, **extra, **_context(f, show={session.inspector_id}))

    return dialog("dialogs/_session_planned.html", week, session=session, groups=groups,
                  reserved=sum(len(units) for _, units in groups),
                  deletable=is_deletable(session))


@bp.route("/planification/sessions/<id:session_id>/suppression", methods=["POST"])
def planning_delete(session_id: int):
    """"Oui, supprimer la session": cancels its reserved units, deletes it, frees the cell."""
    try:
        deleted = delete_session(current_user, session_id)
    except DomainError as error:
        ref = CellRef.parse(request.form.get("cell"))
        if not wants_fragment() or ref is None:
            raise
        # Stale dialog (deleted meanwhile, or past): close it and show the cell as it is now.
        db.session.rollback()
        try:
            cell = grid_cell(current_user, ref.inspector_id, ref.day, ref.tranche)
        except NotFound:  # a tampered cell: the refusal alone
            raise error from None
        return fragments(render_template("partials/_cell.html", one_cell=cell,
                                         session_url=_session_url()),
                         banner=Banner("error", error.title, error.message), close_dialog=True,
                         status=error.status_code)
    message = (f"Vous avez bien supprimé la session de permis {deleted.category} du "
               f"{dates.ddmmyyyy(deleted.date)} de {dates.hhmm(deleted.start)} à "
               f"{dates.hhmm(deleted.end)}, sur le centre {deleted.centre} pour l'inspecteur "
               f"{name_capitalised(deleted.inspector)}")
    if deleted.cancelled_units:
        schools = ", ".join(f"{name} ({n} place(s))" for name, n in deleted.schools)
        message += (". Les places d'examen réservées ont été annulées et les auto-écoles "
                    f"informées par e-mail : {schools}.")
    done = Banner("success", "Succès", message)
    return committed(lambda: _after_delete(deleted, done), done)


def _after_delete(deleted, banner: Banner):
    """The page of the session's week (direct POST), or the freed cell, the banner and an
    empty dialog (htmx)."""
    if not wants_fragment():
        f = _filters(MultiDict({"date": dates.ddmmyyyy(deleted.date)}))
        return render(TEMPLATE, banner=banner, **_context(f, show={deleted.inspector.id}))
    cell = grid_cell(current_user, deleted.inspector.id, deleted.date, deleted.tranche)
    return fragments(render_template("partials/_cell.html", one_cell=cell,
                                     session_url=_session_url(), autofocus=True),
                     banner=banner, close_dialog=True)


@bp.route("/planification/export")
def planning_export():
    """"Exporter les plannings": .xlsx of the filters on screen over a number of weeks."""
    f = _filters(request.args)
    if f.date_error:
        raise DomainError(dates.date_error(request.args.get("date", ""), "."))
    weeks = parse_export_weeks(request.args)
    if weeks is None:
        raise DomainError("Le nombre de semaines à exporter doit être un nombre entier de 1 à "
                          f"{EXPORT_MAX_WEEKS}.")
    table = export_table(current_user, f.day, weeks, search=f.search,
                         category_code=f.category.code)
    name = (f"plannings-{current_user.department.code}-{f.category.code}-"
            f"{table.first_day:%Y-%m-%d}-au-{table.last_day:%Y-%m-%d}.xlsx")
    return send_file(io.BytesIO(planning_xlsx(table)), mimetype=XLSX, as_attachment=True,
                     download_name=name)
