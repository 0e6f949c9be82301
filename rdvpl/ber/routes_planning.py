"""BER "Planifier les activités": plan and delete sessions, export (BER 1-3)."""

from flask import render_template

from . import bp


@bp.route("/planification")
def planning():
    """Planifier les activités des IPCSR (BER 1-3)."""
    return render_template("ber/planning.html")
