# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both create .venv with Python 3.12 if it is missing and install the project into it.

VENV := .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/liangping_2021_2025.toml
STAMP := $(VENV)/.installed

.PHONY: run test lint bench checksum clean

run: $(STAMP)
	$(VENV)/bin/innosim run $(SCENARIO)

# Two workers; tests/conftest.py groups the tests and puts the threaded-kernel group first
# (--no-loadscope-reorder keeps that order).
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m benchmarks

# Regenerate the committed CI smoke checksum after a deliberate change of results.
checksum: $(STAMP)
	$(PY) -m sim.smoke --update

$(STAMP): pyproject.toml scripts/system_deps.sh
	@bash scripts/find_python.sh >/dev/null
	@bash scripts/system_deps.sh
	@test -x $(PY) || $$(bash scripts/find_python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ema,calibrate]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
