# `make demo` runs the sandbox and the FastAPI example (demo-flask, demo-django: the others); `make test` runs lint, types and tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# `make demo PORT=8080`: the demo app's port (each demo has its own default).
PORT ?=
PORT_OPTION := $(if $(PORT),--port $(PORT))

.PHONY: demo demo-flask demo-django test lint types pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m examples.fastapi_app $(PORT_OPTION)

demo-flask: $(BIN)/.installed
	$(BIN)/python -m examples.flask_app $(PORT_OPTION)

demo-django: $(BIN)/.installed
	$(BIN)/python -m examples.django_app $(PORT_OPTION)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

types: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed
	./scripts/system-deps.sh redis-server chromium
	$(BIN)/pytest

test: lint types pytest

bench: $(BIN)/.installed
	./scripts/system-deps.sh wrk redis-server
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
