"""A person's image of a digit -> a 28x28 MNIST-style digit (then the model's 32x32 input).

MNIST was built this way (LeCun et al., Sec. III-A): the digit's bounding box is fitted into
20x20 keeping the aspect ratio (anti-aliased, so grey levels appear), then centred by centre of
mass in a 28x28 field. We add what a photo needs first: grey, polarity (MNIST is light ink on
black), background removal and contrast stretching.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from lenet5.background import NOISE_FLOOR, above_paper, stroke_level
from lenet5.circles import without_circles
from lenet5.errors import Lenet5Error
from lenet5.neighbours import without_neighbours
from lenet5.page import on_the_page
from lenet5.ruling import without_lines
from lenet5.shadow import paper_is_light
from lenet5.specks import without_specks
from lenet5.strokes import WORK, normalize_width, unblock

MAX_PIXELS = 40_000_000  # larger images are refused as possible decompression bombs
BOX, FIELD = 20, 28
INK_THRESHOLD = 0.25  # fraction of full ink above which a pixel counts for the bounding box


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as grey float32 in [0, 1] (H, W); STDIN ("-") is the picture on standard
    input. Raises Lenet5Error for files that are empty, not images, truncated, or too large to be
    a digit (decompression bombs)."""
    if str(path) == STDIN:
        return decode_image(stdin_bytes(), STDIN)
    path = _image_file(path)
    return _decode(path, str(path))


STDIN = "-"  # the path that names standard input: `lenet5 read - < amount.png`
MAX_STDIN_BYTES = 256 * 2**20


def stdin_bytes() -> bytes:
    """Standard input's bytes, read once (`stdin_read`: a command may look at its picture twice,
    `--show`, or be given "-" twice); a Lenet5Error where it is closed, a terminal (nothing piped in:
    reading would wait for ever), unreadable, or holds more than MAX_STDIN_BYTES, each time asked."""
    data, error = stdin_read()
    if error:
        raise Lenet5Error(f"{STDIN}: {error}")
    return data


@functools.cache
def stdin_read() -> tuple[bytes, str]:
    """(standard input's bytes, "") or (b"", why it cannot be read), once for the process."""
    stream = sys.stdin
    if stream is None or getattr(stream, "closed", False):
        return b"", "standard input is closed; pipe a picture into it"
    try:
        if stream.isatty():
            return b"", f"standard input is a terminal; pipe a picture into it (lenet5 read {STDIN} < amount.png)"
        data = getattr(stream, "buffer", stream).read(MAX_STDIN_BYTES + 1)
    except (OSError, ValueError) as e:
        return b"", f"cannot read standard input ({e})"
    if isinstance(data, str):  # a text stream put in its place: no picture, but say so as for any file
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_STDIN_BYTES:
        return b"", f"more than {MAX_STDIN_BYTES // 2**20} MiB on standard input, too large for a picture of digits"
    return data, ""


def image_size(path: str | os.PathLike, name: str | None = None) -> tuple[int, int]:
    """The image file's (width, height) from its header alone, no pixel decoded; a Lenet5Error for
    what `load_image` refuses before decoding (no such file, empty, not an image, too large), so
    that many files can be checked before any is read. Errors name `name` (default: the path)."""
    path = _image_file(path)
    with _opened(path, name or str(path)) as image:
        return image.size


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """`load_image` for an image held in memory (an upload): decoded from the bytes, nothing
    written to disk; errors name `name`."""
    if not data:
        raise Lenet5Error(f"{name}: empty file")
    return _decode(io.BytesIO(data), name)


def _image_file(path: str | os.PathLike) -> Path:
    """The path, if it names a non-empty regular file; else a Lenet5Error saying what it names."""
    path = Path(path)
    if not path.exists():
        raise Lenet5Error(f"{path}: no such file")
    if path.is_dir():
        raise Lenet5Error(f"{path}: a folder, not an image file")
    if not path.is_file():
        raise Lenet5Error(f"{path}: not a regular file (a device, pipe or socket), not an image file")
    if path.stat().st_size == 0:
        raise Lenet5Error(f"{path}: empty file")
    return path


@contextlib.contextmanager
def _opened(source: Path | io.BytesIO, name: str) -> Iterator[Image.Image]:
    """The image opened (header read, pixels not yet), refused if too large; PIL's errors in the
    block, decoding included, become one-line Lenet5Errors naming `name`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # PIL's notes on damaged files: the result, or an error, says it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Lenet5Error(f"{name}: {image.width}x{image.height} pixels is too large (limit {MAX_PIXELS:,})")
                yield image
    except Lenet5Error:
        raise
    except UnidentifiedImageError:
        raise Lenet5Error(f"{name}: not an image PIL can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Lenet5Error(f"{name}: refused as a possible decompression bomb") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
        raise Lenet5Error(f"{name}: cannot decode ({e})") from None


def _decode(source: Path | io.BytesIO, name: str) -> np.ndarray:
    """The one decoding path of `load_image` and `decode_image`."""
    with _opened(source, name) as image:
        aspect = pixel_aspect(image)
        if image.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8):  # turned a quarter by exif_transpose
            aspect = 1 / aspect
        return square_pixels(grey_levels(flatten_alpha(ImageOps.exif_transpose(image))), aspect)


SQUARE = 1.05  # pixels whose width and height differ by less than this factor are square
UNEVEN = 8.0  # ... and a file that says they differ by more says nothing believable


def pixel_aspect(image: Image.Image) -> float:
    """How many times as tall as wide the file says its pixels are (as stored, before any EXIF
    turn): a fax is 204 dpi across and 98 down, each pixel 2.08 times as tall as wide; a scanner
    can be set so too. From the resolution the file records (PIL's "dpi"; PNG's "aspect", a TIFF's
    "resolution", a JPEG's "jfif_density" without units); 1 where it records none, nothing
    believable, or pixels square within SQUARE."""
    info = image.info
    for key in ("dpi", "aspect", "resolution") + (("jfif_density",) if info.get("jfif_unit") == 0 else ()):
        try:
            across, down = (float(v) for v in info[key])
        except (KeyError, TypeError, ValueError):
            continue
        if across > 0 and down > 0 and np.isfinite(across / down):
            aspect = across / down
            return aspect if 1 / UNEVEN <= aspect <= UNEVEN and max(aspect, 1 / aspect) >= SQUARE else 1.0
    return 1.0


def square_pixels(grey: np.ndarray, aspect: float) -> np.ndarray:
    """Grey levels (H, W) of pixels `aspect` times as tall as wide -> of square pixels: its rows
    stretched (a fax's 98 dpi down to its 204 across) or squeezed, never its columns, so that a
    digit's columns read (`read --json`'s x0, x1) are the file's; no taller than MAX_PIXELS allows.
    The same array where the pixels are square."""
    if aspect == 1.0:
        return grey
    h, w = grey.shape
    rows = max(1, min(round(h * aspect), MAX_PIXELS // w))
    stretched = Image.fromarray(grey.astype(np.float32), "F").resize((w, rows), Image.Resampling.BILINEAR)
    return np.asarray(stretched, dtype=np.float32).clip(0, 1)


# The full scales wide pictures are stored at: floats in [0, 1], then 8, 10, 12, 14 and 16 bits
STORED = (1.0, 255.0, 1023.0, 4095.0, 16383.0, 65535.0)


def grey_levels(image: Image.Image) -> np.ndarray:
    """A picture's grey levels in [0, 1] (H, W), float32. An 8-bit picture (and any colour one)
    through PIL's "L", which would clip wider ones at 255 (a 16-bit scan read as a blank page).
    16-bit ("I;16..."), 32-bit integer ("I") and float ("F") pictures over the smallest of STORED's
    scales that holds all but their brightest 0.1% (12-bit data in a 16-bit file, a float picture
    with a speck above 1), clipped to it; a level that is no number (NaN, infinite) is the
    picture's median one, its paper's."""
    if image.mode not in ("I", "F") and not image.mode.startswith("I;16"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    levels = np.asarray(image, dtype=np.float64)
    finite = np.isfinite(levels)
    if not finite.all():
        levels = np.where(finite, levels, np.median(levels[finite]) if finite.any() else 0.0)
    levels = levels.clip(0, None)
    top = float(np.percentile(levels, 99.9))
    full = next((f for f in STORED if top <= f), top)
    return (levels / max(full, 1e-12)).clip(0, 1).astype(np.float32)


def flatten_alpha(image: Image.Image) -> Image.Image:
    """Transparent pixels become white paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba)
    return image


@dataclass(frozen=True)
class Inked:
    """A picture's ink (`ink_map`) and the printed marks taken out of it: "lines" where printed lines
    were found and taken out (ruled paper, a form's box, cells or comb, an underline, a dotted line;
    the strokes that cross them are kept), "ring" where a ring around the digits was (drawn by hand,
    or a box the ruling left: `circles.py`)."""

    ink: np.ndarray
    taken_out: tuple[str, ...] = ()


def taken_out_said(marks: tuple[str, ...]) -> str:
    """How a reading's line of text says the printed marks taken out of its picture: ", lines taken out"."""
    return "".join(f", {mark} taken out" for mark in marks)


def ink_map(grey: np.ndarray) -> np.ndarray:
    """Grey [0, 1] -> ink [0, 1] with background exactly 0, as in MNIST. Polarity from the border
    (paper is the majority there, or lies on both sides of a shadow: `paper_is_light`); the paper's
    level is estimated locally (`above_paper`), so uneven lighting and shadows are not read as ink,
    nor bold ink as paper; a page in a darker surround (a scanner's lid, a desk) taken alone
    (`on_the_page`); contrast stretched to the strokes' own level; faint noise dropped; printed
    lines (ruled paper, a form's box, an underline) and a ring drawn around the digits taken out
    (`without_lines`, `without_circles`)."""
    return inked(grey).ink


def inked(grey: np.ndarray) -> Inked:
    """`ink_map`, saying which printed marks it took out."""
    grey = on_the_page(grey)
    light = paper_is_light(grey)
    ink = above_paper(1.0 - grey if light else grey, light)
    peak = stroke_level(ink)
    if peak < 0.1:
        raise Lenet5Error("no ink found (a blank or nearly uniform image)")
    ink = np.clip(ink / peak, 0, 1)
    ink[ink < NOISE_FLOOR] = 0
    lined = without_lines(ink)  # each returns its input itself where it finds nothing to take out
    ringed = without_circles(lined)
    return Inked(ringed, ("lines",) * (lined is not ink) + ("ring",) * (ringed is not lined))


def picture_ink(grey: np.ndarray) -> np.ndarray:
    """A picture as both readers and `predict` take it -> its ink (`ink_map`), pixel repetition undone
    first (`unblock`). Raises Lenet5Error for what is no grey picture: not (H, W), empty, or with a
    value that is not a number (NaN, infinite); no file gives one, an array handed to the library may."""
    return picture_inked(grey).ink


def picture_inked(grey: np.ndarray) -> Inked:
    """`picture_ink`, saying which printed marks it took out (`inked`)."""
    if grey.ndim != 2 or grey.size == 0 or not np.isfinite(grey).all():
        raise Lenet5Error(f"expected a grey picture (H, W) of numbers, got shape {grey.shape}"
                          + ("" if grey.size == 0 or grey.ndim != 2 else " with values that are not numbers (NaN or infinite)"))
    return inked(unblock(grey))


def to_mnist(ink: np.ndarray) -> np.ndarray:
    """Ink [0, 1] (H, W) -> uint8 (28, 28) like an MNIST digit."""
    work = normalize_width(resized(ink_crop(ink), WORK * BOX), WORK * BOX)
    small = np.clip(resized(ink_crop(work), BOX), 0, 1) * 255  # thinning shortens the strokes too: fit the box again
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    total = small.sum()
    ys, xs = np.indices(small.shape)
    cy, cx = (ys * small).sum() / total, (xs * small).sum() / total
    centre = (FIELD - 1) / 2  # 13.5: between the two middle pixels
    top, left = int(round(centre - cy)), int(round(centre - cx))
    top = min(max(top, 0), FIELD - small.shape[0])
    left = min(max(left, 0), FIELD - small.shape[1])
    field[top: top + small.shape[0], left: left + small.shape[1]] = small
    return field.round().astype(np.uint8)


def ink_crop(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the ink above INK_THRESHOLD."""
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    if len(rows) == 0:
        raise Lenet5Error("no ink found")
    return ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]


def resized(ink: np.ndarray, side: int) -> np.ndarray:
    """Ink (H, W) resized so its long side is `side` px, keeping the aspect ratio (float32)."""
    h, w = ink.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS), dtype=np.float32)


def grey_to_digit(grey: np.ndarray) -> torch.Tensor:
    """Grey [0, 1] (H, W), as `load_image` gives -> uint8 tensor (28, 28), MNIST-style. Before the box
    around the ink is fitted, what would widen it is left out: specks and the paper's grain, and a
    neighbour's sliver at the left or right edge (a digit cut out of a number)."""
    return digit_and_marks(grey)[0]


def digit_and_marks(grey: np.ndarray) -> tuple[torch.Tensor, tuple[str, ...]]:
    """`grey_to_digit`, and the printed marks taken out of the picture first (`Inked.taken_out`)."""
    picture = picture_inked(grey)
    ink = without_neighbours(without_specks(picture.ink), INK_THRESHOLD)
    return torch.from_numpy(to_mnist(ink)), picture.taken_out


def image_to_digit(path: str | os.PathLike) -> tuple[torch.Tensor, tuple[str, ...]]:
    """An image file -> uint8 tensor (28, 28), MNIST-style, and the printed marks taken out of it
    (`digit_and_marks`). Raises Lenet5Error naming the file."""
    try:
        return digit_and_marks(load_image(path))
    except Lenet5Error as e:
        message = str(e)
        raise Lenet5Error(message if message.startswith(str(path)) else f"{path}: {message}") from None
