"""gunicorn.conf.py: workers collect garbage between requests, never during one (issue 9: a
CPython 3.11 use-after-free, reached by a collection that starts inside an attribute store,
killed workers with SIGSEGV). `make bench` runs the load that used to kill them."""

from __future__ import annotations

import gc
import http.client
import runpy
import sys
import weakref
from pathlib import Path

from bench.infra import Gunicorn

ROOT = Path(__file__).resolve().parent.parent
CONF = runpy.run_path(str(ROOT / "gunicorn.conf.py"))


class _Node:
    pass


def test_a_collection_between_requests_frees_the_cycles_of_the_request():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        node = _Node()
        node.me = node  # a cycle: only the garbage collector frees it
        alive = weakref.ref(node)
        del node
        young = [_Node() for _ in range(1000)]  # past the youngest generation's threshold
        assert alive() is not None  # no automatic collection meanwhile
        assert CONF["collect_between_requests"]() == 0
        assert alive() is None
        assert CONF["collect_between_requests"]() is None  # nothing new: nothing to do
        del young
    finally:
        if was_enabled:
            gc.enable()


def _get(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/")
    body = conn.getresponse().read().decode()
    conn.close()
    return body


def test_gunicorn_workers_started_from_the_project_folder_collect_between_requests():
    with Gunicorn("tests.gc_probe:app", workers=1) as server:
        first = _get(server.port)
        second = _get(server.port)
        cpu = server.workers_cpu()  # what `make bench` reads of the workers' cost
    assert first.startswith("enabled=False")
    if sys.platform == "linux":
        assert cpu is not None and cpu > 0
    # The 5,000 cycles the first request left were collected after it, before the second.
    assert int(second.split("young=")[1]) < 700
    assert server.worker_deaths() == []


def _outbox_with_one_mail(tmp_path):
    """A migrated SQLite database whose outbox holds one pending mail, and an app on it."""
    from flask_migrate import upgrade

    from rdvpl import create_app
    from rdvpl.extensions import db
    from rdvpl.models import OutboxMail

    url = f"sqlite:///{tmp_path / 'outbox.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_DELIVERY": "off", "TESTING": True})
    with app.app_context():
        upgrade()
        db.session.add(OutboxMail(kind="test", message_id="<queued-before@rdvpl.test>",
                                  recipients="pl.ber011@example.test", subject="En attente",
                                  body_text="Envoyé par la boucle du worker.", body_html=""))
        db.session.commit()
        db.engine.dispose()
    return app, url


def test_each_worker_delivers_the_pending_mail_without_waiting_for_a_request(tmp_path):
    """Mail queued while the server was down or idle (a restart at night, an SMTP outage) goes
    out as soon as the workers are up: their delivery loops start with the worker
    (gunicorn.conf.py), not with the first request each serves."""
    from rdvpl.extensions import db
    from rdvpl.models import OutboxMail
    from tests.mailsink import MailSink

    app, url = _outbox_with_one_mail(tmp_path)
    sink = MailSink().start()
    try:
        with Gunicorn("app:app", workers=2, env={
                "DATABASE_URL": url, "SECRET_KEY": "test-only", "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(sink.port), "MAIL_DELIVERY": "thread"}) as server:
            received = sink.wait_for(count=1, timeout=20)  # not one request sent
            assert server.worker_deaths() == []
        assert [m["Subject"] for m in received] == ["En attente"]
        assert received[0]["Message-ID"] == "<queued-before@rdvpl.test>"
    finally:
        sink.stop()
    with app.app_context():
        assert db.session.scalar(db.select(OutboxMail.status)) == "sent"
        db.engine.dispose()


def test_a_worker_told_to_stop_first_records_the_mail_it_is_sending(tmp_path):
    """A restart (SIGTERM: a deploy, a scale-down) while a mail is in flight: the worker waits
    for the server's answer and records the mail sent before it exits, instead of leaving it
    claimed, to be sent a second time once its lease has expired."""
    from rdvpl.extensions import db
    from rdvpl.models import OutboxMail
    from tests.mailsink import MailSink

    app, url = _outbox_with_one_mail(tmp_path)
    sink = MailSink().start()
    sink.answer_after = 2.0
    try:
        with Gunicorn("app:app", workers=1, env={
                "DATABASE_URL": url, "SECRET_KEY": "test-only", "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(sink.port), "MAIL_DELIVERY": "thread"}) as server:
            assert sink.received.wait(20)  # the server has the mail and has not answered yet
        assert server.worker_deaths() == []
        assert [m["Subject"] for m in sink.messages] == ["En attente"]
    finally:
        sink.stop()
    with app.app_context():
        mail = db.session.scalars(db.select(OutboxMail)).one()
        assert (mail.status, mail.claimed_until, mail.attempts) == ("sent", None, 1)
        db.engine.dispose()
