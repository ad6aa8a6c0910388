# Everything installs itself: uv comes from PyPI when the machine lacks it, the rest from uv.lock.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser serve engine test lint types unit bench fuzz

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet

## Debian's Chromium, which the playground's browser tests drive with Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

## The whole service offline: the API on :3000, a local AWS endpoint on :4566, the engine on :4010.
serve: setup
	$(UV) run videos-api serve

engine: setup
	$(UV) run videos-api engine

## Lint, types and every test: what CI runs (two workers, a test file each at a time).
test: lint types browser
	$(UV) run pytest -n 2 --dist loadfile

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run cfn-lint template.yaml

types: setup
	$(UV) run mypy

unit: setup
	$(UV) run pytest tests/unit

## Every benchmark (one failing does not stop the others), then their tables into README.md.
BENCHES = engine cold_start upstream_calls completion_latency store_assets cost load
bench: setup
	@for bench in $(BENCHES); do $(UV) run python -m bench.$$bench || echo "bench.$$bench: target missed or failed"; done
	$(UV) run python -m bench.readme

## A long schemathesis campaign against serve (the test command runs a short one).
fuzz: setup
	FUZZ_EXAMPLES=250 $(UV) run pytest tests/fuzz -s
