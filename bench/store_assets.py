"""StoreAssets' copy of a 1 GiB asset: the copier's peak memory growth and its throughput, beside a
plain multipart upload of the same bytes, with the AWS endpoint (moto) and the upstream each in a
process of their own.

The copier is the service's own code: the openai SDK's streamed download of the upstream's content
(videos_core.providers.openai.adapter) fed to S3AssetStore.put_stream (8 MiB parts). The plain
upload sends the same bytes, generated in memory part by part, with no download. Each runs in a
fresh interpreter; its RSS growth is its peak minus its RSS just before the copy. Targets: growth
≤ 64 MiB, throughput ≥ 80 % of the plain upload.

    uv run python -m bench.store_assets [--mib 1024] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

from bench.report import ROOT, Table, publish
from tests.support import free_port, wait_until_serving

BLOCK = os.urandom(1024 * 1024)  # the asset: this MiB repeated (regenerated in each process)
BUCKET = "bench-assets"
PART = 8 * 1024 * 1024
MAX_GROWTH_MIB = 64
MIN_SHARE_OF_PLAIN = 0.8


def upstream_app(mib: int) -> object:
    """An OpenAI-compatible content endpoint serving `mib` MiB for any video."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def body() -> AsyncIterator[bytes]:
        for _ in range(mib):
            yield BLOCK

    async def content(_: object) -> StreamingResponse:
        return StreamingResponse(
            body(), media_type="video/mp4", headers={"content-length": str(mib * len(BLOCK))}
        )

    return Starlette(routes=[Route("/v1/videos/{video_id}/content", content)])


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def s3_client(endpoint: str) -> object:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def copy_once(s3_endpoint: str, upstream: str) -> dict[str, float]:
    """The service's copy: upstream content streamed into S3 by put_stream."""
    from videos_core.adapters.s3 import S3AssetStore
    from videos_core.catalog import build_catalog
    from videos_core.providers.openai.adapter import OpenAIUpstream
    from videos_core.settings import load_settings

    settings = load_settings(
        {
            "VIDEOS_TABLE": "videos",
            "KEYS_TABLE": "keys",
            "ASSETS_BUCKET": BUCKET,
            "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:x",
            "EVENT_BUS_NAME": "bus",
            "UPSTREAM_BASE_URL": f"{upstream}/v1",
            "UPSTREAM_API_KEY_PARAMETER": "/videos-api/upstream-api-key",
            "UPSTREAM_TIMEOUT_SECONDS": "60",
        }
    )
    store = S3AssetStore(s3_client(s3_endpoint), BUCKET)  # type: ignore[arg-type]
    catalog = build_catalog({}, settings.catalog_defaults)
    source = OpenAIUpstream(settings, lambda: catalog, lambda _: "k", attempts=1)
    with source.open_content("sora-2", "video_warm", "thumbnail") as content:  # warm: clients, imports
        for _ in content.chunks():
            break
    before = rss_mib()
    started = time.perf_counter()
    with source.open_content("sora-2", "video_bench", "video") as content:
        size = store.put_stream("bench/copy.mp4", content.chunks(), "video/mp4")
    return _figures(size, time.perf_counter() - started, before)


def plain_once(s3_endpoint: str, mib: int) -> dict[str, float]:
    """A plain multipart upload of the same bytes, made in memory part by part."""
    s3: object = s3_client(s3_endpoint)
    before = rss_mib()
    started = time.perf_counter()
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="bench/plain.mp4")  # type: ignore[attr-defined]
    parts = []
    for number, part in enumerate(_parts(mib), start=1):
        response = s3.upload_part(  # type: ignore[attr-defined]
            Bucket=BUCKET, Key="bench/plain.mp4", UploadId=upload["UploadId"], PartNumber=number, Body=part
        )
        parts.append({"PartNumber": number, "ETag": response["ETag"]})
    s3.complete_multipart_upload(  # type: ignore[attr-defined]
        Bucket=BUCKET, Key="bench/plain.mp4", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    return _figures(mib * len(BLOCK), time.perf_counter() - started, before)


def _parts(mib: int) -> Iterator[bytes]:
    per_part = PART // len(BLOCK)
    for first in range(0, mib, per_part):
        yield BLOCK * min(per_part, mib - first)


def _figures(size: int, seconds: float, rss_before: float) -> dict[str, float]:
    return {"mib": size / 2**20, "seconds": seconds, "growth_mib": rss_mib("VmHWM") - rss_before}


def measure(kind: str, s3_endpoint: str, upstream: str, mib: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.store_assets", "--one", kind, s3_endpoint, upstream, str(mib)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(output.splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        import uvicorn

        uvicorn.run(upstream_app(int(args.upstream[1])), port=int(args.upstream[0]), log_level="warning")  # type: ignore[arg-type]
        return
    if args.one:
        kind, s3_endpoint, upstream, mib = args.one
        figures = copy_once(s3_endpoint, upstream) if kind == "copy" else plain_once(s3_endpoint, int(mib))
        print(json.dumps(figures))
        return

    s3_port, upstream_port = free_port(), free_port()
    s3_endpoint, upstream = f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{upstream_port}"
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], cwd=ROOT
        ),
        subprocess.Popen(
            [sys.executable, "-m", "bench.store_assets", "--upstream", str(upstream_port), str(args.mib)],
            cwd=ROOT,
        ),
    ]
    try:
        wait_until_serving(f"{s3_endpoint}/moto-api/", servers[0])
        wait_until_serving(f"{upstream}/v1/videos/x/content", servers[1])
        s3 = s3_client(s3_endpoint)
        s3.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
        results: dict[str, list[dict[str, float]]] = {"plain": [], "copy": []}
        for _ in range(args.runs):
            for kind in results:
                results[kind].append(measure(kind, s3_endpoint, upstream, args.mib))
                s3.delete_object(Bucket=BUCKET, Key=f"bench/{kind}.mp4")  # type: ignore[attr-defined]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)

    median = {
        kind: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for kind, runs in results.items()
    }
    plain, copy = median["plain"], median["copy"]
    share = (copy["mib"] / copy["seconds"]) / (plain["mib"] / plain["seconds"])
    table = Table(
        f"StoreAssets copying {args.mib} MiB, median of {args.runs}"
        " (moto and the upstream in processes of their own)",
        ["upload", "MiB/s", "seconds", "RSS growth MiB", "target"],
    )
    table.add(
        "plain multipart upload",
        f"{plain['mib'] / plain['seconds']:.0f}",
        f"{plain['seconds']:.1f}",
        f"{plain['growth_mib']:.0f}",
        "",
    )
    verdict = "met" if copy["growth_mib"] <= MAX_GROWTH_MIB and share >= MIN_SHARE_OF_PLAIN else "MISSED"
    table.add(
        "StoreAssets: upstream stream -> put_stream",
        f"{copy['mib'] / copy['seconds']:.0f}",
        f"{copy['seconds']:.1f}",
        f"{copy['growth_mib']:.0f}",
        f"growth <= {MAX_GROWTH_MIB} MiB, >= {MIN_SHARE_OF_PLAIN:.0%} of plain ({share:.0%}): {verdict}",
    )
    publish("store_assets", table)


if __name__ == "__main__":
    main()
