"""Which e-mail each event sends, the outbox, and its delivery.

One function per e-mail (``reservation_email``, ``cancellation_by_ber_email``,
``cancellation_by_ae_email``, ``password_reset_email``) owns its subject, recipients, templates
(``templates/email/<name>.txt`` and ``.html``), data and attachment (the reservation and
cancellation e-mails carry the ``.ics`` of rdvpl/ics.py), and calls the generic ``queue_mail``.
Domain functions call them inside their transaction.

An e-mail is written to ``outbox_mail`` in the same transaction as the change that promises it
(``queue_mail``), with a Message-ID of its own. Each app process runs a delivery loop (a daemon
thread, started lazily in the process that serves requests, so never before a gunicorn fork)
that wakes right after a commit that queued a mail and at least every MAIL_LOOP_SECONDS, and
sends every due mail: after an SMTP outage the pending mails leave within one round of the
server coming back, with no request and no command. ``flask --app app mail-deliver`` does the
same on demand (``--now``: backoff ignored; ``--failed``: the mails en échec too).

Delivery is at least once: a mail is claimed alone (a lease, ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and marked sent in its own short transaction right after the server accepted it. A
process killed in between leaves it claimed; once the lease has expired a loop sends it again,
with the same Message-ID, so that receivers can recognise the duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import threading
from email.utils import make_msgid, parseaddr
from typing import NamedTuple

from flask import Flask, current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import Engine, func, or_, select, text, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession

from . import ics
from .dates import utcnow
from .extensions import db, mail
from .models import AutoEcole, Department, OutboxMail, Session, Unit, User

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=1)
ROUND_LIMIT = 500  # mails per round; the loop goes on at once if a round reached it
_PENDING_FLAG = "rdvpl_outbox_dirty"
_LOOP_KEY = "rdvpl_outbox_loop"
_table = OutboxMail.__table__


def _setting(app: Flask, name: str, default: float) -> float:
    return float(app.config.get(name) or default)


# --- queueing -------------------------------------------------------------------------------


def queue_mail(
    kind: str, recipients: list[str], subject: str, template: str, *,
    attachment: Attachment | None = None, **context
) -> OutboxMail:
    """Render ``email/<template>.txt`` and ``.html`` and add the mail to the current transaction
    (with its attachment, stored as it will be sent: every attempt sends the same bytes)."""
    context.setdefault("subject", subject)
    row = OutboxMail(
        kind=kind,
        message_id=_new_message_id(),
        recipients=", ".join(recipients),
        subject=subject,
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
    )
    if attachment is not None:
        row.attachment_name, row.attachment_type, row.attachment_body = attachment
    db.session.add(row)
    db.session.info[_PENDING_FLAG] = True
    if not current_app.config.get("MAIL_SERVER"):
        log.info("Mail kept in the outbox (no MAIL_SERVER): to=%s subject=%s\n%s",
                 row.recipients, subject, row.body_text)
    return row


class Attachment(NamedTuple):
    name: str  # "reservation.ics"
    content_type: str  # "text/calendar; charset=UTF-8; method=REQUEST"
    body: str


# --- one function per e-mail ----------------------------------------------------------------


def mail_unit(unit: Unit) -> dict:
    """What an e-mail to a school says of a unit (schools only see the inspector's matricule)."""
    s = unit.session
    return {"date": s.date, "start": unit.start_time, "end": unit.end_time,
            "centre": s.centre.name, "category": s.category.code,
            "inspector": s.inspector.public_name}


def _calendar_file(school: AutoEcole, filename: str, method: str, events) -> Attachment | None:
    """The ``.ics`` of an e-mail about the school's exams (rdvpl/ics.py), None if no event."""
    if not events:
        return None
    sender = _sender_address() or "ne-pas-repondre@rdvpl.invalid"
    text = ics.calendar_text(
        events, method=method, attendee=(school.email, school.raison_sociale),
        organizer=(sender, f"RdvPermis — BER {school.department.code}"))
    return Attachment(filename, ics.CONTENT_TYPE.format(method=method), text)


def reservation_email(school: AutoEcole, units: list[Unit]) -> OutboxMail:
    """To the school: the units a BER agent reserved for it (BER 4, BER 10), with the .ics
    (METHOD:REQUEST, one new event per run of units)."""
    calendar = _calendar_file(school, "reservation.ics", ics.REQUEST,
                              ics.reservation_events(units))
    return queue_mail("reservation", [school.email],
                      "Réservation d'examens pratiques du permis de conduire", "reservation",
                      attachment=calendar, school=school, units=[mail_unit(u) for u in units])


def cancellation_by_ber_email(school: AutoEcole, units: list[Unit]) -> OutboxMail:
    """To the school: its exams the BER cancelled (one unit, or those of deleted sessions),
    with the .ics that removes them from its calendar (rdvpl/ics.py: CANCEL, or REQUEST when
    an event keeps some of its units). Called after the units' change, before any deletion."""
    method, events = ics.cancellation_events(units)
    calendar = _calendar_file(school, "annulation.ics", method, events)
    return queue_mail("cancel_by_ber", [school.email],
                      "Annulation d'examens pratiques du permis de conduire", "cancel_by_ber",
                      attachment=calendar, school=school, units=[mail_unit(u) for u in units])


def cancellation_by_ae_email(department: Department, school: AutoEcole, session: Session,
                             unit: Unit) -> OutboxMail:
    """To the department's BER mailbox: a school cancelled one of its units (AE 2), with the
    .ics of the cancellation (the unit's event cancelled or shortened)."""
    method, events = ics.cancellation_events([unit])
    calendar = _calendar_file(school, "annulation.ics", method, events)
    return queue_mail("cancel_by_ae", [department.ber_email],
                      f"Annulation examen {session.category.code} par une auto-école",
                      "cancel_by_ae", attachment=calendar, school=school, session=session,
                      unit=unit)


def password_reset_email(user: User, link: str) -> OutboxMail:
    """To the user: the one-time link to choose a new password."""
    return queue_mail("password_reset", [user.email],
                      "RdvPermis : choisir un nouveau mot de passe", "password_reset",
                      user=user, link=link)


def activation_email(user: User, link: str) -> OutboxMail:
    """To a new account: "Activez votre compte RdvPermis", the one-time link (48 hours) to choose
    a password."""
    return queue_mail("account_activation", [user.email], "Activez votre compte RdvPermis",
                      "account_activation", user=user, link=link)


def demand_confirmation_email(school: AutoEcole, demand, closes_on) -> OutboxMail:
    """To the school: its monthly demand of places is recorded (AE 3)."""
    return queue_mail("demand_confirmation", [school.email],
                      "Votre demande de places d'examen a bien été enregistrée",
                      "demand_confirmation", school=school, demand=demand, closes_on=closes_on)


def _sender_address() -> str:
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    return parseaddr(sender if isinstance(sender, str) else sender[-1])[1]


def _new_message_id() -> str:
    """``<unique@sender-domain>``; the domain is given so that no DNS lookup happens."""
    return make_msgid(domain=_sender_address().rpartition("@")[2] or "rdvpl.invalid")


# --- one delivery round -----------------------------------------------------------------------


def deliver_pending(
    app: Flask, *, ignore_backoff: bool = False, include_failed: bool = False,
    limit: int = ROUND_LIMIT, stop: threading.Event | None = None,
) -> dict:
    """Send the due mails, one claimed at a time, oldest first. Returns {'sent': n, 'failed': n}
    ('failed': not delivered by this round).

    ``ignore_backoff`` also sends the mails waiting before their next try; ``include_failed``
    also tries the mails en échec once more. An unreachable server ends the round at once: the
    next round (or the next command) tries again. Once ``stop`` is set, the round ends after
    the mail in flight, recorded sent or not."""
    counts = {"sent": 0, "failed": 0}
    if not app.config.get("MAIL_SERVER"):
        return counts
    with app.app_context():
        engine = db.engine
        _give_up_overdue(app, engine)
        tried: list[int] = []
        while len(tried) < limit and not (stop and stop.is_set()):
            row = _claim_next(app, engine, tried, ignore_backoff, include_failed)
            if row is None:
                break
            tried.append(row.id)
            try:
                _send(row)
            except Exception as exc:  # SMTP down, refused, timeout...
                counts["failed"] += 1
                if _record_failure(app, engine, row, exc):
                    log.warning("Mail server unreachable (%s); mail %s kept for the next round",
                                exc, row.id)
                    break  # an outage: trying the other mails now would only wait as long
                log.warning("Mail %s refused (%s)", row.id, exc)
            else:
                _record_sent(engine, row.id)
                counts["sent"] += 1
    return counts


def _claim_next(app, engine: Engine, tried, ignore_backoff: bool, include_failed: bool):
    """Claim one mail (a lease) in its own transaction and return its row, or None."""
    now = utcnow()
    lease = dt.timedelta(seconds=_setting(app, "MAIL_LEASE_SECONDS", 300))
    free = or_(_table.c.claimed_until.is_(None), _table.c.claimed_until < now)
    statuses = ("pending", "failed") if include_failed else ("pending",)
    conditions = [_table.c.status.in_(statuses), free]
    if not ignore_backoff:
        conditions.append(_table.c.next_attempt_at <= now)
    if tried:
        conditions.append(_table.c.id.not_in(tried))
    candidate = (select(_table.c.id).where(*conditions)
                 .order_by(_table.c.next_attempt_at, _table.c.id).limit(1))
    if engine.dialect.name == "postgresql":
        # Other workers skip the row this one is claiming instead of waiting for it.
        candidate = candidate.with_for_update(skip_locked=True)
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, one claimer at a time
        mail_id = conn.scalar(candidate)
        if mail_id is None:
            return None
        claimed = conn.execute(
            update(_table).where(_table.c.id == mail_id, *conditions[:2])
            .values(claimed_until=now + lease))
        if claimed.rowcount != 1:  # taken meanwhile: the caller asks again
            return _claim_next(app, engine, [*tried, mail_id], ignore_backoff, include_failed)
        return conn.execute(select(_table).where(_table.c.id == mail_id)).one()


def _record_sent(engine: Engine, mail_id: int) -> None:
    # Right after the server's acceptance, in a transaction of its own: the smaller this
    # window, the fewer mails a crash makes us send twice.
    with engine.begin() as conn:
        conn.execute(update(_table).where(_table.c.id == mail_id).values(
            status="sent", sent_at=utcnow(), attempts=_table.c.attempts + 1,
            claimed_until=None, last_error=None))


def _record_failure(app: Flask, engine: Engine, row, exc: Exception) -> bool:
    """Store the error and release the claim. Returns True if the server was unreachable."""
    error = _describe(exc)[:1000]
    unreachable = _server_unreachable(exc)
    values = {"last_error": error, "claimed_until": None}
    if unreachable:
        # Not this mail's failure: it stays due, no attempt counted; its next_attempt_at moves
        # behind the other due mails, so that one odd mail cannot stall the queue.
        values["next_attempt_at"] = utcnow()
    else:
        attempts = row.attempts + 1
        values["attempts"] = attempts
        values["next_attempt_at"] = utcnow() + _backoff(app, attempts)
        if row.status == "failed" or attempts >= _setting(app, "MAIL_MAX_ATTEMPTS", 20):
            values["status"] = "failed"
            log.error("Mail %s en échec after %s attempts: %s", row.id, attempts, error)
    with engine.begin() as conn:
        conn.execute(update(_table).where(_table.c.id == row.id).values(**values))
    return unreachable


def _describe(exc: Exception) -> str:
    """The server's reply as it said it (smtplib keeps it as bytes)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = [f"{who}: {code} {reply.decode(errors='replace')}"
                   for who, (code, reply) in exc.recipients.items()]
        return f"{type(exc).__name__}: " + "; ".join(replies)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode(errors="replace")
        return f"{type(exc).__name__}: {exc.smtp_code} {reply}"
    return f"{type(exc).__name__}: {exc}"


def _server_unreachable(exc: Exception) -> bool:
    """Connection refused or lost, timeout, no greeting, authentication: the server, not the
    mail. A reply refusing this very mail (sender, recipients, content) is the mail's failure."""
    refusals = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
    return isinstance(exc, OSError) and not isinstance(exc, refusals)


def _backoff(app: Flask, attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min... capped at one hour (base from MAIL_RETRY_SECONDS)."""
    base = float(app.config.get("MAIL_RETRY_SECONDS", 30))
    return min(dt.timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _give_up_overdue(app: Flask, engine: Engine) -> None:
    """A mail still pending MAIL_GIVE_UP_HOURS after it was queued is en échec (kept)."""
    now = utcnow()
    limit = now - dt.timedelta(hours=_setting(app, "MAIL_GIVE_UP_HOURS", 48))
    with engine.begin() as conn:
        conn.execute(
            update(_table)
            .where(_table.c.status == "pending",
                   func.coalesce(_table.c.requeued_at, _table.c.created_at) < limit,
                   or_(_table.c.claimed_until.is_(None), _table.c.claimed_until < now))
            .values(status="failed", last_error=func.coalesce(
                _table.c.last_error, "Not delivered within the time limit")))


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout (Flask-Mail 0.10 sets none: a server that
    accepts and never answers would block the deliverer forever)."""

    def __init__(self, state, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self):
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=self.timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        # Once the server has accepted the mail, a failing QUIT must not turn it into a
        # failure (and a second copy).
        if self.host is not None:
            try:
                self.host.quit()
            except (OSError, smtplib.SMTPException):
                self.host.close()


def _send(row) -> None:
    message = Message(
        subject=row.subject,
        recipients=[r.strip() for r in row.recipients.split(",") if r.strip()],
        body=row.body_text,
        html=row.body_html,
    )
    message.msgId = row.message_id  # the same on every attempt
    if row.attachment_body is not None:
        message.attach(row.attachment_name, row.attachment_type,
                       row.attachment_body.encode("utf-8"))
    # Read the configuration at send time (not only at start-up), so that a mail server
    # configured later, or changed by the CLI or tests, is the one used.
    app = current_app
    state = mail.init_mail(app.config, app.debug, app.testing)
    with _TimedConnection(state, _setting(app, "MAIL_TIMEOUT", 10)) as connection:
        message.send(connection)


# --- the delivery loop of each process ---------------------------------------------------------


class _DeliveryLoop:
    """A daemon thread that delivers the outbox: at start, when woken, and every
    MAIL_LOOP_SECONDS. Lives in the process that created it (a fork does not copy threads)."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rdvpl-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def is_alive(self) -> bool:
        return self.pid == os.getpid() and self._thread.is_alive()

    def stop(self) -> None:
        """Ask the loop to stop and wait for it: the mail in flight is answered (within
        MAIL_TIMEOUT per SMTP step) and recorded, no other one is claimed."""
        self._stop.set()
        self._wake.set()
        self._thread.join(_setting(self.app, "MAIL_TIMEOUT", 10) * 3 + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a commit from now on wakes the next round
            full_round = False
            if _loop_wanted(self.app):
                try:
                    counts = deliver_pending(self.app, stop=self._stop)
                    full_round = counts["sent"] + counts["failed"] >= ROUND_LIMIT
                except Exception:  # database down...: the outbox keeps the mails
                    log.exception("Outbox delivery round failed")
            if not full_round:
                self._wake.wait(_setting(self.app, "MAIL_LOOP_SECONDS", 15))


_loop_lock = threading.Lock()


def _reset_after_fork() -> None:
    # The child has only the forking thread: a lock held by another thread would stay held.
    global _loop_lock
    _loop_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _loop_wanted(app: Flask) -> bool:
    return app.config.get("MAIL_DELIVERY", "thread") == "thread" and bool(
        app.config.get("MAIL_SERVER"))


def delivery_loop(app: Flask) -> _DeliveryLoop | None:
    """This process's delivery loop, started on first use (None when not configured)."""
    if not _loop_wanted(app):
        return None
    loop = app.extensions.get(_LOOP_KEY)
    if loop is not None and loop.is_alive():
        return loop
    with _loop_lock:
        loop = app.extensions.get(_LOOP_KEY)
        if loop is not None and loop.pid != os.getpid():
            # Forked from a process whose loop used the pool: its connections are the
            # parent's sockets; forget them (without closing them under the parent's feet).
            with app.app_context():
                db.engine.dispose(close=False)
        if loop is None or not loop.is_alive():  # first use, or inherited through a fork
            loop = app.extensions[_LOOP_KEY] = _DeliveryLoop(app)
    return loop


def stop_delivery_loop(app: Flask) -> None:
    """Stop this process's loop, letting the mail in flight be recorded (a gunicorn worker's
    exit, tests, between apps sharing a database)."""
    loop = app.extensions.pop(_LOOP_KEY, None)
    if loop is not None and loop.pid == os.getpid():
        loop.stop()


def init_app(app: Flask) -> None:
    """Start the loop with the first request a process serves: with ``gunicorn --preload``
    create_app() runs in the master, and a thread started there would not exist in workers."""

    @app.before_request
    def _start_delivery_loop():
        delivery_loop(app)


def kick(app: Flask) -> None:
    """Deliver now, as configured: 'thread' (default: wake the loop), 'sync' (tests), 'off'."""
    mode = app.config.get("MAIL_DELIVERY", "thread")
    if mode == "sync":
        deliver_pending(app)
    elif mode == "thread":
        loop = delivery_loop(app)
        if loop is not None:
            loop.wake()


@sa_event.listens_for(OrmSession, "after_commit")
def _after_commit(session):
    if session.info.pop(_PENDING_FLAG, False):
        try:
            app = current_app._get_current_object()
        except RuntimeError:  # outside an application context (should not happen)
            return
        kick(app)


@sa_event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session):
    session.info.pop(_PENDING_FLAG, None)


# --- health ----------------------------------------------------------------------------------


def outbox_health() -> dict:
    """Figures for monitoring, no personal data: the database answers (a trivial SELECT, raises
    if not), pending and failed mails, and how long the oldest pending one has waited."""
    db.session.execute(text("SELECT 1"))
    counts = dict(db.session.execute(
        select(OutboxMail.status, func.count()).where(OutboxMail.status != "sent")
        .group_by(OutboxMail.status)).all())
    oldest = db.session.scalar(
        select(func.min(OutboxMail.created_at)).where(OutboxMail.status == "pending"))
    return {
        "mails_en_attente": counts.get("pending", 0),
        "mails_en_echec": counts.get("failed", 0),
        "attente_max_secondes": int((utcnow() - oldest).total_seconds()) if oldest else 0,
    }


def requeue_failed(actor, mail: OutboxMail, *, department_id: int | None = None) -> OutboxMail:
    """"Renvoyer" (page "Suivi des e-mails"): a mail en échec is pending again, due now, with
    a fresh count of tries and 48 hours from now before it gives up; the delivery loop is woken
    by the commit. The caller has checked that ``actor`` may see the mail. History row
    "mail.requeued" with the server's last answer. Refused (nothing changed) unless en échec."""
    from . import history
    from .errors import Conflict

    before = {"status": mail.status, "attempts": mail.attempts, "last_error": mail.last_error}
    now = utcnow()
    requeued = db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail.id, OutboxMail.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now, requeued_at=now,
                claimed_until=None)
        .execution_options(synchronize_session=False))
    if requeued.rowcount != 1:  # already requeued (double submit) or never failed
        db.session.rollback()
        raise Conflict("Cet e-mail n'est pas en échec : il est déjà envoyé ou en attente "
                       "d'envoi.", title="Renvoi impossible")
    history.record(actor, "mail.requeued", "outbox_mail", mail.id, department_id=department_id,
                   before=before, after={"status": "pending"})
    db.session.info[_PENDING_FLAG] = True
    db.session.commit()
    db.session.refresh(mail)
    return mail


def failed_mails() -> list[OutboxMail]:
    """The mails en échec, oldest first (for the operator's command)."""
    return db.session.scalars(
        select(OutboxMail).where(OutboxMail.status == "failed").order_by(OutboxMail.id)).all()

