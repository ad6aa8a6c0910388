"""What a model can make: its lengths, sizes, prompt limit, inputs and price. Each provider ships
these per model family (`videos_core.providers`); a route may override any of them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from videos_core.errors import InvalidRequest, InvalidVideoDuration, InvalidVideoPrompt, InvalidVideoSize
from videos_core.models.api import MAX_OPENAI_PROMPT_CHARS

SecondsValue = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}$")]
SizeValue = Annotated[str, Field(pattern=r"^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$")]
# USD per second, as a number or a decimal string.
Price = Annotated[
    Decimal,
    Field(gt=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[0-9]*\.?[0-9]+$"},
            ]
        }
    ),
]


class Capabilities(BaseModel):
    """A model family's capabilities. The first of `seconds` and of `sizes` are the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: tuple[SecondsValue, ...] = Field(min_length=1)
    sizes: tuple[SizeValue, ...] = Field(min_length=1)
    max_prompt_chars: int = Field(ge=1, le=MAX_OPENAI_PROMPT_CHARS)
    image_reference: bool
    audio: bool
    price_per_second: Decimal = Field(gt=0)
    # Operations past a create: OpenAI's remix, edits and extensions, and characters.
    remix: bool = False
    edits: bool = False
    characters: bool = False

    def check(self, model: str, seconds: str, size: str, prompt: str, reference: bool) -> None:
        """A create's parameters against the model, before any upstream is asked."""
        if seconds not in self.seconds:
            raise InvalidVideoDuration(
                f"Model '{model}' makes videos of {_either(self.seconds)} seconds, not '{seconds}'.",
                param="seconds",
                hint=use_one_of(self.seconds),
            )
        if size not in self.sizes:
            raise InvalidVideoSize(
                f"Model '{model}' makes videos of size {_either(self.sizes)}, not '{size}'.",
                param="size",
            )
        if len(prompt) > self.max_prompt_chars:
            raise InvalidVideoPrompt(
                f"Model '{model}' takes a prompt of at most {self.max_prompt_chars} characters.",
                param="prompt",
            )
        if reference and not self.image_reference:
            raise InvalidRequest(f"Model '{model}' takes no reference image.", param="input_reference")

    def allows(self, model: str, operation: str, param: str | None = None) -> None:
        """Whether the model does a remix, an edit or extension, or characters; a 400 if not."""
        if not getattr(self, operation):
            raise InvalidRequest(f"Model '{model}' does not support {operation}.", param=param or "model")


def profile(
    seconds: tuple[str, ...], sizes: tuple[str, ...], *, prompt: int, reference: bool, audio: bool, price: str
) -> Capabilities:
    """A model family's capabilities as a provider's module lists them (a create and nothing past it)."""
    return Capabilities(
        seconds=seconds,
        sizes=sizes,
        max_prompt_chars=prompt,
        image_reference=reference,
        audio=audio,
        price_per_second=Decimal(price),
    )


class Overrides(BaseModel):
    """A route's own values for any capability of its model's family."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: tuple[SecondsValue, ...] | None = Field(default=None, min_length=1)
    sizes: tuple[SizeValue, ...] | None = Field(default=None, min_length=1)
    max_prompt_chars: int | None = Field(default=None, ge=1, le=MAX_OPENAI_PROMPT_CHARS)
    image_reference: bool | None = None
    audio: bool | None = None
    price_per_second: Price | None = None


def use_one_of(values: tuple[str, ...]) -> str:
    """A hint naming the values a parameter takes, as the seed words its own: `Use "4", "8", or "12"`."""
    quoted = [f'"{v}"' for v in values]
    return "Use " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + ", or " + quoted[-1])


def _either(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
