"""gunicorn settings, read from the working directory by ``gunicorn app:app``.

Garbage collection runs between requests only, never in the middle of one. CPython 3.11 has a
use-after-free in ``make_dict_from_instance_attributes`` (Objects/dictobject.c): when storing an
attribute turns an object's inline attribute values into a real ``__dict__``, allocating that
dict can start a collection; if the collection runs a weakref callback that stores an attribute
on the same object, the values array is freed under the outer call, which then uses and frees it
again. SQLAlchemy's ``InstanceState._cleanup`` is such a callback (it sets ``session_id`` on the
state of a collected instance), so under load the ORM corrupted the heap and gunicorn workers
died of SIGSEGV in pymalloc (issue 9; found with valgrind, ``make bench`` reproduces it: one
worker in two died within ~30 requests of the unit grid at department scale). Collections at
request boundaries are equivalent in work, and cannot interrupt an attribute store.

Each worker also starts its e-mail delivery loop as soon as it has loaded the app, and stops it
when it exits, after the mail in flight is recorded.
"""

import gc

THRESHOLDS = gc.get_threshold()  # CPython's (700, 10, 10)


def post_worker_init(worker):
    gc.disable()
    worker.log.info("Automatic garbage collection off: collected between requests")
    start_mail_delivery(worker)


def start_mail_delivery(worker) -> None:
    """Start the worker's e-mail delivery loop now, not with the first request it serves: mail
    queued while no request came (a restart at night, a queue left by an SMTP outage) goes out
    without waiting for traffic. The before_request hook stays for other servers."""
    from flask import Flask

    from rdvpl import notify

    if isinstance(worker.wsgi, Flask) and notify.delivery_loop(worker.wsgi) is not None:
        worker.log.info("E-mail delivery loop started")


def worker_exit(server, worker):
    """A worker told to stop (a restart, a deploy) lets its delivery loop record the mail it is
    sending before the process ends: killed in between, the mail would stay claimed and be sent
    a second time once its lease expired. gunicorn also calls this in the master, which has no
    loop of its own."""
    from flask import Flask

    from rdvpl import notify

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        notify.stop_delivery_loop(app)


def post_request(worker, req, environ, resp):
    collect_between_requests()


def collect_between_requests(thresholds: tuple[int, int, int] = THRESHOLDS) -> int | None:
    """Run the collection CPython's automatic policy would have run during the request, now:
    the youngest generation once it holds more than ``thresholds[0]`` new objects, an older one
    every ``thresholds[1]`` (``thresholds[2]``) collections of the younger. Returns the
    generation collected, or None."""
    young, since_middle, since_old = gc.get_count()
    if young < thresholds[0]:
        return None
    if since_old >= thresholds[2]:
        generation = 2
    elif since_middle >= thresholds[1]:
        generation = 1
    else:
        generation = 0
    gc.collect(generation)
    return generation
