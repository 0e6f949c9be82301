"""`make bench` is not run by CI (figures, not tests), so its modules are at least imported here,
and its timing loop is run once on two small databases: a rename in rdvpl/ that the bench did not
follow fails the suite, not the next benchmark run."""

import importlib

import pytest


@pytest.mark.parametrize("module", ["bench.dataset", "bench.infra", "bench.load",
                                    "bench.allocation", "bench.export_probe", "bench.__main__"])
def test_bench_module_imports(module):
    assert importlib.import_module(module) is not None


def test_databases_timed_side_by_side_each_answer_every_page(tmp_path, monkeypatch):
    """The national comparison's loop: two databases timed in turns, each signed in as its own
    agent and school, every page and partial answering 200 with its SQL counted."""
    from bench import __main__ as bench
    from bench import dataset
    from rdvpl import create_app
    from rdvpl.extensions import db

    monkeypatch.setattr(bench, "REPEAT", 2)
    databases = []
    for name in ("department", "other"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}.sqlite",
                          "WTF_CSRF_ENABLED": False, "MAIL_DELIVERY": "off",
                          "SECRET_KEY": "test-only"})
        with app.app_context():
            db.create_all()
            databases.append((app, dataset.build(db.engine, 1)))
            db.session.remove()
    results = bench._time_side_by_side(databases)
    labels = [page.label for page in bench.pages(bench._ids(*databases[0]))]
    assert len(results) == 2
    for timings in results:
        assert list(timings) == labels
        assert {t.status for t in timings.values()} == {200}
        assert all(t.statements >= 1 and t.cold_statements >= t.statements
                   for t in timings.values())
        assert all(t.kib > 0 and t.cold_ms > 0 for t in timings.values())
    for app, _ in databases:
        with app.app_context():
            db.engine.dispose()
