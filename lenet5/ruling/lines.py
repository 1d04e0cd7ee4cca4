"""Finding printed lines along the rows of an image (a column's are a transposed image's): pieces of
ink far longer along the row than across it (`_pieces`), each fitted to its line's own ink and followed
along its band through the strokes that cross it (`_followed`), kept where the line is long enough and
has paper on both sides, or where it lies as another found line does (`_kept_alike`); lines tilted by
STEEP or more kept only where a page turned askew turned them together (`turned_together`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from scipy import ndimage

from lenet5.ruling.boxes import side_between
from lenet5.ruling.grids import HELD, missing
from lenet5.ruling.line import LINE_SHAPE, Line, lie_alike, runs_of, tilt_of

SEED_SHAPE = 8  # a line's pieces: pixels whose run along is at least this many times the run across
STEEP = 6.0  # degrees: a line tilted more is kept only beside another found line tilted within STEEP_SAME of it
STEEP_SAME = 2.0  # degrees
STEEP_SEED_SHAPE = 5  # pieces of lines tilted up to about 11 degrees (between what SEED_SHAPE finds and what
# lenet5/read/line.py turns upright, an amount in a box photographed 7-10 degrees askew read 54-81%, level 92%)
CROSSING = 4  # px: where another line crosses a line, a pixel joins the line's pieces that lie within this of it along
# the row on both sides
GAP = 2  # a line followed along its band may be broken for this many pixels (a scan's dropouts)
STEEP_PIECE = 12  # px: a steep line's least piece: a squared page turned 6-11 degrees breaks each line into pieces a
# square long less the crossings, under LINE_SHAPE (about 20 px at 3x); a piece is followed on through the crossings
CROSSING_REACH = 12  # px: ... where such a short piece ends at other lines crossing it, at both ends, within this (`_between_crossings`)
BARE = 0.5  # a line has paper on both sides of its band along at least this share of it


def lines_of(inked: np.ndarray, along: np.ndarray, across: np.ndarray) -> tuple[list[Line], list[Line]]:
    """The printed lines along the rows of inked (H, W), or tilted from them by up to about 7 degrees
    (`level`), and those tilted by STEEP to about 11 degrees that only pieces at STEEP_SEED_SHAPE find
    (`_steep`; `turned_together` chooses among them); `along`, `across`: each pixel's run of ink
    along its row, its column."""
    found, covered = level(inked, along, across)
    return found, _steep(inked, inked & (along >= STEEP_SEED_SHAPE * across), across, covered)


def level(inked: np.ndarray, along: np.ndarray, across: np.ndarray,
          shape: float = LINE_SHAPE) -> tuple[list[Line], np.ndarray]:
    """The printed lines along the rows of inked (H, W), or tilted from them by up to about 7 degrees,
    each at least `shape` times as long as it is thick, and the pixels their bands cover (H, W bool)."""
    covered = np.zeros_like(inked)
    like = inked & (along >= SEED_SHAPE * across)
    crossing = (along >= LINE_SHAPE) & (across >= LINE_SHAPE)  # where another line crosses it, a piece goes on through:
    # graph paper's squares can be smaller than LINE_SHAPE, and so each line's pieces between them
    if crossing.any():
        like |= crossing & _between_along(like, CROSSING)
    return _followed_pieces(inked, _pieces(like), across, covered, shape=shape), covered


def _between_along(mask: np.ndarray, reach: int) -> np.ndarray:
    """The pixels of (H, W) with a pixel of `mask` within `reach` of them along the row on either side."""
    left, right = np.zeros_like(mask), np.zeros_like(mask)
    for shift in range(1, reach + 1):
        left[:, shift:] |= mask[:, :-shift]
        right[:, :-shift] |= mask[:, shift:]
    return left & right


def _followed_pieces(inked: np.ndarray, pieces: Iterator[tuple[np.ndarray, np.ndarray]], across: np.ndarray,
                     covered: np.ndarray, shape: float = LINE_SHAPE) -> list[Line]:
    """The lines that `pieces` of line-like ink (each its pixels' rows and columns) lie on, each piece
    not yet `covered` (H, W bool: every found line's band goes into it) followed through inked and kept
    where it is `shape` times as long as it is thick. Then a piece whose band lacks paper on both sides
    (BARE) is followed anyway, and so are the lines a page's evenly spaced ones say are missing
    (`missing`) where ink lies along HELD of them (`_held`); each is kept where it lies as one found
    does (`_kept_alike`)."""
    found: list[Line] = []
    refused: list[tuple[np.ndarray, np.ndarray]] = []
    for ys, xs in pieces:
        if covered[ys[0], xs[0]]:  # a piece of a line already followed
            continue
        line = _followed(inked, ys, xs, across, shape=shape)
        if line is not None:
            covered[:, line.start: line.stop + 1] |= line.band
            found.append(line)
        else:
            refused.append((ys, xs))
    if not found:
        return found
    for ys, xs in refused:
        if not covered[ys[0], xs[0]]:  # a line followed meanwhile
            _kept_alike(_followed(inked, ys, xs, across, bare=0.0, shape=shape), found, covered)
    for ys, xs in missing(found, inked, across, shape):
        if not covered[ys, xs].any():  # scattered pixels along a place: any of them
            line = _followed(inked, ys, xs, across, bare=0.0, shape=shape)
            if line is not None and _held(line, inked) >= HELD:
                _kept_alike(line, found, covered)
    return found


def _between_crossings(ys: np.ndarray, xs: np.ndarray, across: np.ndarray) -> bool:
    """Whether a piece (its pixels' rows and columns) ends where other lines cross it, at both ends:
    within CROSSING_REACH columns beyond each, and as many rows about it, a pixel whose run of ink
    `across` the rows is LINE_SHAPE long (a squared page's column; a 7's bar ends at its stem at one
    end only, a fibre of the paper at neither)."""
    h, w = across.shape
    for end, step in ((xs.min(), -1), (xs.max(), 1)):
        cols = end + step * np.arange(1, CROSSING_REACH + 1)
        cols = cols[(cols >= 0) & (cols < w)]
        y = int(round(float(ys[xs == end].mean())))
        if not cols.size or not (across[max(0, y - CROSSING_REACH): y + CROSSING_REACH + 1, cols] >= LINE_SHAPE).any():
            return False
    return True


def _kept_alike(line: Line | None, found: list[Line], covered: np.ndarray) -> None:
    """`line` (followed without asking for paper on both sides) added to `found`, its band to `covered`,
    where it lies as a found one does (`lie_alike`)."""
    if line is not None and any(lie_alike(line, other) for other in found):
        covered[:, line.start: line.stop + 1] |= line.band
        found.append(line)


def _steep(inked: np.ndarray, like: np.ndarray, across: np.ndarray, covered: np.ndarray) -> list[Line]:
    """The lines along the rows of inked (H, W) tilted by STEEP to about 11 degrees, from the pieces
    of `like` (pixels whose run along is STEEP_SEED_SHAPE times the run across; from STEEP_PIECE long
    where other lines cross them at both ends) not `covered` by the lines SEED_SHAPE finds, with those
    kept beside them alike (`_followed_pieces`), where their band is filled at a stretch (`_filled_along`).
    Pieces fitted to a slope under STEEP - STEEP_SAME are passed over."""
    steeper = np.tan(np.radians(STEEP - STEEP_SAME))
    pieces = ((ys, xs) for ys, xs in _steep_pieces(like, across) if abs(np.polyfit(xs, ys, 1)[0]) >= steeper)
    return [replace(line, along_tilt=True) for line in _followed_pieces(inked, pieces, across, covered)
            if abs(tilt_of(line)) > STEEP and _filled_along(line, inked)]


def turned_together(rows: tuple[list[Line], list[Line]], cols: tuple[list[Line], list[Line]],
                    inked: np.ndarray) -> tuple[list[Line], list[Line]]:
    """The lines along the rows and along the columns of inked (H, W), from `lines_of`' (found, steep) of
    each: every line found, and each steep one that lies as a page photographed askew lays its lines,
    turned together: a steep row beside another row tilted within STEEP_SAME of it, or beside a column
    tilted as much the other way (turning a page tilts its columns against its rows); a steep column
    beside such a row, or beside another column so tilted where a box's side joins their ends (a tight
    box's short sides are no lines). Slanted writing leans its strokes down the columns and leaves
    those along the rows level, so the stems of a 1 and a 7 slanted alike are no lines."""
    (found_rows, steep_rows), (found_cols, steep_cols) = rows, cols
    all_rows, all_cols = found_rows + steep_rows, found_cols + steep_cols

    def beside(line: Line, tilt: float, lines: list[Line]) -> list[Line]:
        return [other for other in lines if other is not line and abs(tilt_of(other) - tilt) <= STEEP_SAME]

    def boxed(col: Line) -> bool:
        return any(side_between(*sorted((col, other), key=lambda line: line.ends[0]), end, inked.T) is not None
                   for other in beside(col, tilt_of(col), all_cols) for end in (0, 1))

    return (found_rows + [r for r in steep_rows if beside(r, tilt_of(r), all_rows) or beside(r, -tilt_of(r), all_cols)],
            found_cols + [c for c in steep_cols if beside(c, -tilt_of(c), all_rows) or boxed(c)])


def _filled_along(line: Line, inked: np.ndarray) -> bool:
    """Whether a line's band is ink across at least half its thickness along LINE_SHAPE times its
    thickness at a stretch (gaps of GAP pixels bridged): a printed line is, dashed in part or not; a
    thin stroke followed on through a photo's noise is not."""
    return max((len(run) for run in runs_of(_filled(line, inked))), default=0) >= LINE_SHAPE * line.thickness


def _held(line: Line, inked: np.ndarray) -> float:
    """The share of a line's length along which its band is ink across at least half its thickness (`_filled`)."""
    return float(_filled(line, inked).mean())


def _filled(line: Line, inked: np.ndarray) -> np.ndarray:
    """Along a line, where its band is ink across at least half its thickness (gaps of GAP pixels bridged)."""
    return _bridged((line.band & inked[:, line.start: line.stop + 1]).sum(axis=0) >= line.thickness / 2)


def _bridged(mask: np.ndarray) -> np.ndarray:
    """A 1-D mask with its gaps of up to GAP pixels filled (a scan's dropouts along a line)."""
    return ndimage.binary_closing(np.pad(mask, GAP), np.ones(GAP + 1, bool))[GAP:-GAP] | mask


def _pieces(like: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The line-like pieces of ink (H, W), each as its pixels' rows and columns: `like` holds the
    pixels whose run of ink along the row is at least so many times the run across it (at SEED_SHAPE a
    line tilted by up to about 7 degrees is so in every pixel), in pieces at least LINE_SHAPE long
    (shorter ones are specks)."""
    for ys, xs, _ in _labelled(like, LINE_SHAPE):
        yield ys, xs


def _steep_pieces(like: np.ndarray, across: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`_pieces` of `like` for a steep line (at STEEP_SEED_SHAPE, tilted up to about 11 degrees), and
    those from STEEP_PIECE long that end where other lines cross them (`_between_crossings`; `across`:
    each pixel's run of ink across the rows)."""
    crossed = None  # the short pieces that come within CROSSING_REACH of another line (found at once, on the first)
    for ys, xs, (labels, k) in _labelled(like, STEEP_PIECE):
        if np.ptp(xs) + 1 >= LINE_SHAPE:
            yield ys, xs
            continue
        if crossed is None:
            near = ndimage.maximum_filter(across >= LINE_SHAPE, size=2 * CROSSING_REACH + 1)
            crossed = set(np.unique(labels[near & (labels > 0)]).tolist())
        if k in crossed and _between_crossings(ys, xs, across):
            yield ys, xs


def _labelled(like: np.ndarray, least: int) -> Iterator[tuple[np.ndarray, np.ndarray, tuple[np.ndarray, int]]]:
    """The connected pieces of `like` (H, W) spanning at least `least` columns: their pixels' rows and
    columns, and the labels with the piece's own."""
    if max(map(len, runs_of(like.any(axis=0))), default=0) < least:  # a piece spans unbroken columns, each holding some of it
        return
    labels, _ = ndimage.label(like, structure=np.ones((3, 3), bool))
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        if box[1].stop - box[1].start < least:
            continue
        ys, xs = np.nonzero(labels[box] == k)
        yield ys + box[0].start, xs + box[1].start, (labels, k)


def _followed(inked: np.ndarray, ys: np.ndarray, xs: np.ndarray, across: np.ndarray, bare: float = BARE,
              shape: float = LINE_SHAPE) -> Line | None:
    """The line that a line-like piece (its pixels' rows and columns) lies on, followed along its
    straight band both ways while ink lies in it; as thick as the ink across its middle (a tilted
    line's steps are thicker than the piece of each row's longest runs); None where it is not `shape`
    times as long as it is thick, or lacks paper on both sides along `bare` of it."""
    h, w = inked.shape
    slope, at = np.polyfit(xs, ys, 1) if np.ptp(xs) > 0 else (0.0, float(ys.mean()))
    middle = at + slope * np.arange(w)
    runs = across[np.clip(np.round(middle[xs]).astype(int), 0, h - 1), xs]
    thickness = float(np.median(runs[runs < LINE_SHAPE] if (runs < LINE_SHAPE).any() else runs))  # not where lines cross
    if thickness == 0:  # the fitted middle runs between two rows of the piece
        thickness = len(xs) / (np.ptp(xs) + 1)
    x0, x1 = int(xs.min()), int(xs.max())
    for _ in range(2):  # fitted again to the line's own middle, then followed again, over what it reaches
        middle = _refitted(inked, middle, thickness, x0, x1)
        rows, x0, x1 = _along(inked, middle, thickness, int(xs.min()), int(xs.max()))
    if x1 - x0 + 1 < shape * thickness:
        return None
    rows = rows[:, x0: x1 + 1]
    inside = rows < h
    above, below = rows[0] - 1, rows[-1] + 1
    span = np.arange(x0, x1 + 1)
    crossing = LINE_SHAPE * thickness  # a run of ink across it this long is another line crossing it (graph paper)
    up, down = np.maximum(above, 0), np.minimum(below, h - 1)
    paper = (((above < 0) | ~inked[up, span] | (across[up, span] >= crossing))  # paper (or the image's edge, or a
            & ((below >= h) | ~inked[down, span] | (across[down, span] >= crossing)))  # line crossing) on both sides
    if paper.mean() < bare:  # a band inside a broad stroke, not a line
        return None
    band = np.zeros((h, x1 - x0 + 1), bool)
    band[rows[inside], np.broadcast_to(np.arange(x1 - x0 + 1), rows.shape)[inside]] = True
    return Line(band & inked[:, x0: x1 + 1], x0, x1, (float(middle[x0]), float(middle[x1])), thickness)


def _along(inked: np.ndarray, middle: np.ndarray, thickness: float, x0: int, x1: int) -> tuple[np.ndarray, int, int]:
    """The band of a line through `middle` (W,), `thickness` thick: its rows in each column (t + 1, W),
    and how far it holds ink from columns x0..x1 on, either way (gaps of GAP pixels bridged)."""
    h, w = inked.shape
    top = np.clip(np.floor(middle - thickness / 2 + 0.5).astype(int), 0, h - 1)
    rows = top[None, :] + np.arange(int(np.ceil(thickness)) + 1)[:, None]  # (t + 1, W)
    held = (inked[np.minimum(rows, h - 1), np.arange(w)] & (rows < h)).any(axis=0)  # (W,)
    held = _bridged(held)
    while x0 > 0 and held[x0 - 1]:
        x0 -= 1
    while x1 < w - 1 and held[x1 + 1]:
        x1 += 1
    return rows, x0, x1


def _refitted(inked: np.ndarray, middle: np.ndarray, thickness: float, x0: int, x1: int) -> np.ndarray:
    """A line's middle row in each column (W,) fitted again, straight, to the middles of the ink near it
    (within its thickness and 2 px) in columns x0..x1 where that ink is no thicker than the line (no
    stroke crosses it there): a piece of line that a stroke touches gives its slope only roughly, and
    far from the piece the band would leave the line."""
    h, w = inked.shape
    reach = int(np.ceil(thickness)) + 2
    cols = np.arange(x0, x1 + 1)
    rows = np.round(middle[cols]).astype(int)[None, :] + np.arange(-reach, reach + 1)[:, None]  # (2 reach + 1, x1 - x0 + 1)
    near = inked[np.clip(rows, 0, h - 1), cols] & (rows >= 0) & (rows < h)
    count = near.sum(axis=0)
    alone = (count > 0) & (count <= 1.5 * thickness + 1)
    if alone.sum() < 2:
        return middle
    slope, at = np.polyfit(cols[alone], (rows * near).sum(axis=0)[alone] / count[alone], 1)
    return at + slope * np.arange(w)
