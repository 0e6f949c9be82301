"""Live grids (SPEC Part 2): the open BER grids ask every 5 seconds whether their department's
grids changed, and re-fetch their visible rows when they did (static/app.js, "Live grids").

Polling a number rather than holding an event stream: gunicorn's sync workers serve one request
at a time, so one stream per open grid would take a worker each; the revision lives in the
database (rdvpl/revision.py), so a change written through any worker is seen by every other.
"""

from __future__ import annotations

from flask import jsonify, make_response, request
from flask_login import current_user

from .. import grid_cache
from ..access import background
from ..extensions import limiter
from . import bp


@bp.route("/revision")
@background
@limiter.exempt
def grid_revision():
    """The revision of the agent's own department's grids: 204 (nothing new) when it is still
    ``depuis``, else 200 with ``{"revision": n}``. Read with the signed-in session (one SQL
    statement for the whole request); not the user's activity (a page left open still signs
    out when idle), never rate-limited."""
    now = grid_cache.grid_revision(current_user.department_id)
    if request.args.get("depuis") == str(now):  # compared as text: nothing to parse
        return make_response("", 204)
    return jsonify(revision=now)
