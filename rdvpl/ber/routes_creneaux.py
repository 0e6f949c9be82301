"""BER "Gérer les créneaux": reserve units for a school, cancel, set status (BER 4-5)."""

from flask import render_template

from . import bp


@bp.route("/creneaux")
def creneaux():
    """Gérer les plannings IPCSR (BER 4-5)."""
    return render_template("ber/creneaux.html")
