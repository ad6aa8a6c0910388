"""Amazon Bedrock's asynchronous invocations (bedrock-runtime): Luma Ray 2, written into this stack's
own bucket and called with the functions' own IAM roles (no key).

Sources: the Amazon Bedrock API reference (StartAsyncInvoke, GetAsyncInvoke: statuses InProgress,
Completed and Failed with `failureMessage`; `clientRequestToken` makes a repeat no second invocation),
the Bedrock user guide's "Luma AI models" page (model id `luma.ray-v2:0`; `prompt` of 1 to 5000
characters; `aspect_ratio` 1:1, 16:9, 9:16, 4:3, 3:4, 21:9 or 9:21; `duration` "5s" or "9s";
`resolution` "540p" or "720p"; the MP4 written into the S3 location the call names), botocore's
service model of bedrock-runtime (what boto3 sends), and Bedrock's price list for Luma Ray 2 ($1.50 a
second at 720p, $0.75 at 540p). Luma Ray 2 runs in us-west-2, where a route without `base_url` goes.
StartAsyncInvoke needs `bedrock:InvokeModel` on the model, and the caller's own `s3:PutObject` where
Bedrock writes; Bedrock offers no way to stop an invocation, so a deleted job is not cancelled there.
"""

from __future__ import annotations

from videos_core.capabilities import profile
from videos_core.providers.plugin import Provider
from videos_core.sizes import COMMON_RATIOS, WIDE_RATIOS

# Where Bedrock writes a job's output in this stack's bucket (each invocation under its own id).
OUTPUT_PREFIX = "upstream/bedrock"
_RAY2_SECONDS = ("5", "9")
# The aspect ratios Luma Ray 2 takes (videos_core.sizes names them), and each as a picture size at
# each resolution (720p first).
RAY2_RATIOS = (*COMMON_RATIOS, "4:3", "3:4", *WIDE_RATIOS)
RAY2_SIZES = {
    "720p": ("1280x720", "720x1280", "720x720", "960x720", "720x960", "1680x720", "720x1680"),
    "540p": ("960x540", "540x960", "540x540", "720x540", "540x720", "1260x540", "540x1260"),
}

PROFILES = {
    "luma.ray-v2": profile(
        _RAY2_SECONDS,
        RAY2_SIZES["720p"] + RAY2_SIZES["540p"],
        prompt=5000,
        reference=False,
        audio=False,
        price="1.50",
    ),
}
# Luma Ray 2 at 540p costs half its 720p price.
_RAY2_540P_PRICES = {size: "0.75" for size in RAY2_SIZES["540p"]}

PROVIDER = Provider(
    name="bedrock",
    title="Amazon Bedrock's asynchronous invocations (IAM, output written into this stack's bucket)",
    profiles=PROFILES,
    adapter="videos_core.providers.bedrock.adapter:BedrockUpstream",
    default_base_url="https://bedrock-runtime.us-west-2.amazonaws.com",
    prices_by_size={"luma.ray-v2": _RAY2_540P_PRICES},
)
