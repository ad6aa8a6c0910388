"""Installs uv where the machine lacks it, from the wheel PyPI publishes, with Python's standard library
alone: `python3 local/install_uv.py VERSION DIR` writes DIR/uv.

Debian's and Ubuntu's Python refuse `pip install` outside a virtual environment (PEP 668's
externally-managed-environment), `pip install --user` included, and may ship without pip or venv at
all. uv's wheel is its standalone binary in a zip (`uv-VERSION.data/scripts/uv`), so no installer is
needed: the wheel for this machine is chosen by its platform tags, checked against the SHA-256 the
index lists for it (PEP 691's JSON Simple API), and its binary written whole or not at all.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import re
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path

PYPI = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"

# The legacy manylinux tags, as the glibc version each stands for (PEP 600).
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_TAG = re.compile(r"^(?P<family>manylinux|musllinux|macosx)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>\w+)$")
_LEGACY = re.compile(r"^(?P<family>manylinux1|manylinux2010|manylinux2014)_(?P<arch>\w+)$")


class InstallError(Exception):
    """Why uv could not be installed, in a sentence."""


def machine() -> tuple[str, str, tuple[int, int]]:
    """This machine as the wheels' platform tags see it: the family (manylinux, musllinux or macosx),
    the architecture and the family's version (glibc's, or macOS's)."""
    arch = platform.machine().lower()
    if sys.platform == "darwin":
        release = platform.mac_ver()[0].split(".")
        return "macosx", "arm64" if arch == "arm64" else arch, (int(release[0]), int(release[1]))
    if sys.platform.startswith("linux"):
        arch = {"arm64": "aarch64", "amd64": "x86_64"}.get(arch, arch)
        libc, version = platform.libc_ver()
        if libc == "glibc":
            major, minor = version.split(".")[:2]
            return "manylinux", arch, (int(major), int(minor))
        return "musllinux", arch, (1, 99)
    raise InstallError(f"no uv wheel is chosen here for {sys.platform}: see https://docs.astral.sh/uv/")


def _platforms(filename: str) -> Iterable[tuple[str, str, tuple[int, int]]]:
    for tag in filename.removesuffix(".whl").split("-")[-1].split("."):
        if legacy := _LEGACY.match(tag):
            yield "manylinux", legacy["arch"], _LEGACY_MANYLINUX[legacy["family"]]
        elif modern := _TAG.match(tag):
            yield modern["family"], modern["arch"], (int(modern["major"]), int(modern["minor"]))


def choose_wheel(filenames: Iterable[str], here: tuple[str, str, tuple[int, int]]) -> str:
    """The wheel for `here` whose platform is the newest this machine runs (a wheel built for a newer
    glibc or macOS than this one's does not run on it)."""
    family, arch, version = here
    arches = {arch, "universal2"} if family == "macosx" else {arch}
    fitting = {
        name: max(runs)
        for name in filenames
        if name.endswith(".whl")
        and (
            runs := [
                needs for f, a, needs in _platforms(name) if f == family and a in arches and needs <= version
            ]
        )
    }
    if not fitting:
        raise InstallError(f"the index has no uv wheel for {family} {arch} {version[0]}.{version[1]}")
    return max(fitting, key=fitting.__getitem__)


def _get(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})  # noqa: S310 - https or a local index
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        data: bytes = answer.read()
    return data


def install(version: str, target_dir: Path, index: str = PYPI) -> Path:
    """Writes uv `version`'s binary for this machine to `target_dir`/uv; its path."""
    page = json.loads(_get(f"{index.rstrip('/')}/uv/", SIMPLE_JSON))
    files = {f["filename"]: f for f in page["files"] if f["filename"].startswith(f"uv-{version}-")}
    chosen = files[choose_wheel(files, machine())]
    wheel = _get(chosen["url"])
    if hashlib.sha256(wheel).hexdigest() != chosen["hashes"]["sha256"]:
        raise InstallError(f"{chosen['filename']} does not match the SHA-256 the index lists for it")
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        binary = archive.read(f"uv-{version}.data/scripts/uv")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "uv"
    with tempfile.NamedTemporaryFile(dir=target_dir, prefix=".uv-", delete=False) as partial:
        partial.write(binary)
    os.chmod(partial.name, 0o755)  # noqa: S103 - an executable for its owner and readable by all, as uv's installer makes it
    os.replace(partial.name, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("version")
    parser.add_argument("target_dir", type=Path)
    parser.add_argument("--index", default=PYPI, help="A PEP 691 Simple API (default: PyPI's).")
    args = parser.parse_args(argv)
    try:
        target = install(args.version, args.target_dir, args.index)
    except (InstallError, OSError, KeyError, ValueError) as e:
        print(f"could not install uv {args.version}: {e}", file=sys.stderr)
        return 1
    print(f"installed uv {args.version} at {target}", file=sys.stderr)
    if str(target.parent) not in os.environ.get("PATH", "").split(os.pathsep):
        print(f"add {target.parent} to your PATH to run `uv` yourself", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
