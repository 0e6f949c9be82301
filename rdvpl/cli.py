"""Command-line entries: ``flask --app app seed-demo`` and ``flask --app app mail-deliver``."""

from __future__ import annotations

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Efface toutes les données puis recharge la démo.")
    def seed_demo(reset: bool):
        """Load the demo data of SPEC (departments 011 and 034), dated relative to today."""
        from .seed import seed_demo as run

        click.echo(run(reset=reset))

    @app.cli.command("mail-deliver")
    def mail_deliver():
        """Send every due e-mail of the outbox now (retries the ones that failed)."""
        from .notify import deliver_pending

        counts = deliver_pending(current_app._get_current_object())
        click.echo(f"{counts['sent']} e-mail(s) envoyé(s), {counts['failed']} en échec.")
