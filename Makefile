# `make demo` runs the sandbox and the FastAPI example (demo-flask, demo-django, demo-litestar, demo-quart: the others); `make test` runs lint, types and tests.
# `make test-lowest` runs the adapter suites again on the lowest versions pyproject.toml allows.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# `make demo PORT=8080`: the demo app's port (each demo has its own default).
PORT ?=
PORT_OPTION := $(if $(PORT),--port $(PORT))
LOWEST_VENV ?= .venv-lowest
#: What the lowest versions must pass: every adapter, the testing helpers, start-up
#: checks, the extras, and sessions shared through Redis by worker processes.
LOWEST_TESTS := tests/starlette tests/flask tests/django tests/testing \
	tests/test_startup_configuration.py tests/test_several_workers.py \
	tests/test_missing_extras.py tests/security/test_revocation.py \
	tests/authz/test_openapi.py tests/authz/test_scopes.py \
	tests/litestar tests/quart
#: Leaks are `make pytest`'s to find, on the current versions, where every
#: ResourceWarning is an error. On the lowest ones Starlette 0.44's TestClient leaves its
#: lifespan streams open after a failed start-up, and the Django suite leaves an event
#: loop (and its self-pipe socket) to the garbage collector. Starlette 0.44's TestClient
#: names an anyio alias anyio 4 deprecates, as the test modules import it (before the
#: kit's pytest plugin can filter it).
LOWEST_WARNINGS := -W 'ignore::ResourceWarning' \
	-W 'ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning'

.PHONY: demo demo-flask demo-django demo-litestar demo-quart test test-lowest lint types pytest bench clean docs

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

demo-litestar: $(BIN)/.installed
	$(BIN)/python -m examples.litestar_app $(PORT_OPTION)

demo-quart: $(BIN)/.installed
	$(BIN)/python -m examples.quart_app $(PORT_OPTION)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

types: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed
	./scripts/system-deps.sh redis-server chromium
	$(BIN)/pytest

test: lint types pytest

# uv resolves every direct requirement to the lowest version its bound allows.
test-lowest: $(BIN)/.installed
	$(BIN)/python -m pip install -q 'uv>=0.4'
	rm -rf $(LOWEST_VENV)
	$(BIN)/uv venv -q --python $(BIN)/python $(LOWEST_VENV)
	VIRTUAL_ENV=$(LOWEST_VENV) $(BIN)/uv pip install -q --resolution lowest-direct -e '.[dev]'
	./scripts/system-deps.sh redis-server
	$(LOWEST_VENV)/bin/pytest -q -p no:cacheprovider $(LOWEST_WARNINGS) $(LOWEST_TESTS)

bench: $(BIN)/.installed
	./scripts/system-deps.sh wrk redis-server
	$(BIN)/python -m benchmarks

# `make docs` serves the documentation site at http://127.0.0.1:8001 (`mkdocs build
# --strict` runs in `make pytest`, through tests/docs).
docs: $(BIN)/.installed
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

clean:
	rm -rf $(VENV) $(LOWEST_VENV) .mypy_cache .ruff_cache .pytest_cache
