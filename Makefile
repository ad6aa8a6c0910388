# Everything installs itself: uv comes from PyPI when the machine lacks it, the rest from uv.lock.
# `make serve` installs what serving needs (the project and uv.lock's `serve` group); `make test` and the
# other development targets add the `dev` group's tools.

# Python keeps each module's compiled bytecode even where the machine's environment turns that off:
# the tests start hundreds of interpreters (servers, function workers, the CLI), and each would
# otherwise compile every module it imports again, which doubles the CPU of their imports.
unexport PYTHONDONTWRITEBYTECODE
# uv: the machine's own, or the one `uv-install` puts in ~/.local/bin (where uv's installer puts it).
UV_VERSION = 0.13.10
UV = $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# The commands make runs find it there too (the README's, which the tests run, say `uv run`).
export PATH := $(HOME)/.local/bin:$(PATH)
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# What Lambda runs the functions on: template.yaml's Runtime and Architectures (a test keeps them agreeing).
LAMBDA_PYTHON = 3.12
LAMBDA_PLATFORM = aarch64-manylinux_2_28
# SAM CLI and checkov from PyPI, each in a tool environment of its own; SAM sends no telemetry from here.
SAM = SAM_CLI_TELEMETRY=0 $(UV) tool run --quiet --from aws-sam-cli==1.170.0 sam
CHECKOV = $(UV) tool run --quiet --from checkov==3.3.30 checkov

.PHONY: uv-install setup serve-setup browser serve engine test checks pytest lint types unit bench fuzz faults requirements artifacts

## uv from the wheel PyPI publishes, checked against its SHA-256, with Python's standard library alone:
## Debian's Python refuses `pip install` (externally-managed-environment) and may have no pip at all.
uv-install:
	@test -x "$(UV)" || python3 local/install_uv.py $(UV_VERSION) "$(HOME)/.local/bin"

## Everything: serving, the development tools and the tests' SDKs (exactly uv.lock's, nothing else).
setup: uv-install
	@$(UV) sync --locked --quiet --group dev

## What `serve` and the command line need; whatever else is installed stays.
serve-setup: uv-install
	@$(UV) sync --locked --quiet --inexact

## Debian's Chromium, which the playground's browser tests drive with Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

## The whole service offline: the API on :3000, a local AWS endpoint on :4566, the engine on :4010.
## `make serve ARGS=--fast` passes serve's options (make reads `make serve --fast` as its own).
serve: serve-setup
	$(UV) run videos-api serve $(ARGS)

engine: serve-setup
	$(UV) run videos-api engine $(ARGS)

## Lint, types, the Lambda artifacts and every test: what CI runs, side by side (each one's output
## kept together). The checks run at a low priority: they take the CPU the tests leave while they wait.
test: setup
	@$(MAKE) --no-print-directory -j 5 --output-sync=target checks pytest

checks:
	@nice -n 15 $(MAKE) --no-print-directory --output-sync=target lint types artifacts

## Every test (the browser tests drive Debian's Chromium, installed first), on three workers — the
## tests wait on backoffs and renders more than they compute — each taking a test file at a time,
## the longest suites first (tests/conftest.py's LONGEST_FIRST).
pytest: setup browser
	$(UV) run pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=15

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run cfn-lint template.yaml
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet

## The tests run on this machine's Python; what ships is checked as the runtime's Python too.
types: setup
	$(UV) run mypy
	$(UV) run mypy --python-version $(LAMBDA_PYTHON) layers/videos_core/videos_core functions

unit: setup
	$(UV) run pytest tests/unit

## Every benchmark (one failing does not stop the others), then their tables into README.md.
BENCHES = engine cold_start upstream_calls aws_calls aws_endpoint completion_latency webhook_deliveries failover store_assets content_credentials cost iam_judge load
bench: setup
	@for bench in $(BENCHES); do $(UV) run python -m bench.$$bench || echo "bench.$$bench: target missed or failed"; done
	$(UV) run python -m bench.readme

## The layer's pinned requirements, exported from uv.lock (a test fails when they drift from it).
requirements:
	$(UV) export --frozen --only-group layer --no-emit-project --format requirements-txt \
		-o layers/videos_core/requirements.txt --quiet
	$(UV) export --frozen --only-group media --no-emit-project --format requirements-txt \
		-o layers/media/requirements.txt --quiet

## `sam build` without Docker or a matching Python, then every function imported from what it built.
artifacts: setup
	$(SAM) build --parallel
	$(UV) run python -m local.artifacts .aws-sam/build

## `sam build` runs these (BuildMethod: makefile) in a copy of each CodeUri / ContentUri, one per
## resource; uv installs the layer's wheels for the runtime's Python and architecture, not this machine's.
build-CoreLayer:
	$(UV) pip install --quiet --target "$(ARTIFACTS_DIR)/python" --python-version $(LAMBDA_PYTHON) \
		--python-platform $(LAMBDA_PLATFORM) --only-binary :all: --no-deps --require-hashes -r requirements.txt
	tar --exclude=__pycache__ -cf - videos_core | tar -xf - -C "$(ARTIFACTS_DIR)/python"

## c2pa-python's wheel carries the Rust static library its shared one was linked from (~30 MB), which
## nothing loads: left out, the finalisers' layers stay well within Lambda's 250 MB.
build-MediaLayer:
	$(UV) pip install --quiet --target "$(ARTIFACTS_DIR)/python" --python-version $(LAMBDA_PYTHON) \
		--python-platform $(LAMBDA_PLATFORM) --only-binary :all: --no-deps --require-hashes -r requirements.txt
	rm -f "$(ARTIFACTS_DIR)"/python/c2pa/libs/*.rlib "$(ARTIFACTS_DIR)"/python/c2pa/libs/*.d

build-%Function:
	cp *.py "$(ARTIFACTS_DIR)/"

## A long schemathesis campaign against serve (the test command runs a short one).
fuzz: setup
	FUZZ_EXAMPLES=250 $(UV) run pytest tests/fuzz -s

## The fault suite at four times the test command's number of faults.
faults: setup
	FAULT_MIN=600 $(UV) run pytest tests/faults -s
