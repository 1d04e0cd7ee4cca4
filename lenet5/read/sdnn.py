"""The Space Displacement Neural Network (Sec. VII, Fig. 26 and 27): LeNet-5 swept over the line.

LeNet-5 is convolutional, so a line 32 px high and W px wide gives an output every 4 px (the
stride of S2 and S4 together): at each column, the probabilities of the ten digits and of
"between" (no digit centred under this window). The line is cut by nobody; reading it is a
search through the alternation between / digit / between (Sec. VII-A's grammar, Fig. 27) for
the likeliest digit string, each string scored by all its paths as in training (Sec. VI-E),
and the string's best path (Viterbi) says where its digits stand:

    line at digit scale -> 32 px band along the baseline -> LeNet-5 at every 4 px
        -> per column log P(0..9, between) -> likeliest string, its best path -> "92312"

It is trained on whole strips, labelled only with their digit strings, by maximizing the
probability of all the paths that spell the string: the forward algorithm of Sec. VI-E
(discriminative forward training) over this graph, which is what CTC computes. Reading the
outputs is decode.py's; training, train_sdnn.py's.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
from scipy import ndimage

from lenet5.architectures import sweep
from lenet5.data import feed
from lenet5.layers import Conv
from lenet5.model import LeNet, ModelConfig, activation, initialize
from lenet5.read.classes import CLASSES
from lenet5.read.decode import joined, read_columns
from lenet5.read.line import DIGIT_HEIGHT, INK, MAX_SLOPE, Found, Line, baseline

HEIGHT = 32  # the network's input height: a digit's 20 px and 6 px of paper above and below, as LeNet-5's input
STRIDE = 4  # px between neighbouring outputs (two 2x2 subsamplings)
PAD = 16  # px of paper left and right, so that windows are centred on the line's ends too
SHORT = 2.5 * DIGIT_HEIGHT  # lines narrower than this are not straightened: one or two digits tell no slope
FOLLOW = 10.0  # px, half a digit's height: the band follows digits written above or below the line's baseline (no rule
# to keep to), the columns' centres of mass about it smoothed by a Gaussian this wide (`band`) ...
STRAYING = 2.0  # px: ... beyond this either way (the readers' training strips move each digit up to 2 px at MNIST's scale)


PAPER_MAPS = (6, 16, 120, 84)  # C1, C3, C5, F6 as in Fig. 2


# Deviation: init U(+-2.4/sqrt F_in). With the literal 2.4/F_in the swept network never left
# "between everywhere" (held-out strips read exactly: 0.0% after 4 passes of 20,000 strips;
# 65.2% after 6 passes with this init, the paper's maps).
# Deviation: a softmax over the ten digits and "between" instead of the RBF bitmaps: Fig. 3 has
# no bitmap for "no digit here", and the paths' probabilities need one.
SDNN_CONFIG = ModelConfig(head="softmax", loss="cross-entropy", init="paper-sqrt")


# The most a reader's file may ask for (a damaged one is refused before anything is built):
MOST_CONTEXT = 16  # outputs to either side: 64 px each way, over three digits' widths
MOST_MAPS = 1024  # maps a layer: four times the shipped SDNN's widest (C5's 256)
DEPTHS = (1, 2)  # convolutions in each of C1, C3, C5: the paper's one 5x5, or two 3x3 (`Stacked`)
MOST_REFINE = 4  # residual blocks after C3 (`Refine`)


def _whole(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and low <= value <= high


def check_context(context: object) -> int:
    """`context` if it is a whole number of outputs from 0 to MOST_CONTEXT; ValueError otherwise."""
    if not _whole(context, 0, MOST_CONTEXT):
        raise ValueError(f"context must be a whole number of outputs from 0 to {MOST_CONTEXT}, not {context!r}")
    return int(context)


def check_maps(maps: object) -> tuple[int, int, int, int]:
    """`maps` (C1, C3, C5, F6) if they are four whole numbers from 1 to MOST_MAPS; ValueError otherwise."""
    if not isinstance(maps, (tuple, list)) or len(maps) != 4 or not all(_whole(m, 1, MOST_MAPS) for m in maps):
        raise ValueError(f"maps must be four whole numbers (C1, C3, C5, F6) from 1 to {MOST_MAPS}, not {str(maps)[:80]}")
    return tuple(int(m) for m in maps)


def check_refine(refine: object) -> int:
    """`refine` if it is a whole number of blocks from 0 to MOST_REFINE; ValueError otherwise."""
    if not _whole(refine, 0, MOST_REFINE):
        raise ValueError(f"refine must be a whole number of blocks from 0 to {MOST_REFINE}, not {repr(refine)[:80]}")
    return int(refine)


def check_depth(depth: object) -> int:
    """`depth` if it is one of DEPTHS; ValueError otherwise."""
    if not any(_whole(depth, d, d) for d in DEPTHS):
        raise ValueError(f"depth must be {' or '.join(map(str, DEPTHS))} convolutions a layer, not {repr(depth)[:80]}")
    return int(depth)


# Deviation (option, on in both of the shipped committee's SDNNs): depth 2 sees each 5x5 window of C1, C3 and C5 through two
# 3x3 convolutions, a deeper network than Fig. 2's (the figures: docs/reading.md, "Two 3x3 convolutions").
class Stacked(torch.nn.Sequential):
    """A 5x5 convolution's window seen by two valid 3x3 convolutions, a scaled tanh between them: the
    same inputs and output size as the Conv it replaces, twice the layers, and a middle of
    (in + out) // 2 maps (C1: 1 -> 16 -> 32, C3: 32 -> 48 -> 64, C5: 64 -> 160 -> 256 in the
    shipped maps; the middle's maps are fully connected, so Table I's wiring goes).
    (B, in, H, W) -> first (B, middle, H - 2, W - 2) -> second (B, out, H - 4, W - 4)."""

    def __init__(self, in_maps: int, out_maps: int):
        middle = (in_maps + out_maps) // 2
        super().__init__(OrderedDict(first=Conv(in_maps, middle, kernel=3),
                                     first_f=activation(SDNN_CONFIG.activation, 1),
                                     second=Conv(middle, out_maps, kernel=3)))


# Deviation (option, off in the shipped SDNNs): residual blocks after C3 make the network deeper where
# neighbouring digits' strokes meet; each widens every output's window by 4 px on either side (the figures:
# docs/reading.md, "Refine blocks: the shipped members grown deeper").
class Refine(torch.nn.Module):
    """C3's squashed maps refined: x + second(f(first(x))), `first` and `second` 3x3 convolutions from C3's
    maps to C3's maps, each over its input with the top and bottom rows repeated (the band's height stays) and
    valid along the line: each block reads 2 of C3's columns, 4 px, past either end, so the result is 4
    columns narrower and x is cut to it. SDNN.widened puts that much paper around the band first (as for a
    context), so the number of outputs stays and a band reads the same alone as batched beside wider ones.
    `second` starts at zero, so a new block passes C3's maps on unchanged: a trained SDNN grown by one
    (`grown`) reads as it did and trains on from there. (B, C3, H, W) -> (B, C3, H, W - 4)."""

    def __init__(self, maps: int):
        super().__init__()
        self.first, self.first_f = Conv(maps, maps, kernel=3), activation(SDNN_CONFIG.activation, 1)
        self.second = Conv(maps, maps, kernel=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = lambda y: torch.cat([y[..., :1, :], y, y[..., -1:, :]], dim=-2)  # noqa: E731 (cat, not pad: deterministic on CUDA)
        return x[..., 2:-2] + self.second(rows(self.first_f(self.first(rows(x)))))


class Refined(torch.nn.Sequential):
    """`refine` Refine blocks one after another (the SDNN's `C3_r`)."""

    def __init__(self, maps: int, refine: int):
        super().__init__(*(Refine(maps) for _ in range(refine)))


# Deviation (option, off in the shipped SDNNs): a context widens F6's window past Fig. 2's 32 px (the figures:
# docs/reading.md, "Windows that see the neighbours").
class Context(Conv):
    """F6 reading C5's columns `context` outputs to either side as well as its own: a valid (1, 2 context
    + 1) convolution, so each output's window widens by STRIDE * context px on each side. SDNN.widened
    puts that much paper around the band first, so the number of outputs stays and a band's outputs are
    the same alone as batched beside wider ones (their padding is paper too)."""

    def __init__(self, in_maps: int, out_maps: int, context: int):
        super().__init__(in_maps, out_maps, kernel=1)
        self.context, self.kernel = context, (1, 2 * context + 1)
        self.weight = torch.nn.Parameter(torch.zeros(out_maps, in_maps, 1, 2 * context + 1))  # drawn by initialize

    def fan_in(self) -> torch.Tensor:
        return self.mask.sum(dim=(1, 2, 3)) * self.weight.shape[-1]

    def affine(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(x, weight, bias)


class SDNN(LeNet):
    """LeNet-5's layers (Fig. 2: C1, S2, C3, S4, C5, F6, scaled tanh) with `maps` = the number of
    maps of C1, C3, C5 and F6, and a softmax over 10 digits + between. With the paper's maps C3 is
    wired by Table I; wider ones connect C3 to every S2 map. `context` > 0: F6 also reads C5's
    outputs that many strides to either side (`Context`; 0, the paper's: its own window alone).
    `depth` 2: each of C1, C3 and C5 is two 3x3 convolutions over its 5x5 window (`Stacked`; 1, the paper's).
    `refine` > 0: that many residual blocks refine C3's squashed maps (`C3_r`, after `C3_f`; 0, the paper's).
    `check_maps`, `check_context`, `check_depth` and `check_refine` refuse others (ValueError).
    (B, 1, 32, W) -> (B, 11, 1, windows(W)).
    The shipped SDNN has more maps than Fig. 2: see SDNNTraining.maps in train_sdnn.py."""

    def __init__(self, maps: tuple[int, int, int, int] = PAPER_MAPS, seed: int = 0, context: int = 0, depth: int = 1,
                 refine: int = 0):
        self.maps, self.context, self.depth = check_maps(maps), check_context(context), check_depth(depth)
        self.refine = check_refine(refine)
        super().__init__(SDNN_CONFIG, seed, classes=CLASSES, architecture=sweep(self.maps))
        if self.context:
            self.F6 = Context(self.maps[2], self.maps[3], self.context)
        if self.depth == 2:  # in place: the layers keep their names and order
            self.C1, self.C3, self.C5 = (Stacked(i, o) for i, o in zip((1, *self.maps[:2]), self.maps[:3]))
        if self.refine:  # after C3_f, before S4
            layers = list(self._modules.items())
            at = [name for name, _ in layers].index("C3_f") + 1
            self._modules.clear()
            self._modules.update([*layers[:at], ("C3_r", Refined(self.maps[1], self.refine)), *layers[at:]])
        if self.context or self.depth != 1 or self.refine:  # drawn again, as the layers now are
            initialize(self, torch.Generator().manual_seed(seed))
            for block in getattr(self, "C3_r", ()):
                torch.nn.init.zeros_(block.second.weight), torch.nn.init.zeros_(block.second.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 32, W) -> (B, 11, 1, windows(W)), one column of outputs even for a 32 px band."""
        return torch.nn.Sequential.forward(self, self.widened(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """F6's output (B, F6 maps, 1, windows(W)): what the output layer reads."""
        return super().features(self.widened(x))

    def widened(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs (B, 1, 32, W) -> (B, 1, 32, W + 2 STRIDE (context + refine)): paper on both sides, as far
        as F6's context and the refine blocks read past each end (x itself without either)."""
        margin = STRIDE * (self.context + self.refine)
        return torch.nn.functional.pad(x, (margin, margin), value=feed.BACKGROUND) if margin else x


def grown(sdnn: SDNN, refine: int, seed: int = 0) -> SDNN:
    """A copy of `sdnn` with `refine` Refine blocks, its own first: those it lacks are added after them,
    drawn from `seed`, and start as no change at all (their second convolution at zero), so the copy reads
    as `sdnn` does until it trains: within rounding, as the paper `widened` puts around a band for the new
    blocks may change a 3x3 convolution's algorithm (depth 2: up to about 4e-6 in a log-probability).
    ValueError for fewer blocks than it has."""
    refine = check_refine(refine)
    if refine < sdnn.refine:
        raise ValueError(f"it has {sdnn.refine} refine blocks: a network grows, it does not shrink to {refine}")
    copy = SDNN(sdnn.maps, seed, sdnn.context, sdnn.depth, refine)
    missing, unexpected = copy.load_state_dict(sdnn.state_dict(), strict=False)
    assert not unexpected and all(name.startswith("C3_r.") for name in missing), (missing, unexpected)
    return copy.train(sdnn.training)


def band(line: Line) -> np.ndarray:
    """The 32 px band along the line's baseline: (32, W') float32 ink, W' = PAD + W + PAD
    rounded up so that a whole number of windows fits. Each column is shifted so that the ink's
    centre of mass, fitted by a straight line over the whole line and followed where the digits stray
    from it (`_straying`), sits in the band's middle; ink further than 16 px from that is left out."""
    ink = line.ink
    h, w = ink.shape
    width = PAD + w + PAD
    width += (-(width - HEIGHT)) % STRIDE
    padded = np.zeros((HEIGHT, width), dtype=np.float32)
    if ink.sum(dtype=np.float64) <= 0:  # nothing to centre on: a blank band, read as no digits
        return padded
    slope, mean_x, mean_y = baseline(ink)
    slope = float(np.clip(slope, -MAX_SLOPE, MAX_SLOPE)) if w >= SHORT else 0.0
    x = np.arange(w, dtype=np.float64)
    straight = mean_y + slope * (x - mean_x)
    top = np.round(straight + _straying(ink, straight) - (HEIGHT - 1) / 2).astype(np.int64)  # (W,) work row at band row 0
    source = top[None, :] + np.arange(HEIGHT)[:, None]
    inside = (source >= 0) & (source < h)
    padded[:, PAD: PAD + w] = np.where(inside, ink[source.clip(0, h - 1), np.arange(w)[None, :]], 0.0)
    return padded


def _straying(ink: np.ndarray, straight: np.ndarray) -> np.ndarray:
    """How far the digits of ink (H, W) lie below (positive) or above the straight line through their
    centres of mass, `straight` (W,), in each column, as far as it is beyond STRAYING: the columns'
    centres of mass about it, each weighed by its ink and smoothed by a Gaussian FOLLOW px wide (0 far
    from any ink). Held-out amounts whose digits stray up to 5 px (`composed_amounts.py --held-out
    wobbly`, 300) read 91.0% with the straight line alone, 94.3% so; plain, touching, sized, long and
    slanted ones read as before (docs/reading.md, "Slanted and wobbly writing")."""
    h = ink.shape[0]
    mass = ink.sum(axis=0, dtype=np.float64)
    centres = (ink * np.arange(h, dtype=np.float64)[:, None]).sum(axis=0) / np.maximum(mass, 1e-9)
    near = ndimage.gaussian_filter1d(mass, FOLLOW, mode="constant")
    off = ndimage.gaussian_filter1d(mass * (centres - straight), FOLLOW, mode="constant")
    off = np.where(near > 1e-6, off / np.maximum(near, 1e-9), 0.0)
    return np.sign(off) * np.maximum(np.abs(off) - STRAYING, 0.0)


def windows(width: int) -> int:
    """Outputs of the swept network for a band `width` px wide."""
    return (width - HEIGHT) // STRIDE + 1


def centre_of(t: float) -> float:
    """The line column (work scale) under the centre of output t's window."""
    return t * STRIDE + (HEIGHT - 1) / 2 - PAD


def phases(band: np.ndarray) -> list[np.ndarray]:
    """The band as it is and shifted right by 1, 2, ... STRIDE - 1 px (paper comes in on the left,
    the right margin gives way): outputs fall every 4 px, so each shift sets the windows on other
    columns, and the network reads the line at every pixel offset."""
    return [band] + [np.concatenate([np.zeros((band.shape[0], s), band.dtype), band[:, :-s]], axis=1)
                     for s in range(1, STRIDE)]


def as_batch(bands: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Bands of ink [0, 1] (32, W_i) -> the network's inputs (B, 1, 32, max W) on the paper's
    levels (padding is paper) and each band's number of outputs (B,)."""
    width = max(b.shape[1] for b in bands)
    batch = torch.full((len(bands), 1, HEIGHT, width), feed.BACKGROUND)
    for k, b in enumerate(bands):
        batch[k, 0, :, : b.shape[1]] = torch.from_numpy(b) * (feed.INK - feed.BACKGROUND) + feed.BACKGROUND
    return batch, torch.tensor([windows(b.shape[1]) for b in bands])


def column_log_probs(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Inputs (B, 1, 32, W) -> log-probabilities (T, B, 11), T = windows(W): CTC's layout."""
    return _log_probs(model(batch))


def _log_probs(scores: torch.Tensor) -> torch.Tensor:
    """Scores (B, 11, 1, T) -> log-probabilities (T, B, 11)."""
    return torch.log_softmax(scores.reshape(scores.shape[0], scores.shape[1], -1), dim=1).permute(2, 0, 1)


def phase_log_probs(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Bands as `as_batch` gives them (B, 1, 32, W) -> log-probabilities (T, M B STRIDE, 11) of every
    network (a committee's M members, else one) reading every band at every pixel offset
    (`phases`): network-major, then band, then offset. What `column_log_probs` gives for the bands'
    phases, bit for bit (tested; with depth 2 within rounding, 1e-5: a 3x3 convolution's algorithm
    may differ with the width), at a third of the time: the phases are shifted copies of one
    band, so C1 is computed once for all four and C3 once for each two (shift and stitch). With a
    context, bit for bit where each band's last STRIDE - 1 columns are paper, as `band` makes them:
    a shifted band loses them, while here the paper that `widened` adds gives way. Refine blocks read each
    phase's own C3 maps, as `forward` does, within rounding under the same condition: they too read past
    a window's end, into the paper that `widened` adds."""
    return _log_probs(torch.cat([_swept(net, batch) if isinstance(net, SDNN) else net(_shifted(batch))
                                 for net in getattr(model, "members", [model])], dim=0))


def _shifted(x: torch.Tensor) -> torch.Tensor:
    """`phases` of network inputs (B, 1, 32, W) -> (B STRIDE, 1, 32, W), band-major."""
    width = x.shape[-1]
    padded = torch.nn.functional.pad(x, (STRIDE - 1, 0), value=feed.BACKGROUND)
    return torch.stack([padded[..., STRIDE - 1 - s: STRIDE - 1 - s + width] for s in range(STRIDE)], dim=1).flatten(0, 1)


def _swept(net: SDNN, x: torch.Tensor) -> torch.Tensor:
    """net(phases of each band of x), (B STRIDE, 11, 1, T), band-major. Phase s reads the band
    shifted right by s px: its C1 maps are columns [3 - s, ...) of C1 over the band with 3 px of
    paper on its left, and its S2 maps come from there in pairs, so phases whose start has the
    same parity share their S2 and C3 maps, one S2 column apart; S4 on, each phase is its own.
    The paper of a context and of refine blocks (`widened`) is put around the band first, as `forward` does."""
    x = net.widened(x)
    width = x.shape[-1]  # W, widened
    a = net.C1_f(net.C1(torch.nn.functional.pad(x, (STRIDE - 1, 0), value=feed.BACKGROUND)))  # (B, C1, 28, W - 1)
    n = (width - 4) // 2  # S2 columns of one phase
    c3 = [net.C3_f(net.C3(net.S2_f(net.S2(a[..., p: p + 2 * n + 2])))) for p in (0, 1)]  # by the start's parity
    starts = [STRIDE - 1 - s for s in range(STRIDE)]
    y = torch.stack([c3[b % 2][..., b // 2: b // 2 + n - 4] for b in starts], dim=1).flatten(0, 1)
    if net.refine:  # each phase's own maps, as forward refines them
        y = net.C3_r(y)
    for layer in (net.S4, net.S4_f, net.C5, net.C5_f, net.F6, net.F6_f, net.output):
        y = layer(y)
    return y


def ink_rows(line: Line, x0: int, x1: int) -> tuple[int, int] | None:
    """The rows [y0, y1) of the line's ink in columns [x0, x1), or None where there is none."""
    rows = np.nonzero((line.ink[:, max(0, x0): max(0, x1)] > INK).any(axis=1))[0]
    return (int(rows[0]), int(rows[-1]) + 1) if len(rows) else None


@torch.no_grad()
def read_line(model: torch.nn.Module, line: Line, others: Sequence[Line] = ()) -> tuple[list[Found], float]:
    """The likeliest string in one line read by an SDNN (or a committee of them, whose first
    member's outputs then place the digits), its digits left to right, boxed where its best path puts
    them: each digit's columns run from halfway to its left neighbour's centre to halfway to its
    right one's (the line's ends for the first and last), narrowed to the ink there; and the
    string's log-probability (over every output, the paper around the line included). `others`:
    the same line at other digit heights, whose readings vote too (`line`'s place the digits; where
    none of them can spell the string, the other line's reading that does, its columns mapped to
    `line`'s)."""
    model.eval()
    lines = [line, *others]
    readings = [phase_log_probs(model, as_batch([band(each)])[0]) for each in lines]
    per_line = readings[0].shape[1]  # every network at every offset
    spikes, log_p = read_columns(joined(readings), offsets=STRIDE, placing=per_line)
    w = line.ink.shape[1]
    centres = []
    for s in spikes:
        at, centre = lines[s.reading // per_line], centre_of((s.t0 + s.t1 - 1) / 2) - s.shift
        if at is not line:  # the same image column, in `line`'s work pixels
            centre = float(line.from_image(*at.to_image(0.0, centre))[1])
        centres.append(min(max(centre, 0.0), w - 1.0))
    edges = [0.0] + [(a + b) / 2 for a, b in zip(centres, centres[1:])] + [float(w)]
    found = []
    for s, a, b in zip(spikes, edges, edges[1:]):
        x0 = min(math.floor(a), w - 1)
        x1 = max(math.ceil(b), x0 + 1)
        columns = np.nonzero((line.ink[:, x0:x1] > INK).any(axis=0))[0]
        if len(columns):
            x0, x1 = x0 + int(columns[0]), x0 + int(columns[-1]) + 1
        y0, y1 = ink_rows(line, x0, x1) or (0, line.ink.shape[0])
        found.append(Found(s.digit, x0, x1, y0, y1, s.p))
    return found, log_p
