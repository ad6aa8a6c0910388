"""Signing a video's Content Credentials beside StoreAssets' copy of it: for MP4s of 10 MiB, 100 MiB
and 1 GiB, the time and peak memory growth of the service's signing (ContentCredentials.sign_into, file
to file on disk, as StoreAssets signs the copy it keeps) and the time of the copy into S3 itself
(S3AssetStore.put_stream of the same file, moto in a process of its own).

The MP4s are made quickly: an engine render whose packets are muxed again and again (PyAV, no
re-encoding) until the file is as large as wanted, under a temporary directory. The signature is ES256
by a local P-256 key through the same callback KMS answers deployed (one Sign call per file: a round
trip not counted here). Each measure runs in a fresh interpreter; its growth is its peak RSS minus its
RSS just before. Targets: signing adds at most 10 % to StoreAssets' time for 100 MiB, and grows memory
by less than 64 MiB.

    uv run python -m bench.content_credentials [--sizes 10 100 1024]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import ROOT, Table, publish
from bench.store_assets import BUCKET, rss_mib, s3_client
from tests.support import free_port, wait_until_serving

MAX_SHARE = 0.10
MAX_GROWTH_MIB = 64
TARGET_MIB = 100


def make_mp4(path: Path, mib: int) -> None:
    """An MP4 of about `mib` MiB: a rendered clip's video packets, repeated."""
    import av

    from local.engine.render import RenderSpec, render

    clip = render(RenderSpec("A bench of Content Credentials", 1280, 720, 8), path.parent / "renders")
    with av.open(str(clip.directory / "video.mp4")) as source:
        packets = [p for p in source.demux(video=0) if p.size]
        stream = source.streams.video[0]
        first, second = (packets[0].pts or 0), (packets[1].pts or 0) if len(packets) > 1 else 0
        step = max(1, int(second - first))
        span = step * len(packets)
        with av.open(str(path), "w", format="mp4") as out:
            video = out.add_stream_from_template(stream)
            written, round_ = 0, 0
            while written < mib * 1024 * 1024:
                for packet in packets:
                    copy = av.Packet(bytes(packet))
                    copy.pts = None if packet.pts is None else packet.pts + round_ * span
                    copy.dts = None if packet.dts is None else packet.dts + round_ * span
                    copy.time_base, copy.stream = packet.time_base, video
                    copy.is_keyframe = packet.is_keyframe
                    out.mux(copy)
                    written += packet.size
                round_ += 1


def sign_once(path: str) -> dict[str, float]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from local.serve.development_certificate import issue, new_authority, pem
    from videos_core.adapters.kms_signer import raw_signature
    from videos_core.content_credentials import ContentCredentials, Provenance

    key = ec.generate_private_key(ec.SECP256R1())
    authority = new_authority()
    chain = pem(issue(authority, key.public_key())) + pem(authority.certificate)
    credentials = ContentCredentials(
        lambda data: raw_signature(key.sign(data, ec.ECDSA(hashes.SHA256()))), lambda: chain
    )
    provenance = Provenance("video_bench", "openai", "sora-2", "video.mp4", int(time.time()))
    import c2pa  # noqa: F401 - loaded before the measure, as a warm container has it

    before = rss_mib()
    started = time.perf_counter()
    with open(path, "rb") as source, open(path + ".signed", "w+b") as into:
        credentials.sign_into(source, into, "video/mp4", provenance)
    seconds = time.perf_counter() - started
    Path(path + ".signed").unlink()
    return {"seconds": seconds, "growth_mib": rss_mib("VmHWM") - before}


def copy_once(path: str, s3_endpoint: str) -> dict[str, float]:
    from videos_core.adapters.s3 import S3AssetStore

    store = S3AssetStore(s3_client(s3_endpoint), BUCKET)  # type: ignore[arg-type]
    before = rss_mib()
    started = time.perf_counter()
    with open(path, "rb") as file:
        store.put_stream("bench/copy.mp4", iter(lambda: file.read(1024 * 1024), b""), "video/mp4")
    return {"seconds": time.perf_counter() - started, "growth_mib": rss_mib("VmHWM") - before}


def measure(kind: str, path: Path, s3_endpoint: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.content_credentials", "--one", kind, str(path), s3_endpoint],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1024])
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, path, s3_endpoint = args.one
        print(json.dumps(sign_once(path) if kind == "sign" else copy_once(path, s3_endpoint)))
        return
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], cwd=ROOT
    )
    table = Table(
        "Content Credentials: signing an MP4 beside StoreAssets' copy of it into S3 (moto on its own)",
        ["MP4", "copy s", "signing s", "signing / copy", "signing RSS growth MiB", "target"],
    )
    try:
        wait_until_serving(f"{endpoint}/moto-api/", server)
        s3_client(endpoint).create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory() as scratch:
            for mib in args.sizes:
                path = Path(scratch) / f"{mib}.mp4"
                make_mp4(path, mib)
                copy, sign = measure("copy", path, endpoint), measure("sign", path, endpoint)
                share = sign["seconds"] / copy["seconds"]
                target = ""
                if mib == TARGET_MIB:
                    met = share <= MAX_SHARE and sign["growth_mib"] < MAX_GROWTH_MIB
                    verdict = "met" if met else "MISSED"
                    target = f"<= {MAX_SHARE:.0%} of the copy, < {MAX_GROWTH_MIB} MiB: {verdict}"
                elif sign["growth_mib"] >= MAX_GROWTH_MIB:
                    target = f"growth < {MAX_GROWTH_MIB} MiB: MISSED"
                table.add(
                    f"{path.stat().st_size / 2**20:.0f} MiB",
                    f"{copy['seconds']:.2f}",
                    f"{sign['seconds']:.2f}",
                    f"{share:.0%}",
                    f"{sign['growth_mib']:.0f}",
                    target,
                )
                path.unlink()
    finally:
        server.terminate()
        server.wait(timeout=10)
    publish("content_credentials", table)


if __name__ == "__main__":
    main()
