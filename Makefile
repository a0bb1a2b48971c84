# Two commands do all the set-up (README, Quick start):
#   make search   a virtual environment in .venv, then the main job on the built-in synthetic data
#   make test     the same environment, then style checks and the whole test suite
# The environment is built when missing and rebuilt only when pyproject.toml changes.
#
#   make search ARGS="--num-samples 24"          more flags for tune.run
#   make test ARGS="-m multinode -s"             flags for pytest
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cu126   another torch build
#   make setup TORCH_INDEX=                      the default index (the CPU wheel on a machine without GPU)

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
# With an NVIDIA driver, the CUDA build; otherwise pip's default index (a CPU build here).
TORCH_INDEX ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo https://download.pytorch.org/whl/cu128)
ARGS ?=

BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: setup search test lint clean

setup: $(READY)

# torch first, from the chosen index: the project's torch range then installs nothing more.
$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(READY)

search: $(READY)
	$(BIN)/python -m tune.run --arch grunet0.5 $(ARGS)

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest $(ARGS)

clean:
	rm -rf $(VENV)
