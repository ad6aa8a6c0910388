"""The HTTP contract: request and response models of both surfaces, and the error body."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# The seed's limit on /api/videos, and the one OpenAI's published spec gives /v1.
MAX_PROMPT_CHARS = 500
MAX_OPENAI_PROMPT_CHARS = 32_000

VideoStatus = Literal["queued", "in_progress", "completed", "failed"]
# A length and a size in their shape; what each model takes is its catalog entry's (400s name them).
Seconds = Annotated[str, Field(strict=True, pattern=r"^[1-9][0-9]{0,2}$")]
# An extension's new segment (OpenAI's spec), and a video's length: an extension's is the stitched total.
ExtensionSeconds = Literal["4", "8", "12", "16", "20"]
Length = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}$")]
Size = Annotated[str, Field(strict=True, pattern=r"^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$")]
Variant = Literal["video", "thumbnail", "spritesheet"]
Order = Literal["asc", "desc"]


class _Model(BaseModel):
    """The contract's models build their validators on first use: a function loads every model of the
    contract but uses a few, and each build costs about a millisecond of its cold start."""

    model_config = ConfigDict(defer_build=True)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Prompt = Annotated[
    str, Field(strict=True, min_length=1, max_length=MAX_PROMPT_CHARS), AfterValidator(_not_blank)
]
OpenAIPrompt = Annotated[
    str, Field(strict=True, min_length=1, max_length=MAX_OPENAI_PROMPT_CHARS), AfterValidator(_not_blank)
]
ModelName = Annotated[str, Field(strict=True, min_length=1, max_length=64)]


FileId = Annotated[str, Field(strict=True, pattern=r"^file_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
ImageType = Literal["image/png", "image/jpeg", "image/webp"]
UploadType = Literal["image/png", "image/jpeg", "image/webp", "video/mp4"]
# What the upstream takes as a reference image (OpenAI's limit); the body of a request takes 4 MiB.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A video to edit or extend, uploaded beforehand: no upstream documents a limit; this bounds what a
# function holds in memory.
MAX_VIDEO_UPLOAD_BYTES = 64 * 1024 * 1024


def _a_data_url(value: str) -> str:
    if not value.startswith("data:"):
        raise ValueError(
            "must be a data: URL (data:image/png;base64,…); the service fetches nothing on a client's "
            "behalf, so upload the image (multipart, or POST /v1/uploads and its file_id)"
        )
    return value


# OpenAI's limit on an image_url, a data: URL included.
DataUrl = Annotated[str, Field(strict=True, max_length=20_971_520), AfterValidator(_a_data_url)]


class ImageReference(_Model):
    """`input_reference` as an object: exactly one of an image uploaded beforehand (POST /v1/uploads)
    or the image itself as a data: URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_id: FileId | None = None
    image_url: DataUrl | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ImageReference:
        if (self.file_id is None) == (self.image_url is None):
            raise ValueError("give exactly one of file_id and image_url")
        return self


DEFAULT_MODEL = "sora-2"
MAX_CHARACTERS = 2  # in one video


class CharacterReference(_Model):
    """A character of the caller's (POST /v1/videos/characters), by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]


class CreateVideoRequest(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Prompt
    model: ModelName = DEFAULT_MODEL
    # The model's defaults when absent (its catalog entry's first length and size).
    seconds: Seconds | None = None
    size: Size | None = None
    input_reference: ImageReference | None = None
    # As OpenAI's guide has it: the characters' ids here, and each one's name in the prompt.
    characters: list[CharacterReference] = Field(default_factory=list, max_length=MAX_CHARACTERS)


class OpenAICreateVideoRequest(CreateVideoRequest):
    """A create on /v1: OpenAI's prompt limit."""

    prompt: OpenAIPrompt


class CreateUploadRequest(_Model):
    """A file to upload straight to storage, for one larger than a request body takes: an image (a
    create's input_reference, up to 10 MiB) or an MP4 (the video an edit or an extension starts from,
    up to 64 MiB)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: Annotated[str, Field(strict=True, min_length=1, max_length=255)]
    mime_type: UploadType  # before bytes, whose bound depends on it
    bytes: Annotated[int, Field(strict=True, ge=1, le=MAX_VIDEO_UPLOAD_BYTES)]

    @field_validator("bytes")
    @classmethod
    def _within_its_kind(cls, size: int, info: ValidationInfo) -> int:
        if info.data.get("mime_type", "video/mp4") != "video/mp4" and size > MAX_UPLOAD_BYTES:
            raise ValueError(f"an image may be at most {MAX_UPLOAD_BYTES} bytes")
        return size


class Upload(_Model):
    """A pending upload: PUT the file's bytes to `upload_url` with `upload_headers` before `expires_at`,
    then name it: an image in a create's `"input_reference": {"file_id": id}`, a video in an edit's or
    an extension's `"video": {"id": id}`. The file is kept a day."""

    id: str
    object: Literal["upload"] = "upload"
    filename: str
    bytes: int
    mime_type: UploadType
    status: Literal["pending"] = "pending"
    created_at: int
    expires_at: int
    upload_url: str
    upload_method: Literal["PUT"] = "PUT"
    upload_headers: dict[str, str]


class RemixVideoRequest(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Prompt


class OpenAIRemixVideoRequest(RemixVideoRequest):
    """A remix on /v1: OpenAI's prompt limit."""

    prompt: OpenAIPrompt


class UploadReference(_Model):
    """A file of the caller's uploaded with POST /v1/uploads, by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: FileId


class VideoReference(_Model):
    """A completed video of the caller's, by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]


class EditVideoRequest(_Model):
    """POST /v1/videos/edits: a completed video re-made with a new prompt. The video is named here,
    or uploaded in a form's `video` field instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: OpenAIPrompt
    video: VideoReference | None = None


class ExtendVideoRequest(_Model):
    """POST /v1/videos/extensions: a completed video carried on by a new segment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: OpenAIPrompt
    seconds: ExtensionSeconds
    video: VideoReference | None = None


class CreateCharacterRequest(_Model):
    """POST /v1/videos/characters: a name, beside the form's `video` file — or, for a video larger than
    a request body takes, `video[id]` naming one uploaded with POST /v1/uploads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(strict=True, min_length=1, max_length=80)]
    video: UploadReference | None = None


class Character(_Model):
    id: str
    name: str
    created_at: int


class VideoError(_Model):
    code: str
    message: str


def usd(amount: Decimal) -> str:
    """An amount of USD as the contract writes it: a decimal string, without trailing zeros."""
    return format(amount.normalize(), "f")


AttemptOutcome = Literal["running", "completed", "failed", "refused", "abandoned", "cancelled"]


class Attempt(_Model):
    """One try of a job on one of its model's routes: refused at create, failed or abandoned by the
    provider (the next route took the job over), or the one running or that ended the job."""

    route: str
    provider: str
    upstream_id: str | None = None
    outcome: AttemptOutcome
    reason: str | None = None
    # USD from the route's price table, and whether it counts against the daily budget: a refused,
    # failed or cancelled attempt is refunded; an abandoned one whose cancel did not succeed is not.
    cost_usd: str
    charged: bool


class Video(_Model):
    """A video job: the seed's fields (and OpenAI's), and the service's estimate of its cost."""

    id: str
    object: Literal["video"] = "video"
    status: VideoStatus
    progress: int = Field(ge=0, le=100)
    model: str
    seconds: Length
    size: Size
    prompt: str | None
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None
    # The service's own field: USD from its price table, what the job counts against the daily budget
    # (an extension's is its new segment's).
    estimated_cost_usd: str | None = None
    # The service's own fields: the provider that has the job (or ended it), and every attempt made.
    provider: str | None = None
    attempts: list[Attempt] | None = None


class RouteCard(_Model):
    """One of a model's routes, in the order a job tries them."""

    name: str
    provider: str
    seconds: list[str]
    sizes: list[str]
    price_per_second: str


class ModelCard(_Model):
    """A model this service accepts: its first route's provider, what it can make and its price there,
    and every route a job may take."""

    id: str
    object: Literal["model"] = "model"
    provider: str
    seconds: list[str]
    sizes: list[str]
    default_seconds: str
    default_size: str
    max_prompt_chars: int
    image_reference: bool
    audio: bool
    remix: bool
    edits: bool
    characters: bool
    # What an extension's new segment may last (none when the model extends nothing).
    extension_seconds: list[str]
    # USD per second as a decimal string, and the sizes priced otherwise.
    price_per_second: str
    prices_by_size: dict[str, str]
    routes: list[RouteCard]


class ModelList(_Model):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class VideoList(_Model):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


P = TypeVar("P")


def list_page(model: Callable[..., P], data: Sequence[Any], has_more: bool) -> P:
    """A page of an OpenAI-style list (`model` one of the *List models): its items, the first's and the
    last's ids, and whether more follow."""
    return model(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=has_more,
    )


class DeletedVideo(_Model):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: Literal[True] = True


class DownloadLink(_Model):
    url: str
    expires_at: int
    content_type: str


class ListQuery(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=10, ge=0, le=100)
    order: Order = "desc"
    after: str | None = Field(default=None, min_length=1, max_length=64)


# The longest a poll may wait for, from the video's creation.
MAX_WAIT_MS = 3_600_000


class PollQuery(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    maxWaitMs: int = Field(default=600_000, ge=1, le=MAX_WAIT_MS)  # noqa: N815 - the seed's parameter name


class DownloadQuery(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: Variant = "video"
    redirect: bool = True


class OpenAIErrorDetail(_Model):
    message: str
    type: str
    param: str | None
    code: str


class UpstreamError(_Model):
    type: str
    code: str | None
    message: str


class ErrorBody(_Model):
    """The seed's EnhancedErrorResponse plus OpenAI's `error` object, so both kinds of client read it."""

    statusCode: int  # noqa: N815 - the seed's field name
    timestamp: str
    path: str
    message: str
    error_code: str
    hint: str
    request_id: str | None
    retry_after_seconds: int | None = None
    openai_error: UpstreamError | None = None
    error: OpenAIErrorDetail
