"""local/install_uv.py: uv from its wheel where the machine's Python refuses pip, against an index on
this machine that answers as PyPI's JSON Simple API does."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.install_uv import InstallError, choose_wheel, install, machine
from tests.stub_server import StubHandler, stub_server

# uv 0.13.10's wheels as PyPI lists them.
WHEELS = [
    "uv-0.13.10-py3-none-linux_armv6l.whl",
    "uv-0.13.10-py3-none-macosx_10_12_x86_64.whl",
    "uv-0.13.10-py3-none-macosx_11_0_arm64.whl",
    "uv-0.13.10-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
    "uv-0.13.10-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "uv-0.13.10-py3-none-manylinux_2_28_aarch64.whl",
    "uv-0.13.10-py3-none-musllinux_1_1_x86_64.whl",
    "uv-0.13.10-py3-none-win_amd64.whl",
    "uv-0.13.10.tar.gz",
]


@pytest.mark.parametrize(
    ("here", "chosen"),
    [
        (("manylinux", "x86_64", (2, 36)), "manylinux_2_17_x86_64.manylinux2014_x86_64"),
        (("manylinux", "aarch64", (2, 36)), "manylinux_2_28_aarch64"),
        (
            ("manylinux", "aarch64", (2, 17)),
            "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
        ),
        (("musllinux", "x86_64", (1, 99)), "musllinux_1_1_x86_64"),
        (("macosx", "arm64", (14, 5)), "macosx_11_0_arm64"),
        (("macosx", "x86_64", (10, 15)), "macosx_10_12_x86_64"),
    ],
)
def test_the_wheel_chosen_is_the_newest_platform_the_machine_runs(
    here: tuple[str, str, tuple[int, int]], chosen: str
) -> None:
    assert choose_wheel(WHEELS, here) == f"uv-0.13.10-py3-none-{chosen}.whl"


def test_a_machine_older_than_every_wheel_is_told_so() -> None:
    with pytest.raises(InstallError, match=r"no uv wheel for manylinux x86_64 2\.12"):
        choose_wheel(WHEELS, ("manylinux", "x86_64", (2, 12)))


FAKE_UV = b"#!/bin/sh\necho 'uv 9.9.9'\n"


def _wheel(version: str) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr(f"uv-{version}.data/scripts/uv", FAKE_UV)
        archive.writestr(f"uv-{version}.dist-info/METADATA", f"Name: uv\nVersion: {version}\n")
    return data.getvalue()


@pytest.fixture
def index() -> Iterator[tuple[str, dict[str, str]]]:
    """An index serving one wheel of uv 9.9.9 for this machine; the sha256 it lists can be changed."""
    family, arch, (major, minor) = machine()
    name = f"uv-9.9.9-py3-none-{family}_{major}_{minor}_{arch}.whl"
    wheel = _wheel("9.9.9")
    listed = {"sha256": hashlib.sha256(wheel).hexdigest()}

    class Index(StubHandler):
        def do_GET(self) -> None:
            if self.path == "/simple/uv/":
                base = f"http://{self.headers['Host']}"
                files = [{"filename": name, "url": f"{base}/files/{name}", "hashes": listed}]
                self.answer(200, {"meta": {"api-version": "1.1"}, "name": "uv", "files": files})
            else:
                self.answer(200, wheel, "application/octet-stream")

    with stub_server(Index) as url:
        yield f"{url}/simple", listed


def test_the_binary_is_installed_from_the_wheel_and_runs(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, _ = index

    installed = install("9.9.9", tmp_path / "bin", url)

    assert installed == tmp_path / "bin" / "uv"
    assert subprocess.run([installed], capture_output=True, text=True, check=True).stdout == "uv 9.9.9\n"


def test_a_wheel_that_does_not_match_its_listed_hash_is_refused_and_nothing_written(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, listed = index
    listed["sha256"] = "0" * 64

    with pytest.raises(InstallError, match="does not match the SHA-256"):
        install("9.9.9", tmp_path / "bin", url)
    assert not (tmp_path / "bin").exists()
