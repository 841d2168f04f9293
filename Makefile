# The two set-up commands (README): `make demo` and `make test`. Both create .venv if missing and
# install the pinned dependencies (pyproject.toml + constraints.txt) before doing anything else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: venv demo test check bench clean docs

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/qa-audit demo

test: venv
	$(PY) -m pytest -q

check: venv
	$(VENV)/bin/ruff check audits flows tests benchmarks
	$(VENV)/bin/ruff format --check audits flows tests benchmarks
	$(VENV)/bin/mypy

bench: venv
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/sampling.py
	$(PY) benchmarks/checks.py
	$(PY) benchmarks/trace.py
	$(PY) benchmarks/nightly.py --conversations 1200000
	$(PY) benchmarks/partitioned.py

clean:
	rm -rf $(VENV) data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.duckdb.nightly.lock data/trace-demo.html data/reports

docs: venv
	$(PY) -m audits.cli_reference > docs/cli.md
