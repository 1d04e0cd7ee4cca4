"""A ring drawn around the digits: a digit circled on a form, a total circled on a bill.

The ring is ink to `ink_map`, and the digit's bounding box then takes it in (a circled 3 read as a
0, 9 digits in 100 right). It is told from the digits by where it lies: a piece of ink apart from
them, that goes round them (rays from their middle meet it in almost every direction: a hand's ring
need not close) and whose box holds theirs with room to spare. A digit's own loop seldom holds other
ink, and never as much as a digit's: what it holds must be no speck. A ring that touches the digits
is one piece with them: it is then the layers along the piece's convex hull that the piece fills
almost all round, as thin as a stroke, and what they leave must touch them only where the ring met
a stroke (`_ring_band`; a bold 8, two joined digits and a 6 fill such layers too, but leave a scrap
of their own stroke lying along them).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from lenet5.page import convex_hull
from lenet5.ruling import within_ink_box
from lenet5.underlines import box_around, not_specks

RAYS = 16  # directions from the digits' middle in which to look for the ring
AROUND = 14  # ... of which the ring meets at least this many (a hand's ring may leave a gap of 45 degrees)
ROOM = 1.2  # the ring's box is at least this many times the digits' box, across and down
SLACK = 0.04  # a ring drawn by hand strays this share of its size inside its hull
OUTERMOST = 3  # the layers (1 px each) along a ring's convex hull of which one it fills almost all round
THIN = 0.1  # a ring is thinner than this share of its size across (two bold digits joined are not)
CONTACT = 0.1  # what a ring touching it holds has at most this share of its ink beside the ring
REACH = 0.5  # what a ring touching it holds reaches across at least this share of it, one way or the other
INSIDE = 0.2  # what the ring holds is at least this share of the ring's ink (not a speck in a 0's loop)


def without_circles(ink: np.ndarray) -> np.ndarray:
    """Ink [0, 1] (H, W) without a ring drawn around the rest of its ink (module docstring); the same
    array, untouched, where there is none."""
    return within_ink_box(ink, _without_circles)


def _without_circles(ink: np.ndarray) -> np.ndarray:
    """`without_circles` on the ink's own box."""
    labels, n = ndimage.label(ink > 0, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel())[1:]
    boxes = ndimage.find_objects(labels)
    pieces = np.nonzero(not_specks(sizes))[0].tolist()
    for ring in pieces:
        held = [k for k in pieces if k != ring]
        if not held or sizes[held].sum() < INSIDE * sizes[ring]:
            continue
        inner = box_around([boxes[k] for k in held])
        if _holds(boxes[ring], inner) and _goes_round(labels == ring + 1, inner):
            out = ink.copy()
            out[labels == ring + 1] = 0
            return out
    for piece in pieces:  # a ring that touches the digits is one piece with them, and its box holds the rest
        box = boxes[piece]
        others = [boxes[k] for k in pieces if k != piece]
        if others and not _holds(box, box_around(others), room=1.0):
            continue
        band = _ring_band(labels[box] == piece + 1)  # on the piece's own box: a line of digits is many pieces
        if band is not None:
            out = ink.copy()
            out[box][band] = 0
            return out
    return ink


def _ring_band(piece: np.ndarray) -> np.ndarray | None:
    """The ring in a piece of ink that holds the digits it touches: the layers along the piece's
    convex hull's edge that the piece fills, one of the OUTERMOST in AROUND / RAYS of it at least (a
    wobbly ring fills one a little further in; a bold 8 fills only deeper ones so), and at least half of each further in up to the ring's
    thickness, which is under THIN of the hull's size; and the hand's wobble beyond it (SLACK of the
    hull's size). Where what that band leaves is no speck, touches it little (CONTACT: where the hand's
    ring met a stroke), has ROOM around it and reaches across REACH of it one way: a 0's own stroke
    leaves nothing, a 6's, an 8's or two joined digits' outer stroke a scrap of its inner one along it,
    and a blot fills its hull too deep to be a ring. None where there is none."""
    found = convex_hull(piece)
    if found is None:
        return None
    hull = found[0]
    depth = np.floor(ndimage.distance_transform_edt(np.pad(hull, 1))[1:-1, 1:-1]).astype(int)  # layer 1: the hull's edge (the image's edge no paper)
    filled = np.bincount(depth[piece], minlength=depth.max() + 1) / np.maximum(np.bincount(depth[hull], minlength=depth.max() + 1), 1)
    rows, cols = np.nonzero(hull)
    size = min(np.ptp(rows), np.ptp(cols)) + 1
    thin = np.nonzero(filled[1:] < 0.5)[0]
    if len(thin) == 0 or thin[0] > THIN * size:
        return None
    slack = SLACK * (max(np.ptp(rows), np.ptp(cols)) + 1)
    if filled[1: 1 + OUTERMOST].max() < AROUND / RAYS:
        return None
    band = piece & (depth <= thin[0] + slack)
    rest = piece & ~band
    if rest.sum() < INSIDE * band.sum() or (ndimage.binary_dilation(band) & rest).sum() > CONTACT * rest.sum():
        return None
    ys, xs = np.nonzero(rest)
    inner = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
    box = (slice(int(rows.min()) - 1, int(rows.max()) + 2), slice(int(cols.min()) - 1, int(cols.max()) + 2))
    reach = max((inner[1] - inner[0]) / (box[0].stop - box[0].start), (inner[3] - inner[2]) / (box[1].stop - box[1].start))
    return band if _holds(box, inner) and reach >= REACH else None


def _holds(box: tuple[slice, slice], inner: tuple[int, int, int, int], room: float = ROOM) -> bool:
    """Whether `box` holds `inner` strictly inside, `room` times as high and wide."""
    top, bottom, left, right = inner
    return (box[0].start < top and bottom < box[0].stop and box[1].start < left and right < box[1].stop
            and box[0].stop - box[0].start >= room * (bottom - top) and box[1].stop - box[1].start >= room * (right - left))


def _goes_round(ring: np.ndarray, inner: tuple[int, int, int, int]) -> bool:
    """Whether the piece `ring` (a boolean mask) meets the rays from the middle of box `inner` in at
    least AROUND of RAYS directions."""
    top, bottom, left, right = inner
    h, w = ring.shape
    thick = ndimage.binary_dilation(ring)  # a ray stepping half a pixel cannot slip through a 1 px ring
    cy, cx = (top + bottom - 1) / 2, (left + right - 1) / 2
    steps = np.arange(0, np.hypot(h, w), 0.5)
    met = 0
    for angle in np.arange(RAYS) * 2 * np.pi / RAYS:
        ys, xs = np.round(cy + steps * np.sin(angle)).astype(int), np.round(cx + steps * np.cos(angle)).astype(int)
        on = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        met += bool(thick[ys[on], xs[on]].any())
    return met >= AROUND
