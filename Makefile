# rdvpl — the two commands of the README:
#   make demo   set everything up and serve the demo data on SQLite (http://127.0.0.1:5000)
#   make test   set everything up and run every test (SQLite, PostgreSQL, e2e in Chromium)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The PostgreSQL server the suite runs on; each run creates and drops its own database there.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Test processes (pytest-xdist): one per core by default; each has its own database and server.
JOBS ?= auto

.PHONY: demo test install browser lint test-sqlite test-pg test-e2e test-weekdays bench bench-national icons clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The app refuses to start without a SECRET_KEY: the demo makes a random one, once, in
# instance/secret_key (kept, so that a restart keeps you signed in), unless one is exported.
DEMO_KEY = SECRET_KEY="$${SECRET_KEY:-$$(cat instance/secret_key)}"

instance/secret_key:
	@mkdir -p instance
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@

demo: install instance/secret_key
	$(DEMO_KEY) $(BIN)/flask --app app db upgrade
	$(DEMO_KEY) $(BIN)/flask --app app seed-demo
	$(DEMO_KEY) $(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

# Debian's Chromium when present, else Playwright's own browser (a developer laptop).
browser: install
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "Chromium: $$(command -v chromium || command -v chromium-browser)"; \
	else \
		$(BIN)/playwright install chromium; \
	fi

lint: install
	$(BIN)/ruff check .

test-sqlite: install
	$(BIN)/pytest tests -n $(JOBS)

# Without a reachable PostgreSQL the run is skipped on a laptop, and fails in CI (RDVPL_STRICT=1).
test-pg: install
	@if $(BIN)/python -c "import sys, sqlalchemy as sa; sa.create_engine('$(PG_TEST_URL)').connect().close()" 2>/dev/null; then \
		TEST_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest tests -n $(JOBS); \
	elif [ "$$RDVPL_STRICT" = "1" ]; then \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): failing (RDVPL_STRICT=1)"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): PostgreSQL run skipped"; \
	fi

test-e2e: browser
	$(BIN)/pytest e2e -n $(JOBS)

test: lint test-sqlite test-pg test-e2e

# The demo data and the tests are dated relative to today: run the SQLite suite as if today
# were each day of a week, morning and late evening (23:30 UTC is already tomorrow in Paris),
# and around both daylight-saving changes. Needs libfaketime (Debian: apt-get install faketime).
# The clock is moved by an offset, not set to a fixed instant: every process (gunicorn's
# workers, the mail sink) then agrees on the time, and it runs on. The monotonic clock stays
# real (timed waits would otherwise last the offset); tests/faketime/sitecustomize.py mends
# the time.sleep that libfaketime 0.9.10 breaks in that mode.
FAKETIME_LIB ?= /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
WEEKDAYS ?= 2026-11-26 2026-11-27 2026-11-28 2026-11-29 2026-11-30 2026-12-01 2026-12-02 2027-03-27 2027-10-30
test-weekdays: install
	@for day in $(WEEKDAYS); do for hour in 10:00:00 23:30:00; do \
		offset=$$(( $$(date -u -d "$$day $$hour" +%s) - $$(date -u +%s) )); \
		out=$$(LD_PRELOAD=$(FAKETIME_LIB) FAKETIME="$$([ $$offset -ge 0 ] && echo +)$$offset" \
			FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH=tests/faketime \
			$(BIN)/pytest tests -q -p no:cacheprovider -n $(JOBS) 2>&1); status=$$?; \
		echo "$$day $$hour UTC: $$(echo "$$out" | tail -1)"; \
		[ $$status -eq 0 ] || { echo "$$out" | grep -E "^(FAILED|ERROR)"; exit 1; }; \
	done; done

# Figures, not a test (SPEC "Scale and speed"): department scale on SQLite and PostgreSQL, server
# time, bytes and SQL per page, reservation, export, gunicorn throughput against a bare Flask app.
# Fails (exit 1) only if a gunicorn worker dies under the load. SCALE=national adds 100 departments.
# Then the fair allocation (BER 10) for 300 schools and 10,000 free units.
bench: install
	$(BIN)/python -m bench $(if $(filter national,$(SCALE)),--national)
	$(BIN)/python -m bench.allocation

bench-national: install
	$(BIN)/python -m bench --national

# static/dsfr-icons.css: the DSFR icon rules of the fr-icon-* classes the templates use
# (tests/test_static.py fails when a template uses an icon this file lacks).
icons: install
	$(BIN)/python scripts/dsfr_icons.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache test-artifacts
