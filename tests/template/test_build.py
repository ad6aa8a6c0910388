"""What `sam build` ships is what the tests ran: the layer's requirements are uv.lock's, and the
Makefile builds for the runtime and architecture the template declares."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from local.template import application_template, resources_of_type
from tests.support import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()


def _make_variable(name: str) -> str:
    found = re.search(rf"^{name} = (\S+)$", MAKEFILE, re.MULTILINE)
    assert found, name
    return found.group(1)


@pytest.mark.parametrize(("group", "layer"), [("layer", "videos_core"), ("media", "media")])
def test_the_layer_requirements_are_exported_from_the_lock(group: str, layer: str) -> None:
    exported = subprocess.run(
        [
            shutil.which("uv") or "uv",
            "export",
            "--frozen",
            "--only-group",
            group,
            "--no-emit-project",
            "--format",
            "requirements-txt",
            "--no-header",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (ROOT / "layers" / layer / "requirements.txt").read_text()

    assert committed.split("\n", 2)[2] == exported, "run `make requirements`"


def test_the_build_targets_the_templates_runtime_and_architecture() -> None:
    template = application_template()
    function_globals = template["Globals"]["Function"]
    layers = resources_of_type(template, "AWS::Serverless::LayerVersion")

    assert sorted(layers) == ["CoreLayer", "MediaLayer"]
    assert function_globals["Runtime"] == f"python{_make_variable('LAMBDA_PYTHON')}"
    architecture = {"aarch64": "arm64", "x86_64": "x86_64"}[_make_variable("LAMBDA_PLATFORM").split("-")[0]]
    assert function_globals["Architectures"] == [architecture]
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == [function_globals["Runtime"]]
        assert layer["Metadata"]["BuildArchitecture"] == architecture
    for logical_id, function in resources_of_type(template, "AWS::Serverless::Function").items():
        metadata = function["Metadata"]
        assert (metadata["BuildMethod"], metadata["ContextPath"]) == ("makefile", "."), logical_id
        assert "Runtime" not in function["Properties"]
        assert "Architectures" not in function["Properties"]


def test_the_workers_preload_only_what_the_core_layer_ships() -> None:
    """A library the fork server preloads is in every worker: one the core layer lacks would import
    offline and fail on Lambda."""
    from importlib.metadata import packages_distributions

    from local.serve.workers import PRELOADED

    shipped = {
        line.split("==", 1)[0].lower()
        for line in (ROOT / "layers" / "videos_core" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith(" ")
    }
    distributions = packages_distributions()
    libraries = {module.split(".", 1)[0] for module in PRELOADED if not module.startswith("local.")}
    for library in libraries:
        names = {name.lower().replace("_", "-") for name in distributions[library]}
        assert names & shipped, f"{library} is preloaded but not in the core layer"


def test_the_layer_states_the_projects_version() -> None:
    # The version each C2PA manifest's claim generator names is pyproject.toml's.
    import tomllib

    import videos_core

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == videos_core.VERSION
