"""MiniMax's video generation API (Hailuo, api.minimax.io): a task made from text or a first frame,
polled or called back about, its video a file whose download URL is read for each download.

Sources: MiniMax's API reference (platform.minimax.io/docs/api-reference): "Text to Video" and "Image
to Video" (`POST /v1/video_generation`: `model`, `prompt` of at most 2000 characters, `duration`,
`resolution`, `first_frame_image` as a URL or a data URL, `prompt_optimizer`, `callback_url`; answered
`{"task_id", "base_resp"}`), "Query Video Generation Task Status" (`GET
/v1/query/video_generation?task_id=`: Preparing, Queueing, Processing, Success, Fail, with `file_id`,
`video_width` and `video_height` on success), "Retrieve" a file (`GET /v1/files/retrieve?file_id=`:
`file.download_url`) and "Error Codes" (`base_resp.status_code`, often on an HTTP 200); the callback's
description on the create pages (MiniMax first POSTs `{"challenge"}`, to be echoed within 3 s, then
pushes the task's status). MiniMax publishes no Python SDK for it: its own clients read are the
MiniMax-MCP server (minimax_mcp, `generate_video`: create, poll until Success or Fail, retrieve,
download) and the mmx CLI (MiniMax-AI/cli, src/sdk/video). Each family's durations and resolutions
are the create pages' (tabled in MiniMax's own skills, minimax-multimodal-toolkit): 6 or 10 seconds,
10 at 768P only (at 512P too for MiniMax-Hailuo-02), 768P (MiniMax's default) or 1080P, 512P for
MiniMax-Hailuo-02 from a first frame only; MiniMax-Hailuo-2.3-Fast makes video from a first frame only
(the mmx CLI refuses it text alone). A video from text is 16:9 (768P is 1366x768, 1080P 1920x1080);
from a first frame it takes the frame's shape.

Prices are MiniMax's Pay as You Go list prices per video (platform.minimax.io/docs/guides/pricing-paygo)
at 6 seconds, its default length, per second: MiniMax-Hailuo-2.3 and -02 $0.28 at 768P, $0.49 at
1080P; -2.3-Fast $0.19 and $0.33; -02 at 512P $0.10. A 10-second video costs more a second at 768P
($0.56 and $0.32, Fast) and less at 512P ($0.15): a route's `price_per_second` sets another rate. The
older models (T2V-01, I2V-01 and their Director and live kinds) are priced no more, and S2V-01 takes
a subject reference rather than a first frame: none of them is offered here.
"""

from __future__ import annotations

from videos_core.capabilities import profile
from videos_core.providers.plugin import Callbacks, Provider

_PROMPT_CHARS = 2000
# 6 seconds first: MiniMax's default length, and the only one at 1080P.
_SECONDS = ("6", "10")
# 768P first: MiniMax's default resolution.
_SIZES = ("1366x768", "1920x1080")
HAILUO_23 = "MiniMax-Hailuo-2.3"
HAILUO_23_FAST = "MiniMax-Hailuo-2.3-Fast"
HAILUO_02 = "MiniMax-Hailuo-02"

PROFILES = {
    HAILUO_23: profile(
        _SECONDS, _SIZES, prompt=_PROMPT_CHARS, reference=True, audio=False, price="0.0466667"
    ),
    HAILUO_23_FAST: profile(
        _SECONDS, _SIZES, prompt=_PROMPT_CHARS, reference=True, audio=False, price="0.0316667"
    ),
    HAILUO_02: profile(
        _SECONDS, (*_SIZES, "910x512"), prompt=_PROMPT_CHARS, reference=True, audio=False, price="0.0466667"
    ),
}
PRICES_BY_SIZE = {
    HAILUO_23: {"1920x1080": "0.0816667"},
    HAILUO_23_FAST: {"1920x1080": "0.055"},
    HAILUO_02: {"1920x1080": "0.0816667", "910x512": "0.0166667"},
}
# The resolutions each family makes 10 seconds at (6 seconds at any of its own).
TEN_SECOND_RESOLUTIONS = {
    HAILUO_23: frozenset({"768P"}),
    HAILUO_23_FAST: frozenset({"768P"}),
    HAILUO_02: frozenset({"512P", "768P"}),
}
# The families that make video from a first frame only, and the resolutions others make from one only.
IMAGE_ONLY = frozenset({HAILUO_23_FAST})
FIRST_FRAME_RESOLUTIONS = {HAILUO_02: frozenset({"512P"})}

PROVIDER = Provider(
    name="minimax",
    title="MiniMax's video generation API (Hailuo: text or a first frame to video, polled or called back)",
    profiles=PROFILES,
    adapter="videos_core.providers.minimax.adapter:MiniMaxUpstream",
    default_base_url="https://api.minimax.io",
    # /v1/video_generation has no cancel (only MiniMax-H3's /v2 tasks are deleted).
    cancels=False,
    # The push is the task as a query reads it (`task_id`, `status`, `file_id`, `base_resp`), after
    # the URL echoed MiniMax's challenge; unsigned: the callback URL's token authenticates it.
    callbacks=Callbacks(job_id_field="task_id", challenge_field="challenge"),
    prices_by_size=PRICES_BY_SIZE,
)
