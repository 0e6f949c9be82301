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
    @click.option("--now", is_flag=True,
                  help="Envoie aussi les e-mails en attente d'un nouvel essai (sans délai).")
    @click.option("--failed", is_flag=True,
                  help="Réessaie aussi une fois les e-mails en échec.")
    def mail_deliver(now: bool, failed: bool):
        """Send the due e-mails of the outbox now; list the ones en échec."""
        from .notify import ROUND_LIMIT, deliver_pending, failed_mails

        app = current_app._get_current_object()
        if not app.config.get("MAIL_SERVER"):
            raise click.ClickException("MAIL_SERVER n'est pas configuré : rien n'est envoyé.")
        sent = undelivered = 0
        while True:  # rounds of ROUND_LIMIT mails, until a round is not full
            counts = deliver_pending(app, ignore_backoff=now or failed, include_failed=failed)
            sent += counts["sent"]
            undelivered += counts["failed"]
            if counts["sent"] + counts["failed"] < ROUND_LIMIT:
                break
        click.echo(f"{sent} e-mail(s) envoyé(s), {undelivered} non envoyé(s).")
        rows = failed_mails()
        if rows:
            click.echo(f"{len(rows)} e-mail(s) en échec (réessayer : mail-deliver --failed) :")
            for row in rows:
                click.echo(f"  #{row.id} du {row.created_at:%d/%m/%Y %H:%M} UTC à "
                           f"{row.recipients}, {row.attempts} essai(s) : {row.last_error}")
