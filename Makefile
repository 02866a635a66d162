# Two commands for a fresh machine (see README):
#   make demo   -> set up .venv (CPU torch 2.13.0 + mitheory) and run the headline study
#   make test   -> set up .venv and run the default test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?= -n 2

.PHONY: setup demo test test-slow bench clean-venv

setup: $(VENV)/.installed

# torch is installed first, pinned to the local CPU build, so the package's `torch>=2.1`
# requirement is already satisfied and pip never downloads CUDA wheels.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e '.[dev]'
	touch $@

demo: setup
	$(PY) -m studies.latent_identifiability

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

test-slow: setup
	$(PY) -m pytest $(PYTEST_ARGS) --runslow -m slow

clean-venv:
	rm -rf $(VENV)
