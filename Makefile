# rdvpl — the two commands of the README:
#   make demo   set everything up and serve the demo data on SQLite (http://127.0.0.1:5000)
#   make test   set everything up and run every test (SQLite, PostgreSQL, e2e in Chromium)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The PostgreSQL server the suite runs on; each run creates and drops its own database there.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test install browser lint test-sqlite test-pg test-e2e bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app seed-demo
	$(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

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
	$(BIN)/pytest tests

# Without a reachable PostgreSQL the run is skipped on a laptop, and fails in CI (RDVPL_STRICT=1).
test-pg: install
	@if $(BIN)/python -c "import sys, sqlalchemy as sa; sa.create_engine('$(PG_TEST_URL)').connect().close()" 2>/dev/null; then \
		TEST_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest tests; \
	elif [ "$$RDVPL_STRICT" = "1" ]; then \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): failing (RDVPL_STRICT=1)"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): PostgreSQL run skipped"; \
	fi

test-e2e: browser
	$(BIN)/pytest e2e

test: lint test-sqlite test-pg test-e2e

# Figures, not a test: SQL statements and response times of the BER grids by department size.
bench: install
	$(BIN)/python -m bench.grids

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache test-artifacts
