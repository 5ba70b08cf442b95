# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates (or reuses) .venv and installs what is missing first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# CPU machines: pin the CPU build of torch so pip does not pull a multi-GB CUDA wheel.
# On a GPU machine: make CONSTRAINTS= demo   (keeps the torch you install)
CONSTRAINTS ?= requirements/cpu-constraints.txt

.PHONY: demo test check lint typecheck install clean-demo bytecode

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@bash scripts/ensure-system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) bytecode

# An editable install leaves gsmreport's own modules uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set (containers, CI) every gsmreport process compiles them
# again: ~80 ms per start of the CLI, a worker or a test's subprocess. compileall writes
# the bytecode once (and later only for changed files); Python reads it whatever that says.
bytecode: $(STAMP)
	@$(PY) -m compileall -q gsmreport

demo: $(STAMP) bytecode
	$(VENV)/bin/gsmreport demo

test: $(STAMP) bytecode
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check gsmreport tests benchmarks
	$(VENV)/bin/ruff format --check gsmreport tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

clean-demo:
	rm -rf .demo
