"""Deterministic media for the engine: an H.264/AAC MP4, a JPEG thumbnail and a JPEG spritesheet.

What a render shows depends only on its `RenderSpec` (prompt, size, seconds, a remix's source, an
optional reference image, and the video an edit or an extension starts from), never on a job id, the
clock or the model, so the same request renders the same frames and identical requests can share
one render on disk. An edit is its base video's frames with the new prompt laid over them; an
extension is its base video's frames followed by a new segment that carries on its motion.

A drawn segment is one second of pictures that loops: its shapes make whole cycles each second. That
second is encoded once, opening on an IDR frame, and its packets are written again with the timestamps
of each further second: every second of the MP4 is a complete, decodable group of pictures, and a clip
costs the encoder its first second rather than all of them.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

# Bump when the pictures or sound change, so renders cached on disk are not reused.
RENDERER_VERSION = 5

FPS = 24
# The pictures a drawn segment repeats: one second.
LOOP_FRAMES = FPS
# Mono: a chord needs no more, and the AAC encoder, a third of a render's CPU in stereo, half of that.
AUDIO_RATE = 48_000
AUDIO_FRAME = 1024
SPRITE_COLUMNS = 4
SPRITE_ROWS = 4
# ultrafast: half the CPU of veryfast, files twice as large. zerolatency drops the lookahead and the
# B-frames, and one thread per render suits a pool of renderers sharing the cores: a fifth less CPU.
# forced-idr: the picture that opens a loop is an IDR frame, so that no later picture refers past it.
X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "crf": "26", "threads": "1", "forced-idr": "1"}
# FFmpeg's AAC encoder at its fast coder, without the noise and stereo tools a chord has no use for:
# a third less CPU than its defaults.
AAC_OPTIONS = {"aac_coder": "fast", "aac_pns": "0", "aac_tns": "0", "aac_is": "0", "aac_ms": "0"}

VIDEO_FILE = "video.mp4"
THUMBNAIL_FILE = "thumbnail.jpg"
SPRITESHEET_FILE = "spritesheet.jpg"
ASSET_FILES = (VIDEO_FILE, THUMBNAIL_FILE, SPRITESHEET_FILE)

U8Array = npt.NDArray[np.uint8]
PENTATONIC = (0, 2, 4, 7, 9)


@dataclass(frozen=True)
class RenderSpec:
    """Everything that determines a render."""

    prompt: str
    width: int
    height: int
    seconds: int
    source: RenderSpec | None = None
    reference_path: str | None = None
    reference_digest: str | None = None
    # An edit or an extension: the MP4 it starts from, what identifies it, and its whole seconds.
    mode: Literal["generate", "edit", "extension"] = "generate"
    base_path: str | None = None
    base_digest: str | None = None
    base_seconds: int = 0
    # The characters a create names: each one's video (its first picture is inset) and its digest.
    characters: tuple[tuple[str, str], ...] = ()

    @property
    def total_seconds(self) -> int:
        """The clip's length: an extension's base and its new segment; an edit keeps its base's."""
        return self.base_seconds + self.seconds if self.mode == "extension" else self.seconds

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self._identity(), sort_keys=True).encode()).hexdigest()[:32]

    def _identity(self) -> dict[str, Any]:
        return {
            "v": RENDERER_VERSION,
            "prompt": self.prompt,
            "size": [self.width, self.height],
            "seconds": self.seconds,
            "source": self.source.key() if self.source else None,
            "reference": self.reference_digest,
            "mode": self.mode,
            "base": self.base_digest,
            "characters": [digest for _, digest in self.characters],
        }

    @property
    def motion_seed(self) -> bytes:
        """The seed of the moving shapes: a remix keeps its source's motion."""
        root = self
        while root.source is not None:
            root = root.source
        return _digest("motion", root.base_digest or root.prompt)


@dataclass(frozen=True)
class RenderResult:
    directory: Path
    sizes: dict[str, int]


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _palette(spec: RenderSpec) -> list[tuple[int, int, int]]:
    """Six colours seeded by the prompt; a remix blends them with its source's."""
    seed = _digest("palette", spec.prompt)
    own = [_hsv_colour(seed[i] / 255, 0.55 + seed[i + 6] / 600, 0.45 + seed[i + 12] / 600) for i in range(6)]
    if spec.source is None:
        return own
    return [_blend(parent, colour) for parent, colour in zip(_palette(spec.source), own, strict=True)]


def _blend(parent: tuple[int, int, int], own: tuple[int, int, int]) -> tuple[int, int, int]:
    """Two parts the source's colour, one part the remix's own."""
    r, g, b = ((p * 2 + o) // 3 for p, o in zip(parent, own, strict=True))
    return r, g, b


def _hsv_colour(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return round(r * 255), round(g * 255), round(b * 255)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _backdrop(spec: RenderSpec, palette: list[tuple[int, int, int]]) -> Image.Image:
    """The still part of every frame: gradient (or the reference image), the prompt and a caption."""
    w, h = spec.width, spec.height
    if spec.reference_path is not None:
        with Image.open(spec.reference_path) as reference:
            image = _cover(reference.convert("RGB"), w, h)
    else:
        top, bottom = np.array(palette[0], np.float32), np.array(palette[1], np.float32)
        ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        rows = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
        image = Image.fromarray(np.repeat(rows[:, None, :], w, axis=1), "RGB")
    draw = ImageDraw.Draw(image)
    text_size = max(18, min(w, h) // 14)
    font = _font(text_size)
    lines = textwrap.wrap(spec.prompt, width=max(12, int(w / (text_size * 0.55)))) or [" "]
    lines = lines[: max(1, (h // 2) // int(text_size * 1.3))]
    line_height = int(text_size * 1.3)
    y = (h - line_height * len(lines)) // 2
    for line in lines:
        draw.text(
            (w // 2, y),
            line,
            font=font,
            fill=(255, 255, 255),
            anchor="ma",
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )
        y += line_height
    _inset_characters(image, spec)
    caption = _font(max(12, text_size // 2))
    label = f"{w}x{h} · {spec.seconds}s"
    if spec.source is not None:
        label = f"remix of “{spec.source.prompt[:40]}” · " + label
    draw.text(
        (w // 2, h // 16),
        label,
        font=caption,
        fill=(255, 255, 255),
        anchor="ma",
        stroke_width=1,
        stroke_fill=(0, 0, 0),
    )
    return image


def _inset_characters(image: Image.Image, spec: RenderSpec) -> None:
    """Each named character's first picture, a quarter of the frame wide, along the lower edge."""
    w, h = spec.width, spec.height
    inset_w, inset_h = w // 4, h // 4
    for n, (path, _) in enumerate(spec.characters):
        with av.open(path) as container:
            picture = next(container.decode(video=0)).to_image()  # type: ignore[no-untyped-call]
        x = w - (n + 1) * (inset_w + w // 40)
        image.paste(_cover(picture.convert("RGB"), inset_w, inset_h), (x, h - inset_h - h // 12))


def _cover(image: Image.Image, w: int, h: int) -> Image.Image:
    scale = max(w / image.width, h / image.height)
    resized = image.resize((max(w, math.ceil(image.width * scale)), max(h, math.ceil(image.height * scale))))
    left, top = (resized.width - w) // 2, (resized.height - h) // 2
    return resized.crop((left, top, left + w, top + h))


def _to_yuv420(image: Image.Image) -> U8Array:
    frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
    return np.ascontiguousarray(frame.to_ndarray())


@dataclass
class _Sprite:
    """A disc drawn straight into the Y, U and V planes of a frame."""

    y: U8Array
    u: U8Array
    v: U8Array
    mask: npt.NDArray[np.bool_]
    chroma_mask: npt.NDArray[np.bool_]
    # Turns each loop along each axis, and where in its turn the loop starts (a fraction of one).
    fx: float
    fy: float
    phase_x: float
    phase_y: float
    # Where its path is centred, as a fraction of the room the frame leaves it on each axis.
    centre_x: float
    centre_y: float

    @property
    def size(self) -> int:
        return int(self.y.shape[0])


def _sprites(spec: RenderSpec, palette: list[tuple[int, int, int]]) -> list[_Sprite]:
    seed = spec.motion_seed
    # A multiple of 4: the disc's chroma planes (half its size) are packed as whole rows of its width.
    diameter = (min(spec.width, spec.height) // 5) & ~3
    sprites = []
    for i in range(4):
        disc = Image.new("RGB", (diameter, diameter), palette[2 + i])
        yuv = _to_yuv420(disc)
        ys = np.arange(diameter) - (diameter - 1) / 2
        mask = (ys[:, None] ** 2 + ys[None, :] ** 2) <= (diameter / 2) ** 2
        half = diameter // 2
        sprites.append(
            _Sprite(
                y=yuv[:diameter],
                u=yuv[diameter : diameter + half // 2].reshape(half, half),
                v=yuv[diameter + half // 2 :].reshape(half, half),
                mask=mask,
                chroma_mask=mask[::2, ::2],
                # Whole cycles per loop, so that the loop repeats seamlessly.
                fx=1,
                fy=1 + seed[i + 4] % 2,
                phase_x=seed[i + 8] / 255,
                phase_y=seed[i + 12] / 255,
                centre_x=0.25 + seed[i + 16] / 255 / 2,
                centre_y=0.25 + seed[i + 20] / 255 / 2,
            )
        )
    return sprites


class _FrameDrawer:
    """Paints picture i of a drawn segment's loop from the precomputed backdrop and sprites: each
    sprite circles its own centre, and a bar along the lower edge fills once a loop."""

    def __init__(self, spec: RenderSpec, backdrop: U8Array, sprites: list[_Sprite]) -> None:
        self.w, self.h = spec.width, spec.height
        self.backdrop = backdrop
        self.sprites = sprites
        self.buffer = np.empty_like(backdrop)
        chroma = self.h * self.w // 4
        flat = self.buffer.reshape(-1)
        self.y = flat[: self.h * self.w].reshape(self.h, self.w)
        self.u = flat[self.h * self.w : self.h * self.w + chroma].reshape(self.h // 2, self.w // 2)
        self.v = flat[self.h * self.w + chroma :].reshape(self.h // 2, self.w // 2)

    def draw(self, index: int) -> U8Array:
        np.copyto(self.buffer, self.backdrop)
        t = index / LOOP_FRAMES
        for sprite in self.sprites:
            x = _along(sprite.centre_x, sprite.fx * t + sprite.phase_x, self.w - sprite.size)
            y = _along(sprite.centre_y, sprite.fy * t + sprite.phase_y, self.h - sprite.size)
            s, c = sprite.size, sprite.size // 2
            np.copyto(self.y[y : y + s, x : x + s], sprite.y, where=sprite.mask)
            np.copyto(self.u[y // 2 : y // 2 + c, x // 2 : x // 2 + c], sprite.u, where=sprite.chroma_mask)
            np.copyto(self.v[y // 2 : y // 2 + c, x // 2 : x // 2 + c], sprite.v, where=sprite.chroma_mask)
        bar = max(4, self.h // 120) & ~1
        self.y[self.h - bar :, : int(self.w * (index + 1) / LOOP_FRAMES)] = 235
        return self.buffer


def _along(centre: float, turns: float, span: int) -> int:
    """An even coordinate up to 15% of `span` either side of `centre` (a fraction of it), `turns` round:
    a wider path moves faster, and costs the encoder more bits a picture."""
    return int((centre + 0.15 * math.sin(2 * math.pi * turns)) * span) & ~1


def _soundtrack(spec: RenderSpec) -> npt.NDArray[np.float32]:
    """A soft three-note chord seeded by the prompt (a remix keeps its source's root)."""
    root_seed = spec.motion_seed
    own = _digest("chord", spec.prompt)
    root = 48 + root_seed[0] % 12
    notes = [root + PENTATONIC[own[i] % 5] + 12 * (i % 2) for i in range(3)]
    samples = spec.total_seconds * AUDIO_RATE
    t = np.arange(samples, dtype=np.float32) / AUDIO_RATE
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * t * (1 + own[4] % 3) / spec.total_seconds)
    wave = sum(np.sin(2 * np.pi * 440.0 * 2 ** ((n - 69) / 12) * t) for n in notes)
    return (0.12 * envelope * wave).astype(np.float32)[None, :]


def _tile(frame: av.VideoFrame, w: int, h: int) -> Image.Image:
    """A frame scaled to a spritesheet tile by the scaler, from its planes (no full-size picture)."""
    tile = frame.reformat(width=w // SPRITE_COLUMNS, height=h // SPRITE_ROWS, format="rgb24")
    picture: Image.Image = tile.to_image()  # type: ignore[no-untyped-call]
    return picture


def _spritesheet(tiles: list[Image.Image], w: int, h: int) -> Image.Image:
    tile_w, tile_h = w // SPRITE_COLUMNS, h // SPRITE_ROWS
    sheet = Image.new("RGB", (tile_w * SPRITE_COLUMNS, tile_h * SPRITE_ROWS))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % SPRITE_COLUMNS) * tile_w, (i // SPRITE_COLUMNS) * tile_h))
    return sheet


def _base_frames(spec: RenderSpec, count: int) -> Iterator[U8Array]:
    """`count` frames of the base video at FPS, sized to the spec (a shorter base holds its last)."""
    assert spec.base_path is not None
    last: U8Array | None = None
    with av.open(spec.base_path) as container:
        stream = container.streams.video[0]
        decoded = container.decode(stream)
        for index in range(count):
            wanted = index / FPS
            for frame in decoded:
                if frame.time is not None and frame.time + 1e-6 < wanted and last is not None:
                    continue
                picture = frame.reformat(width=spec.width, height=spec.height, format="yuv420p")
                last = np.ascontiguousarray(picture.to_ndarray())
                break
            assert last is not None, "the base video has no frames"
            yield last


def _caption_band(spec: RenderSpec) -> U8Array:
    """The edit's prompt on a dark band across the lower part of the frame, in the planes' layout."""
    w, h = spec.width, spec.height
    band_h = max(32, h // 6) & ~1
    band = Image.new("RGB", (w, band_h), (16, 16, 24))
    draw = ImageDraw.Draw(band)
    size = max(14, band_h // 3)
    draw.text(
        (w // 2, band_h // 2),
        f"edit: {spec.prompt[:80]}",
        font=_font(size),
        fill=(255, 255, 255),
        anchor="mm",
    )
    return _to_yuv420(band)


def _edited(spec: RenderSpec, frames: Iterator[U8Array]) -> Iterator[U8Array]:
    w, h = spec.width, spec.height
    band = _caption_band(spec)
    band_h = band.shape[0] * 2 // 3
    top = (h - band_h - h // 10) & ~1
    chroma = band_h * w // 4
    planes = band[band_h:].reshape(-1)
    band_y, band_u, band_v = band[:band_h].reshape(-1), planes[:chroma], planes[chroma:]
    for frame in frames:
        flat = frame.reshape(-1).copy()
        flat[top * w : (top + band_h) * w] = band_y
        u_start, v_start = h * w + top * w // 4, h * w + h * w // 4 + top * w // 4
        flat[u_start : u_start + chroma] = band_u
        flat[v_start : v_start + chroma] = band_v
        yield flat.reshape(frame.shape)


@dataclass
class _Clip:
    """A clip's pictures: `head` (a base video's, each its own), then `loops` times the one second
    `drawer` paints."""

    head: Iterator[U8Array]
    head_count: int
    drawer: _FrameDrawer | None
    loops: int

    @property
    def total(self) -> int:
        return self.head_count + self.loops * LOOP_FRAMES

    def drawn(self) -> Iterator[U8Array]:
        """The loop's pictures, once."""
        assert self.drawer is not None
        return (self.drawer.draw(index) for index in range(LOOP_FRAMES))

    def encoded_index(self, index: int) -> int:
        """The picture that is encoded and shown as picture `index`: a repeated second's is the first's."""
        return index if index < self.head_count else self.head_count + (index - self.head_count) % LOOP_FRAMES


def _clip(spec: RenderSpec) -> _Clip:
    palette = _palette(spec)
    if spec.mode == "edit":
        total = spec.seconds * FPS
        return _Clip(_edited(spec, _base_frames(spec, total)), total, None, 0)
    drawer = _FrameDrawer(spec, _to_yuv420(_backdrop(spec, palette)), _sprites(spec, palette))
    if spec.mode == "extension":
        base = spec.base_seconds * FPS
        return _Clip(_base_frames(spec, base), base, drawer, spec.seconds)
    return _Clip(iter(()), 0, drawer, spec.seconds)


def _frames(spec: RenderSpec) -> tuple[Iterator[U8Array], int]:
    """Every picture of the clip in order, as the MP4 shows them, and how many there are."""
    clip = _clip(spec)
    if clip.drawer is None:
        return clip.head, clip.total
    loops = itertools.chain.from_iterable(clip.drawn() for _ in range(clip.loops))
    return itertools.chain(clip.head, loops), clip.total


def _plane_filler(frame: av.VideoFrame) -> Callable[[U8Array], None]:
    """Copies a yuv420p picture (the planes one after another, as `_frames` yields them) into
    `frame`'s own planes. One frame serves the whole clip: libx264 copies each picture it is given
    before `encode` returns, and a frame made for each picture cost more than its encoding's tenth."""
    w, h = frame.width, frame.height
    y, u, v = (
        np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:, :width]
        for plane, width in zip(frame.planes, (w, w // 2, w // 2), strict=True)
    )
    chroma = (h // 2, w // 2)

    def fill(pixels: U8Array) -> None:
        flat = pixels.reshape(-1)
        np.copyto(y, flat[: w * h].reshape(h, w))
        np.copyto(u, flat[w * h : w * h * 5 // 4].reshape(chroma))
        np.copyto(v, flat[w * h * 5 // 4 :].reshape(chroma))

    return fill


def _encode(spec: RenderSpec, target: Path) -> tuple[Image.Image, list[Image.Image]]:
    """Writes the MP4 and returns the thumbnail frame and the spritesheet tiles."""
    clip = _clip(spec)
    total = clip.total
    tiles = SPRITE_COLUMNS * SPRITE_ROWS
    sheet_indices = [clip.encoded_index((i * total) // tiles + total // (2 * tiles)) for i in range(tiles)]
    thumbnail_index = clip.encoded_index(total // 2)
    pictures: dict[int, Image.Image] = {}
    thumbnail: Image.Image | None = None

    with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=FPS, options=X264_OPTIONS)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.time_base = Fraction(1, FPS)
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono", options=AAC_OPTIONS)
        frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
        fill = _plane_filler(frame)
        encoded = clip.head if clip.drawer is None else itertools.chain(clip.head, clip.drawn())
        loop_packets: list[av.Packet[Any]] = []
        for index, pixels in enumerate(encoded):
            fill(pixels)
            frame.pts = index
            # The loop opens on an IDR frame: its packets can then follow any second's.
            frame.pict_type = (
                av.video.frame.PictureType.I if index == clip.head_count else av.video.frame.PictureType.NONE
            )
            if index in sheet_indices:
                pictures[index] = _tile(frame, spec.width, spec.height)
            if index == thumbnail_index:
                thumbnail = frame.to_image()  # type: ignore[no-untyped-call]
            packets = video.encode(frame)
            if index >= clip.head_count:
                loop_packets += packets
            else:
                container.mux(packets)
        flushed = video.encode(None)
        if clip.loops:
            loop_packets += flushed
        else:
            container.mux(flushed)
        for second in range(clip.loops):
            container.mux([_shifted(packet, second) for packet in loop_packets])
        sound = _soundtrack(spec)
        for start in range(0, sound.shape[1], AUDIO_FRAME):
            chunk = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(sound[:, start : start + AUDIO_FRAME]), format="fltp", layout="mono"
            )
            chunk.sample_rate = AUDIO_RATE
            chunk.pts = start
            container.mux(audio.encode(chunk))
        container.mux(audio.encode(None))
    assert thumbnail is not None
    return thumbnail, [pictures[index] for index in sheet_indices]


def _shifted(packet: av.Packet[Any], seconds: int) -> av.Packet[Any]:
    """A copy of an encoded picture, shown `seconds` later (muxing takes the packet's data)."""
    assert packet.pts is not None
    assert packet.dts is not None
    assert packet.time_base is not None
    later = int(seconds / packet.time_base)
    copy = av.Packet(bytes(packet))
    copy.stream = packet.stream
    copy.time_base = packet.time_base
    copy.pts, copy.dts = packet.pts + later, packet.dts + later
    copy.duration = packet.duration
    copy.is_keyframe = packet.is_keyframe
    return copy


def render(spec: RenderSpec, cache_dir: Path) -> RenderResult:
    """Renders `spec` into `cache_dir/<key>/` unless it is already there; safe across processes."""
    directory = cache_dir / spec.key()
    if not all((directory / name).is_file() for name in ASSET_FILES):
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.key()}-", dir=cache_dir))
        try:
            thumbnail, frames = _encode(spec, staging / VIDEO_FILE)
            thumbnail.save(staging / THUMBNAIL_FILE, "JPEG", quality=85)
            buffer = io.BytesIO()
            _spritesheet(frames, spec.width, spec.height).save(buffer, "JPEG", quality=80)
            (staging / SPRITESHEET_FILE).write_bytes(buffer.getvalue())
            try:
                staging.rename(directory)
            except OSError:
                # Another process finished the same render first; its files are identical.
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return RenderResult(directory, {name: (directory / name).stat().st_size for name in ASSET_FILES})
