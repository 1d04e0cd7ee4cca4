"""How far a reader's confidence can be trusted, measured and fitted on held-out amounts (or a
user's own labelled ones: labelled.py).

Held-out amounts are written with the last `holdout` MNIST *training* digits, which no reader
learned from (fit.py), in lenet5/data/strips.py's default style (the benchmark's), saved as
JPEG and decoded, as `lenet5 read` sees a file. On them: the reader's probability of each
reading against whether it is exact; a Platt map fitted to it (lenet5/calibration.py); and the
confidences below which to reject for 1%, 0.5% and 0.1% errors among the readings kept.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from lenet5.calibration import Platt, fit_platt
from lenet5.conditions import LINE_CONDITIONS
from lenet5.data.strips import Strip, Style, make_strip
from lenet5.errors import Lenet5Error
from lenet5.evaluate import calibration_error, rejection_curve
from lenet5.preprocess import decode_image
from lenet5.read.fit import ReaderTraining, split
from lenet5.read.reading import read_uncalibrated

TARGETS = (0.01, 0.005, 0.001)  # errors among the accepted readings: the check reader's 1%, Fig. 10's 0.5%, and a tenth
JPEG_QUALITY = 95  # the amounts' files, here and in benchmarks/amounts.py
BENCHMARK_SEED = 1234  # benchmarks/amounts.py's test amounts, which the other benchmarks of amounts read too


def amount_strips(digits: np.ndarray, labels: np.ndarray, count: int, seed: int) -> Iterator[Strip]:
    """`count` amounts of these digits in strips.py's default style (the benchmark's)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield make_strip(digits, labels, rng, Style())


def amount_file(strip: Strip, pen: str = "normal") -> bytes:
    """The amount written with `pen` (a line condition of lenet5/conditions/amounts.py), as a JPEG file's bytes."""
    data = io.BytesIO()
    Image.fromarray(LINE_CONDITIONS[pen](strip.image)).save(data, format="JPEG", quality=JPEG_QUALITY)
    return data.getvalue()


def amount_files(digits: np.ndarray, labels: np.ndarray, count: int, seed: int,
                 pen: str = "normal") -> Iterator[tuple[bytes, str]]:
    """`amount_strips` as JPEG files' bytes (`amount_file`), with their numbers."""
    for strip in amount_strips(digits, labels, count, seed):
        yield amount_file(strip, pen), strip.number


def held_out_amounts(digits: np.ndarray, labels: np.ndarray, count: int, seed: int,
                     holdout: int = ReaderTraining.holdout) -> list[tuple[np.ndarray, str]]:
    """`count` amounts of the last `holdout` training digits: grey images [0, 1] as decoded from
    their JPEG files, and their numbers."""
    _, (val_digits, val_labels) = split(digits, labels, ReaderTraining(holdout=holdout))
    return [(decode_image(data, f"amount {k}"), number)
            for k, (data, number) in enumerate(amount_files(val_digits, val_labels, count, seed))]


def probabilities(model: torch.nn.Module, amounts: Iterable[tuple[np.ndarray, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """The reader's own probability of each reading, uncalibrated (N,), and whether it is exact (N,);
    an amount where no digits are found counts as read wrong at probability 0."""
    p, exact = [], []
    for grey, number in amounts:
        try:
            reading = read_uncalibrated(model, grey)
            p.append(reading.confidence)
            exact.append(reading.number == number)
        except Lenet5Error:
            p.append(0.0)
            exact.append(False)
    return torch.tensor(p, dtype=torch.float64), torch.tensor(exact)


@dataclass(frozen=True)
class Trust:
    """What amounts read against their numbers (held-out ones, or a user's labelled ones) say of a
    reader's confidence."""

    amounts: int
    exact: float  # share read exactly
    calibration: Platt
    ece_before: float  # expected calibration error (10 bins) of the raw probability
    ece_after: float  # ... of the calibrated confidence
    thresholds: dict[float, float]  # target error -> the calibrated confidence below which to reject (inf: every one)
    kept: dict[float, int]  # target error -> amounts kept at that threshold
    wrong: dict[float, int]  # target error -> amounts read wrong among those kept there

    @property
    def accepted(self) -> dict[float, float]:
        """Target error -> share of the amounts kept at its threshold."""
        return {t: k / self.amounts for t, k in self.kept.items()}

    def as_dict(self) -> dict:
        return {"amounts": self.amounts, "exact": self.exact, "ece_before": self.ece_before, "ece_after": self.ece_after,
                "reject_below": {f"{100 * t:g}%": self.thresholds[t] for t in TARGETS},
                "accepted": {f"{100 * t:g}%": self.accepted[t] for t in TARGETS},
                "wrong_accepted": {f"{100 * t:g}%": self.wrong[t] for t in TARGETS}}


def measure_trust(model: torch.nn.Module, amounts: Iterable[tuple[np.ndarray, str]],
                  log: Callable[[str], None] = lambda s: None) -> Trust:
    """Fit the reader's Platt map on `amounts` (held-out ones, or a user's labelled ones, read one at a
    time) and measure its calibration and rejection there."""
    p, exact = probabilities(model, amounts)
    log(f"read {len(p):,} amounts: {100 * exact.double().mean():.1f}% exactly")
    return trust_of(p, exact)


def cut_for(exact: torch.Tensor, confidence: torch.Tensor, target: float) -> tuple[float, int, int]:
    """The confidence below which to reject so that at most `target` of the amounts kept are wrong,
    keeping as many as can be: (threshold, amounts kept, wrong among them); (inf, 0, 0) where none can.
    Amounts of equal confidence are kept or rejected together, as a threshold keeps them."""
    curve = rejection_curve(exact, confidence)
    k = curve.cut_for(target)
    return curve.threshold[k].item(), len(exact) - k, int(curve.wrong[k])


def trust_of(p: torch.Tensor, exact: torch.Tensor) -> Trust:
    """`measure_trust` from the reader's probabilities of its readings (N,) and whether each is exact (N,)."""
    if exact.all() or not exact.any():
        raise Lenet5Error(f"all {len(p)} amounts were read {'right' if exact.all() else 'wrong'}: "
                          "nothing to calibrate on; give more of them")
    try:
        platt = fit_platt(p, exact)
    except ValueError as e:
        raise Lenet5Error(f"calibrating on {len(p)} amounts: {e}") from None
    calibrated = torch.tensor([platt(float(q)) for q in p], dtype=torch.float64)
    cuts = {t: cut_for(exact, calibrated, t) for t in TARGETS}
    return Trust(len(p), exact.double().mean().item(), platt, calibration_error(exact, p)[0],
                 calibration_error(exact, calibrated)[0], {t: c[0] for t, c in cuts.items()},
                 {t: c[1] for t, c in cuts.items()}, {t: c[2] for t, c in cuts.items()})


def named_threshold(meta: dict, target: str, source: str) -> float:
    """The confidence below which a reader's file (its metadata `meta`) rejects for `target` errors
    among the accepted amounts ('0.5%'), as its calibration chose it; a Lenet5Error where it names none."""
    named = (meta.get("held_out") or {}).get("reject_below") or {}
    if target not in named:
        raise Lenet5Error(f"{source} names " + (f"thresholds for {', '.join(named)} errors only" if named else
                          "no thresholds (calibrate it with lenet5 calibrate-reader): give a confidence instead"))
    if not float(named[target]) <= 1:
        raise Lenet5Error(f"{source}'s calibration found no confidence that keeps any amount at {target} errors: "
                          "it would reject every one (calibrate it on more amounts, or give a confidence)")
    return float(named[target])
