"""The SDNN's training strips as it sees them: each strip (lenet5/data/strips.py) made into the band
`read_number` would read (the line at digit scale, the band along its baseline, kept as 8-bit grey), with
each digit's centre (`digit_centres`, from the strip maker's pixel owners, for the column loss). Made in
worker processes (`StripMakers`): all at first (`make_bands`) and, pass after pass, a share drawn anew
while the network trains (`FreshStrips`). Strip k is drawn from seed [seed, k] whatever the number of
workers, so the bands never depend on it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
from typing import NamedTuple

import numpy as np
import torch

from lenet5.data.strips import TRAINING, Style, make_strip
from lenet5.errors import Lenet5Error
from lenet5.read.line import Line, normalize
from lenet5.read.sdnn import band

class Band(NamedTuple):
    """A training strip as the network sees it."""

    ink: np.ndarray  # (32, W) uint8
    number: str  # the digits it shows
    centres: np.ndarray  # (len(number),) float32: each digit's centre, a column of the line at work scale


_SOURCE: dict[str, object] = {}


def _start_worker(digits: np.ndarray, labels: np.ndarray, style: Style) -> None:
    _SOURCE.update(digits=digits, labels=labels, style=style)


def _one_band(job: tuple[int, ...]) -> Band | None:
    """The band of the strip drawn from seed `job`: (seed, k) for strip k, (seed, k, pass) for a fresh one."""
    strip = make_strip(_SOURCE["digits"], _SOURCE["labels"], np.random.default_rng(list(job)), _SOURCE["style"])
    try:
        line = normalize(strip.image.astype(np.float32) / 255)
    except Lenet5Error:  # ink_map: a blank strip
        line = None
    if line is None or line.ink.sum() <= 0:  # the strip's ink vanished under noise: nothing to learn from
        return None
    ink = band(line)
    return Band((ink * 255).round().astype(np.uint8), strip.number, digit_centres(strip.owner, len(strip.number), line))


def digit_centres(owner: np.ndarray, digits: int, line: Line) -> np.ndarray:
    """Each digit's centre as a column of the line at work scale: the mean column of the image
    pixels it owns (`owner`: the strip maker's map, -1 for paper), mapped as `normalize` maps
    the image (a digit that owns no pixel: NaN, so it is never a target)."""
    rows, cols = np.nonzero(owner >= 0)
    k = owner[rows, cols].astype(np.int64)
    count = np.bincount(k, minlength=digits)[:digits]
    mean_y, mean_x = (np.bincount(k, weights=at + 0.5, minlength=digits)[:digits] / np.maximum(count, 1) for at in (rows, cols))
    centres = line.from_image(mean_y, mean_x)[1] - 0.5  # continuous -> the work pixel's index, as centre_of gives
    return np.where(count > 0, centres, np.nan).astype(np.float32)


class StripMakers:
    """Processes that make bands from strip seeds (`_one_band`), for the first strips and for the fresh
    ones alike: Ctrl-C left to the training (leaving on an error or Ctrl-C stops the workers at once),
    a worker that dies an error, not a wait; `beside` (the fresh strips, made while the network
    trains): at the lowest priority. `processes` 0: made here, in this process, when collected."""

    CHUNK = 256  # strips per job sent to a worker

    def __init__(self, digits: np.ndarray, labels: np.ndarray, style: Style, processes: int, beside: bool = False) -> None:
        self.source = (digits, labels, style)
        self.pool = (concurrent.futures.ProcessPoolExecutor(processes, initializer=_start_maker,
                                                            initargs=(*self.source, beside))
                     if processes > 0 else None)

    def submit(self, jobs: list[tuple[int, ...]]) -> list[concurrent.futures.Future] | list[tuple[int, ...]]:
        """Start making the bands of `jobs` (seeds); `collect` gives them."""
        if self.pool is None:
            return jobs
        return [self.pool.submit(_bands, jobs[i: i + self.CHUNK]) for i in range(0, len(jobs), self.CHUNK)]

    def collect(self, submitted: list) -> list[Band | None]:
        """The bands of what `submit` started, in its order (None: a strip whose ink vanished)."""
        if self.pool is None:
            _start_worker(*self.source)
            try:
                return _bands(submitted)
            finally:
                _SOURCE.clear()
        try:
            return [band for future in submitted for band in future.result()]
        except concurrent.futures.process.BrokenProcessPool:
            raise Lenet5Error("a process making training strips died (out of memory?); try fewer --threads") from None

    def close(self, at_once: bool = False) -> None:
        """Shut the workers down; `at_once` (leaving on an error or Ctrl-C): without finishing their strips."""
        if self.pool is None:
            return
        if at_once:
            for process in list((self.pool._processes or {}).values()):
                process.terminate()  # the pool then finds them gone and lets go of their jobs
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> StripMakers:
        return self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        self.close(at_once=kind is not None)


def make_bands(digits: np.ndarray, labels: np.ndarray, count: int, seed: int, style: Style = TRAINING,
               workers: int = 1) -> list[Band]:
    """`count` strips (strip k drawn from seed [seed, k], so the same whatever `workers`), as bands."""
    with StripMakers(digits, labels, style, workers if workers > 1 else 0) as makers:
        out = makers.collect(makers.submit([(seed, k) for k in range(count)]))
    return [b for b in out if b is not None]


def fresh_slots(strips: int, share: float, epoch: int) -> list[int]:
    """The training strips drawn anew before pass `epoch` (2, 3, ...): `share` of them, in turn."""
    m = round(share * strips)
    return [(k + (epoch - 2) * m) % strips for k in range(min(m, strips))]


def _start_maker(digits: np.ndarray, labels: np.ndarray, style: Style, beside: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the training's to handle: it shuts the workers down
    # one thread: a forked child's first parallel torch call waits forever on the parent's thread
    # pool once the parent has used it (Style.distort's first version, through torch, hung so)
    torch.set_num_threads(1)
    if beside:  # the lowest priority: torch's threads never wait on a strip maker (at equal priority a pass
        # took 870 s here, reniced 426-750 s); the strips, and so the weights, do not depend on it
        with contextlib.suppress(AttributeError, OSError):  # a platform without priorities (no os.nice, or refused)
            os.nice(19)
    _start_worker(digits, labels, style)


def _bands(jobs: list[tuple[int, ...]]) -> list[Band | None]:
    return [_one_band(job) for job in jobs]


class FreshStrips:
    """Pass after pass (up to `passes`), the training strips with `fresh_slots` of them (a `share`) drawn
    anew by `workers` processes (strip k before
    pass p from seed [seed, k, p]: never one of the first pass's [seed, k], as a seed's trailing
    zeros would be; a strip whose ink vanished keeps its old band), each pass's made by `StripMakers`
    while the pass before trains. `done`: passes already trained (a training going on): the strips
    stand as they stood after them, each slot's latest drawn again first."""

    def __init__(self, bands: list[Band], digits: np.ndarray, labels: np.ndarray, share: float, passes: int,
                 workers: int, seed: int, style: Style, done: int = 0) -> None:
        self.bands, self.share, self.passes, self.seed = bands, share, passes, seed
        self.makers = StripMakers(digits, labels, style, max(1, workers), beside=True)  # always beside the training
        self.pending: dict[int, list] = {}
        try:
            self.catch_up(done)
            self.ask(max(2, done + 1))
        except BaseException:
            self.close(at_once=True)
            raise

    def catch_up(self, done: int) -> None:
        """The bands as passes 2..done left them: for each slot, the latest strip drawn for it whose ink
        did not vanish (an earlier one where it did)."""
        drawn: dict[int, list[int]] = {}  # slot -> the passes that drew it, latest first
        for epoch in range(done, 1, -1):
            for k in self.slots(epoch):
                drawn.setdefault(k, []).append(epoch)
        while drawn:
            jobs = [(self.seed, k, passes[0]) for k, passes in drawn.items()]
            for (_, k, _), made_band in zip(jobs, self.makers.collect(self.makers.submit(jobs))):
                if made_band is not None:
                    self.bands[k] = made_band
                    del drawn[k]
                elif len(drawn[k]) > 1:
                    drawn[k].pop(0)
                else:
                    del drawn[k]  # every one vanished: the first pass's band stays

    def slots(self, epoch: int) -> list[int]:
        return fresh_slots(len(self.bands), self.share, epoch)

    def ask(self, epoch: int) -> None:
        if epoch <= self.passes:
            self.pending[epoch] = self.makers.submit([(self.seed, k, epoch) for k in self.slots(epoch)])

    def for_pass(self, epoch: int) -> list[Band]:
        """The bands of pass `epoch`, asking for the next pass's."""
        if epoch in self.pending:
            made = self.makers.collect(self.pending.pop(epoch))
            for k, made_band in zip(self.slots(epoch), made):
                if made_band is not None:
                    self.bands[k] = made_band
            self.ask(epoch + 1)
        return self.bands

    def close(self, at_once: bool = False) -> None:
        self.makers.close(at_once)

    def __enter__(self) -> FreshStrips:
        return self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        self.close(at_once=kind is not None)  # an error or Ctrl-C: the next pass's strips are not waited for
