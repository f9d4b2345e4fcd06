# The two commands: `make serve` and `make test` do all set-up themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: serve test test-pg bench lint browser-deps clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

# Debian's Chromium and a Chinese font for the browser journeys (never a downloaded browser).
browser-deps:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wqy || { \
	  echo "installing chromium and fonts-wqy-microhei from Debian" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }

# serve: migrate, seed the demo world into an empty database, recount the console's summary table (it
# starts empty after the migration that creates it), build the search index, train a first ranking model
# when there is none (with too little history the rule score ranks), then gunicorn with the
# background-jobs loop beside it (stopped with gunicorn: the trap ends it on any exit).
serve: $(VENV)/.runtime
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo --if-empty
	$(BIN)/flask --app wsgi report rebuild-summary
	$(BIN)/flask --app wsgi search reindex
	$(BIN)/flask --app wsgi search sync
	test -e instance/models/ranking/current || $(BIN)/flask --app wsgi ranking train || true
	$(BIN)/flask --app wsgi jobs loop & LOOP=$$!; trap 'kill $$LOOP 2>/dev/null; wait $$LOOP' EXIT INT TERM; \
	  $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile - wsgi:app

test: $(VENV)/.dev browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: $(VENV)/.dev browser-deps
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	@for b in bench/bench_*.py; do echo "== $$b" >&2; $(BIN)/python $$b || exit 1; done

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache
