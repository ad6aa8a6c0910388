"""Checks what `sam build` made: every function imports from its artifact and the layer's alone, in an
isolated interpreter (no site-packages, no project on the path), and each artifact's size is within
Lambda's limits. `python -m local.artifacts .aws-sam/build` prints the sizes.

The layer is built for the functions' runtime (python3.12 on arm64), whose compiled wheels this machine
cannot load; the imports therefore run against a twin: the same pinned requirements installed for this
interpreter, with the layer's own package copied from the built layer, byte for byte."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.serve.application import load_application
from local.template import TEMPLATE, application_template, resources_of_type

REQUIREMENTS = TEMPLATE.parent / "layers" / "videos_core" / "requirements.txt"
# Lambda's quota: a function and all its layers, unzipped.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
_IMPORT = "import sys; sys.path[:0] = sys.argv[1:]; import app; assert callable(app.handler)"


@dataclass(frozen=True)
class Artifact:
    logical_id: str
    path: Path
    unzipped: int
    zipped: int | None


def measure(logical_id: str, path: Path, *, zipped: bool = True) -> Artifact:
    """The artifact's sizes; its zip's only when `zipped` (a layer's takes seconds of CPU to make, and
    only the unzipped size has a quota when the template deploys through S3)."""
    files = [file for file in sorted(path.rglob("*")) if file.is_file()]
    size = None
    if zipped:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.relative_to(path))
        size = buffer.tell()
    return Artifact(logical_id, path, sum(file.stat().st_size for file in files), size)


def _host_twin(layer: Path, requirements: Path, into: Path) -> Path:
    """The layer's requirements for this interpreter, beside the built layer's own package."""
    subprocess.run(  # noqa: S603 - uv, with arguments of our own
        [
            shutil.which("uv") or "uv",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(into),
            "--python",
            sys.executable,
            "--only-binary",
            ":all:",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(requirements),
        ],
        check=True,
    )
    shutil.copytree(layer / "python" / "videos_core", into / "videos_core")
    return into


def _imports(function_dir: Path, layer_twin: Path, environment: dict[str, str]) -> str | None:
    """None when the function's handler imports in an isolated interpreter; otherwise what it printed."""
    done = subprocess.run(  # noqa: S603 - this interpreter, with arguments of our own
        [sys.executable, "-I", "-S", "-c", _IMPORT, str(function_dir), str(layer_twin)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return None if done.returncode == 0 else done.stderr.strip().splitlines()[-1]


def layers_of(template: dict[str, Any], logical_id: str) -> list[str]:
    """A function's layers: the global ones, then its own (SAM appends them)."""
    given = template["Globals"]["Function"].get("Layers", []) + template["Resources"][logical_id][
        "Properties"
    ].get("Layers", [])
    return [layer["Ref"] for layer in given]


def check(build_dir: Path) -> list[str]:
    """Every problem found, after printing each artifact's size."""
    template = application_template()
    application = load_application(template, {"UpstreamBaseUrl": "https://videos.example.com/v1"}, {})
    layers = {
        logical_id: measure(logical_id, build_dir / logical_id, zipped=False)
        for logical_id in resources_of_type(template, "AWS::Serverless::LayerVersion")
    }
    functions = [measure(logical_id, build_dir / logical_id) for logical_id in sorted(application.functions)]
    print(f"{'artifact':<24}{'unzipped bytes':>16}{'zipped bytes':>14}")
    for artifact in [*layers.values(), *functions]:
        zipped = "" if artifact.zipped is None else f"{artifact.zipped:,}"
        print(f"{artifact.logical_id:<24}{artifact.unzipped:>16,}{zipped:>14}")
    problems = []
    for function in functions:
        unzipped = function.unzipped + sum(
            layers[name].unzipped for name in layers_of(template, function.logical_id)
        )
        if unzipped > MAX_UNZIPPED_BYTES:
            problems.append(
                f"{function.logical_id} and its layers: {unzipped // 2**20} MiB unzipped (Lambda: 250)"
            )
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_DEFAULT_REGION": "us-east-1"}
    with tempfile.TemporaryDirectory() as scratch:
        # Handlers import the core layer only: the media layer's packages are imported when needed.
        twin = _host_twin(layers["CoreLayer"].path, REQUIREMENTS, Path(scratch))

        def imports(function: Artifact) -> str | None:
            environment = base | application.functions[function.logical_id].environment
            return _imports(function.path, twin, environment)

        with ThreadPoolExecutor(max_workers=4) as pool:
            failures = zip(functions, pool.map(imports, functions), strict=True)
            problems += [f"{f.logical_id} does not import: {error}" for f, error in failures if error]
    return problems


def main() -> None:
    problems = check(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE.parent / ".aws-sam" / "build")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("every function imports from its artifact and the layer in an isolated interpreter")


if __name__ == "__main__":
    main()
