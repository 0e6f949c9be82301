"""Which e-mail each event sends, the outbox, and its delivery.

An e-mail is written to ``outbox_mail`` in the same transaction as the change that promises it
(``queue_mail``), then delivered right after the commit by the same process (a background
thread, or synchronously in tests). A failed delivery is retried by later deliveries, by a timer
in the process that failed, and by ``flask --app app mail-deliver``. Rows are claimed with a
conditional UPDATE (and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several gunicorn workers
never send one mail twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from flask import Flask, current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from .dates import utcnow
from .extensions import db, mail
from .models import OutboxMail

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)
_PENDING_FLAG = "rdvpl_outbox_dirty"


def queue_mail(
    kind: str, recipients: list[str], subject: str, template: str, **context
) -> OutboxMail:
    """Render ``email/<template>.txt`` and ``.html`` and add the mail to the current transaction."""
    context.setdefault("subject", subject)
    row = OutboxMail(
        kind=kind,
        recipients=", ".join(recipients),
        subject=subject,
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
    )
    db.session.add(row)
    db.session.info[_PENDING_FLAG] = True
    if not current_app.config.get("MAIL_SERVER"):
        log.info("Mail kept in the outbox (no MAIL_SERVER): to=%s subject=%s\n%s",
                 row.recipients, subject, row.body_text)
    return row


def _backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min... capped at one hour (base from MAIL_RETRY_SECONDS)."""
    base = float(current_app.config.get("MAIL_RETRY_SECONDS", 30))
    return min(dt.timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_pending(app: Flask, *, limit: int = 100) -> dict:
    """Send every due pending mail once. Returns counts {'sent': n, 'failed': n}."""
    counts = {"sent": 0, "failed": 0}
    if not app.config.get("MAIL_SERVER"):
        return counts
    with app.app_context():
        engine = db.engine
        with OrmSession(engine) as s:
            now = utcnow()
            due = (
                select(OutboxMail.id)
                .where(
                    OutboxMail.status == "pending",
                    OutboxMail.next_attempt_at <= now,
                    or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
                )
                .order_by(OutboxMail.id)
                .limit(limit)
            )
            if engine.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = []
            with s.begin():
                for mail_id in s.scalars(due).all():
                    result = s.execute(
                        update(OutboxMail)
                        .where(
                            OutboxMail.id == mail_id,
                            OutboxMail.status == "pending",
                            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
                        )
                        .values(claimed_until=now + LEASE)
                    )
                    if result.rowcount == 1:
                        claimed.append(mail_id)
            for mail_id in claimed:
                with s.begin():
                    row = s.get(OutboxMail, mail_id)
                    try:
                        _send(row)
                    except Exception as exc:  # SMTP down, refused, timeout...
                        row.attempts += 1
                        row.last_error = str(exc)[:1000]
                        row.next_attempt_at = utcnow() + _backoff(row.attempts)
                        row.claimed_until = None
                        counts["failed"] += 1
                        log.warning("Mail %s not delivered (%s); retry later", mail_id, exc)
                    else:
                        row.attempts += 1
                        row.status = "sent"
                        row.sent_at = utcnow()
                        row.claimed_until = None
                        row.last_error = None
                        counts["sent"] += 1
    return counts


def _send(row: OutboxMail) -> None:
    message = Message(
        subject=row.subject,
        recipients=[r.strip() for r in row.recipients.split(",") if r.strip()],
        body=row.body_text,
        html=row.body_html,
    )
    # Read the configuration at send time (not only at start-up), so that a mail server
    # configured later, or changed by the CLI or tests, is the one used.
    app = current_app
    state = mail.init_mail(app.config, app.debug, app.testing)
    with Connection(state) as connection:  # Mail.send() would use the start-up settings
        message.send(connection)


def _next_retry_delay(app: Flask) -> float | None:
    """Seconds until the earliest pending mail is due, or None if none is pending."""
    with app.app_context():
        earliest = db.session.scalar(
            select(OutboxMail.next_attempt_at)
            .where(OutboxMail.status == "pending")
            .order_by(OutboxMail.next_attempt_at)
            .limit(1)
        )
        db.session.remove()
    if earliest is None:
        return None
    return max((earliest - utcnow()).total_seconds(), 1.0)


def _deliver_in_background(app: Flask) -> None:
    def run():
        try:
            counts = deliver_pending(app)
            if counts["failed"]:
                delay = _next_retry_delay(app)
                if delay is not None:
                    timer = threading.Timer(delay, _deliver_in_background, args=(app,))
                    timer.daemon = True
                    timer.start()
        except Exception:  # the outbox keeps the mail; the next delivery retries it
            log.exception("Outbox delivery failed")

    threading.Thread(target=run, name="rdvpl-outbox", daemon=True).start()


def kick(app: Flask) -> None:
    """Deliver now, as configured: 'thread' (default), 'sync' (tests) or 'off'."""
    mode = app.config.get("MAIL_DELIVERY", "thread")
    if mode == "sync":
        deliver_pending(app)
    elif mode == "thread":
        _deliver_in_background(app)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session):
    if session.info.pop(_PENDING_FLAG, False):
        try:
            app = current_app._get_current_object()
        except RuntimeError:  # outside an application context (should not happen)
            return
        kick(app)


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session):
    session.info.pop(_PENDING_FLAG, None)
