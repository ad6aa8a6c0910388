"""Luma Ray 2's model input on Amazon Bedrock (model id `luma.ray-v2:0`), as the Bedrock User Guide's
"Luma AI models" page gives it (docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-luma.html):

| field | type | values |
|---|---|---|
| `prompt` | string, required | 1 to 5000 characters |
| `aspect_ratio` | enum | "1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21" (16:9 when left out) |
| `loop` | boolean | whether the video loops (false when left out) |
| `duration` | enum | "5s", "9s" (5s when left out) |
| `resolution` | enum | "540p", "720p" (720p when left out) |

The defaults are the page's example request's (and Luma's own API's). Any other field is refused.
Bedrock checks a model input against the model's JSON schema before it starts the invocation, and
refuses one the schema rules out with a ValidationException whose message names the field:
"Malformed input request: #/duration: 10s is not a valid enum value, please reformat your input and
try again." — the form of Bedrock's InvokeModel refusals; the page lists no messages of Luma's own.

Luma publishes no table of pixel sizes: a resolution is the picture's shorter side, the longer side
that times the ratio (16:9 at 720p is 1280x720, at 540p 960x540; 21:9 at 720p is 1680x720). The
engine's renders loop seamlessly whatever `loop` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.engine.dialects import size_of

MODEL_ID = "luma.ray-v2:0"
MAX_PROMPT_CHARS = 5000
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
DURATIONS = ("5s", "9s")
RESOLUTIONS = ("540p", "720p")
DEFAULTS = {"aspect_ratio": "16:9", "loop": False, "duration": "5s", "resolution": "720p"}
ENUMS = {"aspect_ratio": ASPECT_RATIOS, "duration": DURATIONS, "resolution": RESOLUTIONS}
FIELDS = ("prompt", *DEFAULTS)


@dataclass(frozen=True)
class LumaRequest:
    prompt: str
    seconds: str  # the engine's: "5" or "9"
    size: str  # WIDTHxHEIGHT
    loop: bool


class MalformedInputError(ValueError):
    """A model input the schema rules out; its message is Bedrock's refusal."""

    def __init__(self, violation: str) -> None:
        super().__init__(f"Malformed input request: {violation}, please reformat your input and try again.")


def luma_request(model_input: Any) -> LumaRequest:
    """What a `luma.ray-v2:0` model input asks for, or MalformedInputError naming the first field at fault."""
    if not isinstance(model_input, dict):
        raise MalformedInputError(f"#: expected type: JSONObject, found: {_json_type(model_input)}")
    extraneous = [name for name in model_input if name not in FIELDS]
    if extraneous:
        raise MalformedInputError(f"#: extraneous key [{extraneous[0]}] is not permitted")
    if "prompt" not in model_input:
        raise MalformedInputError("#: required key [prompt] not found")
    fields: dict[str, Any] = DEFAULTS | model_input
    prompt = fields["prompt"]
    if not isinstance(prompt, str):
        raise MalformedInputError(f"#/prompt: expected type: String, found: {_json_type(prompt)}")
    if not prompt:
        raise MalformedInputError("#/prompt: expected minLength: 1, actual: 0")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise MalformedInputError(f"#/prompt: expected maxLength: {MAX_PROMPT_CHARS}, actual: {len(prompt)}")
    if not isinstance(fields["loop"], bool):
        raise MalformedInputError(f"#/loop: expected type: Boolean, found: {_json_type(fields['loop'])}")
    for name, allowed in ENUMS.items():
        if fields[name] not in allowed:
            raise MalformedInputError(f"#/{name}: {_json_text(fields[name])} is not a valid enum value")
    seconds = str(fields["duration"]).removesuffix("s")
    return LumaRequest(prompt, seconds, size_of(fields["aspect_ratio"], fields["resolution"]), fields["loop"])


def _json_type(value: Any) -> str:
    """A JSON value's type as a JSON schema validator names it."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number" if isinstance(value, float) else "Integer"
    if isinstance(value, str):
        return "String"
    return "JSONArray" if isinstance(value, list) else "JSONObject"


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
