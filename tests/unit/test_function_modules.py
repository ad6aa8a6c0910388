"""Each function's module imports in a bare environment and creates no client; the openai SDK is
loaded only by the upstream adapter, on a function's first upstream call."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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

PROBE = """
import importlib, json, sys
module = importlib.import_module(f"functions.{sys.argv[1]}.app")
from videos_core.adapters import aws
print(json.dumps({
    "handler": callable(getattr(module, "handler", None)),
    "openai": "openai" in sys.modules,
    "xray": "aws_xray_sdk" in sys.modules,
    "clients": sum(f.cache_info().currsize for f in (aws.dynamodb, aws.s3, aws.stepfunctions, aws.ssm)),
}))
"""


def probe(function: str, **environment: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, function],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{LAYER}", **environment},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    facts: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return facts


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_module_imports_with_no_environment(function: str) -> None:
    assert probe(function) == {"handler": True, "openai": False, "xray": True, "clients": 0}


@pytest.mark.parametrize("function", ["get", "create"])
def test_the_xray_sdk_is_loaded_only_when_tracing_is_asked_for(function: str) -> None:
    """The template's default: Lambda traces the invocation, the SDK's ~100 ms import is skipped."""
    facts = probe(function, POWERTOOLS_TRACE_DISABLED="true")
    assert facts == {"handler": True, "openai": False, "xray": False, "clients": 0}


def test_only_the_upstream_adapter_imports_openai() -> None:
    layer = ROOT / "layers" / "videos_core" / "videos_core"
    importers = {
        path.relative_to(layer).as_posix()
        for path in [*layer.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
        if any(line.startswith(("import openai", "from openai")) for line in path.read_text().splitlines())
    }

    assert importers == {"providers/openai/adapter.py"}
