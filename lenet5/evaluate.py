"""Scoring a trained network on a labelled set: error with its interval, the confusion matrix,
the misclassified digits, and rejection by confidence (the paper's Fig. 10 measure)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lenet5.fused import FusedNet, applies
from lenet5.model import LeNet

REJECTION_TARGET = 0.005  # Fig. 10: the rejection needed to reach 0.5% error


@torch.no_grad()
def predict_all(model: LeNet, inputs: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Classes and confidences (N,) for network inputs (N, 1, 32, 32), in batches; the paper's
    network on a CPU runs through lenet5/fused.c (scores agree with PyTorch's to float32 precision;
    on the 10,000 test digits, the shipped models' classes are the same)."""
    if inputs.shape[-2:] == (32, 32) and applies(model, inputs.device):
        return model.decide(FusedNet(model).scores(inputs))
    was_training = model.training
    model.eval()
    parts = [model.predict(x) for x in inputs.split(batch_size)]
    model.train(was_training)
    return torch.cat([c for c, _ in parts]), torch.cat([m for _, m in parts])


def error_rate(model: LeNet, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of the set the network gets wrong."""
    classes, _ = predict_all(model, inputs)
    return (classes != labels).float().mean().item()


def wilson_interval(wrong: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of an error rate measured as wrong / n (Wilson score interval)."""
    p = wrong / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def confusion_matrix(labels: torch.Tensor, predicted: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """(classes, classes) counts: row = true class, column = predicted class."""
    return torch.bincount(labels * classes + predicted, minlength=classes * classes).view(classes, classes)


@dataclass(frozen=True)
class Rejection:
    """Rejecting the k least confident digits, for k = 0..N."""

    rejected: torch.Tensor  # (N + 1,) fraction of the set rejected
    error: torch.Tensor  # (N + 1,) error on the digits kept (the paper's measure)
    misread: torch.Tensor  # (N + 1,) wrong and kept, as a fraction of the whole set (never rises)
    threshold: torch.Tensor  # (N + 1,) the least confidence kept (inf: all rejected)
    wrong: torch.Tensor  # (N + 1,) how many of the digits kept are wrong
    whole: torch.Tensor  # (N + 1,) whether a threshold makes this cut: no digit rejected is as confident as one kept

    def cut_for(self, target: float = REJECTION_TARGET) -> int:
        """How many to reject, as few as can be, so that at most `target` of those kept are wrong. Digits
        of equal confidence are kept or rejected together, as a threshold keeps them; rejecting all is
        always allowed (N)."""
        kept = torch.arange(len(self.wrong) - 1, -1, -1, dtype=torch.float64)
        return int((self.whole & (self.wrong.double() <= target * kept + 1e-9)).nonzero()[0, 0])  # 1e-9: 0.7 * 90 is 62.99...

    def reachable(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(rejected, error) at the cuts a threshold can make: the curve as a user can move along it."""
        return self.rejected[self.whole], self.error[self.whole]

    def needed_for(self, target: float = REJECTION_TARGET) -> float:
        """Smallest rejected fraction whose error on the kept digits is <= target."""
        return self.rejected[self.cut_for(target)].item()

    def threshold_for(self, target: float = REJECTION_TARGET) -> float:
        """The confidence below which to reject so the kept error is <= target (on this set)."""
        return self.threshold[self.cut_for(target)].item()


def rejection_curve(correct: torch.Tensor, confidence: torch.Tensor) -> Rejection:
    n = len(correct)
    order = confidence.argsort(descending=True)  # most confident first: rejection removes from the end
    ranked = confidence[order].double()
    wrong = torch.cat([torch.zeros(1, dtype=torch.long), (~correct[order]).long().cumsum(0)]).flip(0)  # k rejected
    kept = torch.arange(n, -1, -1)
    error = torch.where(kept > 0, wrong.float() / kept.clamp(min=1).float(), torch.zeros(1))
    least_kept = torch.cat([ranked.flip(0), torch.tensor([float("inf")], dtype=torch.float64)])
    # rejecting k (0 < k < N) splits ranked[N - k - 1] (kept) from ranked[N - k] (rejected)
    apart = torch.cat([torch.tensor([True]), (ranked[1:] != ranked[:-1]).flip(0), torch.tensor([True])])[: n + 1]
    return Rejection(torch.arange(n + 1) / n, error, wrong.float() / n, least_kept, wrong, apart)


def calibration_error(correct: torch.Tensor, confidence: torch.Tensor, bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error of probabilities `confidence` (N,) against `correct` (N,): the
    mean over equal-width bins of |accuracy - mean confidence|, weighted by the bin's share;
    and per bin (for a reliability plot) its range, count, mean confidence and accuracy."""
    edges = torch.linspace(0, 1, bins + 1)
    index = torch.bucketize(confidence.double().clamp(0, 1), edges[1:-1].double(), right=True)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            mean_conf, accuracy = confidence[inside].double().mean().item(), correct[inside].double().mean().item()
            ece += inside.double().mean().item() * abs(accuracy - mean_conf)
            rows.append({"low": edges[b].item(), "high": edges[b + 1].item(), "count": int(inside.sum()),
                         "confidence": mean_conf, "accuracy": accuracy})
    return ece, rows


@dataclass(frozen=True)
class Evaluation:
    n: int
    error: float
    interval: tuple[float, float]
    confusion: torch.Tensor  # (10, 10)
    labels: torch.Tensor  # (N,)
    predicted: torch.Tensor  # (N,)
    confidence: torch.Tensor  # (N,)
    rejection: Rejection

    @property
    def misclassified(self) -> torch.Tensor:
        """Indices of the digits read wrong."""
        return (self.predicted != self.labels).nonzero().flatten()

    def summary(self) -> dict:
        return {"digits": self.n, "test_error": self.error, "interval_95": list(self.interval),
                "misclassified": len(self.misclassified),
                "rejection_for_0.5%_error": self.rejection.needed_for(),
                "confusion": self.confusion.tolist()}


def evaluate(model: LeNet, inputs: torch.Tensor, labels: torch.Tensor) -> Evaluation:
    predicted, confidence = predict_all(model, inputs)
    correct = predicted == labels
    wrong = int((~correct).sum())
    return Evaluation(len(labels), wrong / len(labels), wilson_interval(wrong, len(labels)),
                      confusion_matrix(labels, predicted), labels, predicted, confidence,
                      rejection_curve(correct, confidence))


@dataclass(frozen=True)
class DigitTrust:
    """A digit model's probability on held-out digits, before and after temperature scaling."""

    n: int
    temperature: float
    ece_before: float  # expected calibration error (10 bins) of softmax(logits)
    ece_after: float  # ... of softmax(logits / T)
    thresholds: dict[float, float]  # target error -> the calibrated probability below which to reject
    accepted: dict[float, float]  # target error -> share of the digits kept there


def digit_trust(model: LeNet, inputs: torch.Tensor, labels: torch.Tensor,
                targets: tuple[float, ...] = (0.01, REJECTION_TARGET, 0.001)) -> DigitTrust:
    """Fit the temperature of the model's softmax on held-out inputs (N, 1, 32, 32) and labels (N,)."""
    from lenet5.calibration import Temperature, fit_temperature

    logits = logits_of(model, inputs)
    t = fit_temperature(logits, labels)
    before, after = Temperature(1.0)(logits), Temperature(t)(logits)
    correct = after.argmax(1) == labels
    curve = rejection_curve(correct, after.max(1).values)
    return DigitTrust(len(labels), t, calibration_error(correct, before.max(1).values)[0],
                      calibration_error(correct, after.max(1).values)[0], {x: curve.threshold_for(x) for x in targets},
                      {x: 1 - curve.needed_for(x) for x in targets})


def probability_calibration(model: LeNet, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Expected calibration error (10 bins) of a calibrated model's probability of the digit it reads."""
    p = model.calibration(logits_of(model, inputs))
    return calibration_error(p.argmax(1) == labels, p.max(1).values)[0]


@torch.no_grad()
def logits_of(model: LeNet, inputs: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The model's scores as logits (N, 10) float64 for inputs (N, 1, 32, 32), in batches, in eval mode."""
    model.eval()
    return model.logits(torch.cat([model(x) for x in inputs.split(batch_size)])).double()
