"""BER "Gérer les créneaux": reserve units for a school, cancel, set status (BER 4-5).

One page, ``/ber/creneaux``, whose blocks (templates/ber/creneaux.html) are swapped by htmx:
"results" on filter and week changes, "chunk" for the next inspectors of "Tous les
inspecteurs" as they scroll into view, "selection" when units are ticked, "suggestions" and
"school" for the school search. After a reservation, a cancellation or a status change the
banner comes with the units concerned (templates/partials/_unit.html), the summary and the
panel out-of-band, never the whole week. The unit dialogs live in templates/dialogs/_unit_*.html.
"""

from __future__ import annotations

import datetime as dt

from flask import make_response, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block, render_blocks

from .. import booking, candidates, dates, grid_cache, scopes
from ..accounts import favourite_ids
from ..creneaux import (
    CHUNK,
    CachedGrid,
    InspectorChoice,
    check_selection,
    creneaux_week,
    default_inspector,
    inspector_choices,
    search_schools,
    selection_by_day,
    unassigned_summary,
    unit_cells,
    unit_history,
)
from ..errors import Conflict, NotFound
from ..models import STATUS_WORDS, UnitStatus
from ..web import (
    Banner,
    banner_html,
    blocks,
    committed,
    dialog,
    fragments,
    parse_int,
    render,
    wants_fragment,
)
from . import bp
from .forms_creneaux import FiltersForm, ReservationForm, StatusForm

PAGE = "ber/creneaux.html"
# Live grids re-render at most this many inspectors at once (a department has about 60).
LIVE_ROWS = 100

RESERVED = Banner("success", "Réservation enregistrée !",
                  "Les places d'examens ont été enregistrées avec succès et l'auto-école a "
                  "été informée par e-mail de ces réservations.")
CANCELLED = Banner("success", "Annulation enregistrée !",
                   "L'examen de votre candidat a bien été annulé et le créneau est passé "
                   "automatiquement au statut indisponible.")


def _department() -> int:
    return current_user.department_id


def _filters(args) -> FiltersForm:
    """The filters of the URL (or of the form that carried them); a foreign inspector is a 404."""
    form = FiltersForm(args)
    inspector_id = form.inspector_id()
    if inspector_id is False:
        raise NotFound(scopes.INSPECTOR_NOT_FOUND)
    if inspector_id is not None:
        scopes.inspector(_department(), inspector_id)
    return form


def _summary(form: FiltersForm) -> dict:
    return {"summary": unassigned_summary(_department(), form.monday(),
                                          category=form.category())}


def _summary_html(form: FiltersForm) -> dict:
    """The summary block of the page, rendered once per grid revision, week, category and
    minute (started units stop counting), rdvpl/grid_cache.py."""
    monday = form.monday()

    def build():
        return render_block(PAGE, "summary", **_summary(form), oob=()), {}

    html, _ = grid_cache.cached(
        _department(), "creneaux-summary",
        [monday, form.category(), grid_cache.clock_key(monday, monday + dt.timedelta(days=5))],
        build)
    return {"summary_html": html}


def _chosen(form: FiltersForm, choices) -> int | None:
    """The inspector whose week is shown: the one chosen, else (as in the guide) the agent's
    first favourite or the first by name; None for "Tous les inspecteurs"."""
    if form.all_inspectors():
        return None
    if form.inspector_id():
        return form.inspector_id()
    default = default_inspector(choices)
    return default.id if default else None


def _choices():
    """The filter's inspectors (cached under the grid revision: a rename or a new inspector
    changes it) with the agent's own favourites (read each time: they are the agent's)."""
    department = _department()
    plain = grid_cache.cached_value(department, "creneaux-choices", [], lambda: [
        [c.id, c.prenom_nom, c.nom_prenom, c.home_centre]
        for c in inspector_choices(department)])
    favourites = favourite_ids(current_user)
    return [InspectorChoice(i, prenom_nom, nom_prenom, home, i in favourites)
            for i, prenom_nom, nom_prenom, home in plain]


def _grid(form: FiltersForm, *, start: int = 0, all_inspectors: bool = False,
          selected_ids=frozenset(), size: int = CHUNK) -> dict:
    """The filter's inspectors and the grid (one inspector, or ``size`` of all of them): its
    rows rendered once per grid revision and clock (rdvpl/grid_cache.py), as ``chunk_html``;
    ``grid.rows`` only says whether there are any."""
    choices = _choices()
    chosen = None if all_inspectors else _chosen(form, choices)
    common = _common()
    monday = form.monday()
    selected_ids = set(selected_ids)

    def build():
        grid = creneaux_week(_department(), monday, choices, inspector_id=chosen,
                             category=form.category(), start=start, size=size)
        html = render_block(PAGE, "chunk", **common, f=form, grid=grid,
                            selected_ids=selected_ids, focus_unit=None)
        return html, {"rows": bool(grid.rows), "start": grid.start}

    parts = [monday, form.category(), chosen, all_inspectors, start, size, sorted(selected_ids),
             form.query(), common["unit_url"],
             grid_cache.clock_key(monday, monday + dt.timedelta(days=5))]
    html, facts = grid_cache.cached(_department(), "creneaux-rows", parts, build)
    return {"choices": choices, "chosen": chosen, "chunk_html": html,
            "grid": CachedGrid(facts["rows"], facts["start"])}


def _context(args, *, selected=(), school=None, q="", start=0, **extra) -> dict:
    """Everything the page shows: filters, week, summary, grid and panel (a fixed number of
    SQL statements whatever the number of inspectors)."""
    # Read before the grid: the page is at least as new as this revision (live grids).
    grid_revision = grid_cache.grid_revision(_department())
    form = _filters(args)
    monday = form.monday()
    selected = list(selected)
    return {
        **_common(),
        "revision": grid_revision,
        "f": form,
        "monday": monday,
        "days": dates.week_days(monday),
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        **_grid(form, start=start, selected_ids={u.id for u in selected}),
        **_summary_html(form),
        "selected_ids": {u.id for u in selected},
        "selection": selection_by_day(selected),
        "count": len(selected),
        "school": school,
        "q": q,
        **extra,
    }


def _common() -> dict:
    """What every fragment needs: the clock that decides which units are past, and the
    prefix of every unit's URL (one url_for per page, not one per unit)."""
    return {"now": dates.paris_wall_clock(), "has_started": dates.has_started, "oob": (),
            "unit_url": url_for("ber.creneaux_unit", unit_id=0)[:-1],
            "chunk_size": CHUNK}


def _page(**context):
    return make_response(render_template(PAGE, **{**_common(), **context}))


@bp.route("/creneaux")
def creneaux():
    """Gérer les plannings IPCSR (BER 4-5): filters, summary, week grid and panel (the page
    served from rdvpl/grid_cache.py while nothing it shows has changed)."""
    monday = FiltersForm(request.args).monday()
    parts = [monday, grid_cache.clock_key(monday, monday + dt.timedelta(days=5)),
             sorted(favourite_ids(current_user))]  # the inspector shown by default
    return grid_cache.page(_department(), "creneaux-page", parts, lambda: render(
        PAGE, "results", **_context(request.args, start=_start(request.args))))


@bp.route("/creneaux/grille")
def creneaux_chunk():
    """"Tous les inspecteurs": the next inspectors of the week, loaded as they scroll into
    view (a direct visit: the page from these inspectors on)."""
    start = _start(request.args)
    if not wants_fragment():
        return _page(**_context(request.args, start=start))
    form = _filters(request.args)
    return render(PAGE, "chunk", **_common(), f=form,
                  **_grid(form, start=start, all_inspectors=True))


@bp.route("/creneaux/selection")
def creneaux_selection():
    """The panel "Unité(s) en cours d'attribution" for the ticked units (GET: no change)."""
    selected = scopes.units(_department(), _ids(request.args.getlist("unit")))
    if not wants_fragment():
        return _page(**_context(request.args, selected=selected))
    context = {**_common(), "selection": selection_by_day(selected),
               "count": len(selected), "oob": ("selbar",)}
    return blocks(PAGE, ["selection", "selbar"], **context)


@bp.route("/creneaux/actualisation")
def creneaux_refresh():
    """Live grids: another agent changed the department's grids. The rows the page shows (from
    ``depuis``, ``nombre`` inspectors), the summary, and the panel of the ticked units
    (``unit``) still free; a notice names those taken meanwhile. The revision read first comes
    back in X-Grid-Revision (a direct visit: the page)."""
    grid_revision = grid_cache.grid_revision(_department())
    start = _start(request.args)
    if not wants_fragment():
        return _page(**_context(request.args, start=start))
    form = _filters(request.args)
    still, taken = check_selection(_department(), _ids(request.args.getlist("unit")))
    size = min(max(parse_int(request.args.get("nombre")) or 0, CHUNK), LIVE_ROWS)
    context = {**_common(), "f": form,
               **_grid(form, start=start, size=size, selected_ids={u.id for u in still}),
               **_summary(form), "selected_ids": {u.id for u in still}, "focus_unit": None,
               "selection": selection_by_day(still), "count": len(still),
               "oob": ("summary_total", "summary_lines", "selection", "selbar")}
    response = fragments(
        render_blocks(PAGE, ["grid", "summary_total", "summary_lines", "selection", "selbar"],
                      **context),
        render_template("partials/_live_notice.html", taken_units=taken) if taken else "")
    response.headers["X-Grid-Revision"] = str(grid_revision)
    return response


@bp.route("/creneaux/auto-ecoles")
def creneaux_schools():
    """Suggestions while typing a raison sociale or an ID Aurige (the department's schools)."""
    q = (request.args.get("q") or "").strip()[:80]
    schools = search_schools(_department(), q) if len(q) >= 2 else []
    if not wants_fragment():
        return _page(**_context(request.args, q=q, schools=schools))
    # Typing again forgets the school chosen before.
    context = {**_common(), "q": q, "schools": schools, "school": None,
               "oob": ("school_choice",)}
    return blocks(PAGE, ["suggestions", "school_choice"], **context)


@bp.route("/creneaux/auto-ecoles/<id:school_id>")
def creneaux_school(school_id):
    """Choose a school from the suggestions: it is kept as a hidden school id."""
    school = scopes.school(_department(), school_id)
    if not wants_fragment():
        return _page(**_context(request.args, school=school, q=school.raison_sociale))
    return render(PAGE, "school", **_common(), school=school, q=school.raison_sociale)


@bp.route("/creneaux/reservation", methods=["POST"])
def creneaux_reserve():
    """Valider la place d'examen: all the ticked units for the chosen school, or none."""
    form = ReservationForm(request.form)
    _filters(request.form)  # the filters travel with the form: refused before anything changes
    try:
        booking.reserve_units(current_user, form.unit_ids(), form.school())
    except Conflict as error:
        # Stale grid: show the ticked units as they are now, keep what can still be reserved
        # ticked and the school chosen.
        still = _still_selectable(form.unit_ids())
        school = _school_or_none(form.school())
        return _units_response(form.unit_ids(), Banner("error", error.title, error.message), 409,
                               selected=still, school=school)
    # All the ticked units are reserved (or none: refused above). The focus goes to the first
    # of them (the button pressed is gone); their ids, not the units, whose reading after the
    # commit would cost a statement each.
    return committed(lambda: _units_response(form.unit_ids(), RESERVED, 200, focus_first=True),
                     RESERVED)


@bp.route("/creneaux/unites/<id:unit_id>")
def creneaux_unit(unit_id):
    """Tapping a unit: "Détail de l'examen" (reserved) or "Statut de la place" (GET only)."""
    unit = scopes.unit(_department(), unit_id)
    template, context = _dialog(unit)
    step = request.args.get("etape")
    if wants_fragment() and step in ("confirmation", "detail") \
            and unit.status == UnitStatus.RESERVED:
        return render(template, "actions", **context, confirm=step == "confirmation")
    # A direct visit: the unit's week, with the dialog open.
    args = {"inspecteur": str(unit.session.inspector_id),
            "date": unit.session.date.strftime("%d/%m/%Y")}
    return dialog(template, lambda **extra: _page(**_context(args), **extra), **context)


@bp.route("/creneaux/unites/<id:unit_id>/annulation", methods=["POST"])
def creneaux_cancel(unit_id):
    """Annuler l'examen (confirmed): the unit becomes Indispo, the school gets an e-mail."""
    _filters(request.form)  # refused before anything changes
    try:
        unit = booking.cancel_unit_by_ber(current_user, unit_id)
    except Conflict as error:
        return _unit_response(unit_id, Banner("error", error.title, error.message), 409)
    return committed(lambda: _unit_response(unit.id, CANCELLED), CANCELLED)


@bp.route("/creneaux/unites/<id:unit_id>/statut", methods=["POST"])
def creneaux_status(unit_id):
    """Statut de la place: Indisponible or Disponible aux auto-écoles."""
    form = StatusForm(request.form)
    _filters(request.form)  # refused before anything changes
    try:
        unit = booking.set_unit_status(current_user, unit_id, form.status.data)
    except Conflict as error:
        return _unit_response(unit_id, Banner("error", error.title, error.message), 409)
    message = (f"L'unité {booking.describe_unit(unit)} est maintenant au statut "
               f"« {STATUS_WORDS[UnitStatus(unit.status)]} ».")
    banner = Banner("success", "Statut enregistré !", message)
    return committed(lambda: _unit_response(unit.id, banner), banner)


# --- helpers -------------------------------------------------------------------------------


def _ids(values) -> list:
    ids = [parse_int(value) for value in values]
    if None in ids:
        raise NotFound(scopes.UNIT_NOT_FOUND)
    return ids


def _still_selectable(unit_ids) -> list:
    ids = [i for i in unit_ids if isinstance(i, int)]
    try:
        found = scopes.units(_department(), ids)
    except NotFound:
        return []
    now = dates.paris_wall_clock()
    return [u for u in found if u.status == UnitStatus.DISPO
            and not dates.has_started(u.session.date, u.start_time, now)]


def _school_or_none(school_id):
    try:
        return scopes.school(_department(), school_id)
    except NotFound:
        return None


def _start(args) -> int:
    """Where the chunk of "Tous les inspecteurs" starts (0 for anything but a count)."""
    return max(parse_int(args.get("depuis")) or 0, 0)


def _oob_units(cells, *, focus_unit=None, checked=()) -> str:
    """Units swapped alone, out-of-band by their id (``unit-<id>``)."""
    return render_template("partials/_unit.html", **_common(), oob_units=cells,
                           focus_unit=focus_unit, checked_ids=set(checked))


def _units_response(unit_ids, banner, status, *, selected=(), school=None, focus_first=False):
    """After a reservation (or its refusal on a stale grid): the banner in #banner (the
    form targets it) and, out-of-band, only the units concerned (``focus_first``: the focus
    on the first of them by date and hour), the summary counts and the panel. A direct
    (non-htmx) post gets the whole page with the banner."""
    q = school.raison_sociale if school else ""
    if not wants_fragment():
        return _page(**_context(request.form, selected=selected, school=school, q=q),
                     banner=banner), status
    form = _filters(request.form)
    context = {**_common(), **_summary(form), "selection": selection_by_day(selected),
               "count": len(selected), "school": school, "q": q,
               "oob": ("summary_total", "summary_lines", "panel", "selbar")}
    cells = unit_cells(_department(), unit_ids)
    return fragments(
        banner_html(banner, oob=False),
        _oob_units(cells, focus_unit=cells[0].id if focus_first and cells else None,
                   checked=[u.id for u in selected]),
        render_blocks(PAGE, ["summary_total", "summary_lines", "panel", "selbar"], **context),
        status=status)


def _unit_response(unit_id, banner, status=200):
    """After a cancellation or a status change: the banner in #banner (the dialog's buttons
    target it), and out-of-band the unit, the summary counts and the emptied dialog."""
    unit = scopes.unit(_department(), unit_id)
    if not wants_fragment():
        args = {"inspecteur": str(unit.session.inspector_id),
                "date": unit.session.date.strftime("%d/%m/%Y")}
        return _page(**_context(args), banner=banner), status
    form = _filters(request.form)
    context = {**_common(), **_summary(form), "oob": ("summary_total", "summary_lines")}
    return fragments(
        banner_html(banner, oob=False),
        _oob_units(unit_cells(_department(), [unit.id]), focus_unit=unit.id),
        render_blocks(PAGE, ["summary_total", "summary_lines"], **context),
        close_dialog=True, status=status)


def _dialog(unit):
    """The dialog template and context for a tapped unit."""
    context = {**_common(), "unit": unit, "history": unit_history(unit.id),
               "past": dates.has_started(unit.session.date, unit.start_time)}
    if unit.status == UnitStatus.RESERVED:
        context["candidate"] = candidates.of_units([unit.id]).get(unit.id)
        return "dialogs/_unit_detail.html", context
    return "dialogs/_unit_status.html", context
