"""Each function's module imports in a bare environment and creates no client; the openai SDK is
loaded only by the upstream adapter, on a function's first upstream call."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT

LAYER = ROOT / "layers" / "videos_core"
FUNCTIONS = [
    "create",
    "get",
    "poll",
    "download",
    "list",
    "delete",
    "remix",
    "edit",
    "extend",
    "create_character",
    "get_character",
    "list_models",
]

# One interpreter imports the modules in turn (a process each would cost the suite a second of CPU
# per function); after each import, what it loaded and made so far.
PROBE = """
import importlib, json, sys
from videos_core.adapters import aws
facts = {}
for function in sys.argv[1:]:
    module = importlib.import_module(f"functions.{function}.app")
    facts[function] = {
        "handler": callable(getattr(module, "handler", None)),
        "openai": "openai" in sys.modules,
        "xray": "aws_xray_sdk" in sys.modules,
        "clients": sum(f.cache_info().currsize for f in (aws.dynamodb, aws.s3, aws.stepfunctions, aws.ssm)),
    }
print(json.dumps(facts))
"""


def probe(functions: list[str], **environment: str) -> dict[str, dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *functions],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{LAYER}", **environment},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    facts: dict[str, dict[str, object]] = json.loads(result.stdout.splitlines()[-1])
    return facts


def test_each_function_module_imports_with_no_environment() -> None:
    loaded = {"handler": True, "openai": False, "xray": True, "clients": 0}

    assert probe(FUNCTIONS) == {function: loaded for function in FUNCTIONS}


def test_the_xray_sdk_is_loaded_only_when_tracing_is_asked_for() -> None:
    """The template's default: Lambda traces the invocation, the SDK's ~100 ms import is skipped."""
    facts = probe(["get", "create"], POWERTOOLS_TRACE_DISABLED="true")

    untraced = {"handler": True, "openai": False, "xray": False, "clients": 0}
    assert facts == {function: untraced for function in ("get", "create")}


def test_only_the_upstream_adapter_imports_openai() -> None:
    layer = ROOT / "layers" / "videos_core" / "videos_core"
    importers = {
        path.relative_to(layer).as_posix()
        for path in [*layer.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
        if any(line.startswith(("import openai", "from openai")) for line in path.read_text().splitlines())
    }

    assert importers == {"providers/openai/adapter.py"}
