# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install catalogues bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) catalogues

catalogues: $(STAMP)
	$(BIN)/python -m tools.i18n compile

demo: install
	$(BIN)/coordbot chat --as demo

# One pytest-xdist worker per core; tests sharing a session server stay on one worker
# (`xdist_group`, see tests/conftest.py). `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# ruff and mypy (settings in pyproject.toml) before the tests: the README's one test command
# checks everything CI checks.
lint: install
	$(BIN)/ruff check bot tests tools benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var
