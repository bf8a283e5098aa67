# `make run` and `make test` are the two commands a newcomer needs (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export WBS_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test install lint typecheck test-sqlite test-postgres openapi bench bench-tools contract browser screenshots

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(INSTALLED)

run: install
	$(BIN)/wbs-sync db upgrade
	$(BIN)/wbs-sync demo
	$(BIN)/wbs-sync serve --host 127.0.0.1 --port 8000 --with-worker

# The two databases' suites at once: each spends much of its time waiting on its database,
# and the machine has a core for each. Each one's output is printed whole when it ends.
test: install lint typecheck bench-tools browser
	@echo "== the suite on SQLite and on PostgreSQL at once; each prints when it is done"
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test-sqlite: install bench-tools browser
	WBS_TEST_DATABASE=sqlite $(BIN)/pytest
	$(BIN)/python -m bench.run --smoke --backends sqlite
	$(BIN)/python -m bench.layers --smoke
	$(BIN)/python -m bench.webhooks --smoke --backends sqlite
	$(BIN)/python -m bench.writes --smoke --backends sqlite
	$(BIN)/python -m bench.pages --smoke --backends sqlite
	$(BIN)/python -m bench.keysets --smoke --backends sqlite
	$(BIN)/python -m bench.replans --smoke --backends sqlite

test-postgres: install browser
	@if $(BIN)/python -c "import sys, sqlalchemy; sqlalchemy.create_engine(sys.argv[1]).connect().close()" "$$WBS_TEST_POSTGRES_URL" 2>/dev/null; then \
		echo "== the same tests on PostgreSQL ($$WBS_TEST_POSTGRES_URL)"; \
		WBS_TEST_DATABASE=postgresql $(BIN)/pytest && \
		$(BIN)/python -m bench.run --smoke --backends postgresql && \
		$(BIN)/python -m bench.webhooks --smoke --backends postgresql && \
		$(BIN)/python -m bench.writes --smoke --backends postgresql && \
		$(BIN)/python -m bench.pages --smoke --backends postgresql && \
		$(BIN)/python -m bench.keysets --smoke --backends postgresql && \
		$(BIN)/python -m bench.replans --smoke --backends postgresql; \
	elif [ -n "$$WBS_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required but not reachable at $$WBS_TEST_POSTGRES_URL"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $$WBS_TEST_POSTGRES_URL: the tests ran on SQLite only."; \
	fi

openapi: install
	$(BIN)/wbs-sync openapi

# The HTTP benchmarks load the server with wrk, a C load generator (Debian package wrk).
# Installed when we may; without it the smoke run leaves the HTTP figures out and says so.
bench-tools:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }; \
		else \
			echo "wrk is not installed (sudo apt-get install wrk): the HTTP benchmarks need it"; \
		fi; \
	fi

# The page tests drive Debian's Chromium (tests/web); never a browser Playwright downloads.
# Installed when we may; without it the page tests fail and say why.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
		else \
			echo "chromium is not installed (sudo apt-get install chromium): the page tests need it"; \
		fi; \
	fi

# docs/screenshots/*.png, shown in the README; Japanese text needs a Japanese font.
screenshots: install browser
	@if ! fc-list :lang=ja 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q fonts-noto-cjk || { apt-get update -q && apt-get install -y -q fonts-noto-cjk; }; \
		else \
			echo "no Japanese font (sudo apt-get install fonts-noto-cjk): the pictures would show boxes"; \
		fi; \
	fi
	$(BIN)/python -m tests.web.screenshots

bench: install bench-tools
	$(BIN)/python -m bench.run

# The contract checks with a wider budget and a new seed each time (the suite runs a small one).
contract: install
	WBS_CONTRACT_EXAMPLES=100 WBS_CONTRACT_SEED=$$RANDOM $(BIN)/pytest tests/contract
