import pytest
import torch

from lenet5.data.datasets import load_digits
from lenet5.data.feed import pad32
from lenet5.evaluate import calibration_error, confusion_matrix, evaluate, rejection_curve, wilson_interval
from lenet5.pretrained import load_pretrained
from lenet5.report import write_evaluation


def test_rejection_curve_by_hand():
    correct = torch.tensor([True, False, True, True, False])
    confidence = torch.tensor([0.9, 0.1, 0.5, 0.8, 0.7])
    r = rejection_curve(correct, confidence)
    torch.testing.assert_close(r.error, torch.tensor([0.4, 0.25, 1 / 3, 0.0, 0.0, 0.0]))
    assert r.needed_for(0.0) == pytest.approx(0.6)
    assert r.threshold_for(0.0) == pytest.approx(0.8)  # keep 0.9 and 0.8, reject 0.7, 0.5, 0.1
    assert r.threshold_for(0.3) == pytest.approx(0.5)  # keep four (0.9, 0.8, 0.7, 0.5), one of them wrong: 25%


def test_rejection_keeps_or_rejects_digits_of_equal_confidence_together():
    correct = torch.tensor([True, True, False, True])
    confidence = torch.tensor([0.9, 0.8, 0.8, 0.8])  # the wrong one tied with two right ones
    r = rejection_curve(correct, confidence)
    assert r.whole.tolist() == [True, False, False, True, True]
    assert r.needed_for(0.0) == pytest.approx(0.75)  # no threshold rejects the wrong 0.8 alone
    assert r.threshold_for(0.0) == pytest.approx(0.9)
    assert r.threshold_for(0.25) == pytest.approx(0.8) and r.needed_for(0.25) == 0.0  # exactly 1 in 4: kept
    assert rejection_curve(torch.tensor([False] * 63 + [True] * 27), torch.rand(90)).needed_for(0.7) == 0.0  # 63 of 90 is 70%
    rejected, error = r.reachable()  # the curve as plotted: only the cuts a threshold makes
    torch.testing.assert_close(rejected, torch.tensor([0.0, 0.75, 1.0]))
    torch.testing.assert_close(error, torch.tensor([0.25, 0.0, 0.0]))
    kept = confidence >= r.threshold_for(0.0)  # the threshold keeps what the curve says it keeps
    assert kept.float().mean().item() == pytest.approx(1 - r.needed_for(0.0))


def test_calibration_error_by_hand():
    correct = torch.tensor([True, False, True, True])
    confidence = torch.tensor([0.9, 0.2, 0.8, 0.4])
    ece, bins = calibration_error(correct, confidence)
    assert ece == pytest.approx(0.25 * (0.2 + 0.6 + 0.2 + 0.1))
    assert [b["count"] for b in bins] == [1, 1, 1, 1] and bins[1]["accuracy"] == 1.0
    perfect, _ = calibration_error(torch.tensor([True] * 9 + [False]), torch.full((10,), 0.9))
    assert perfect == pytest.approx(0.0, abs=1e-6)


def test_wilson_interval_and_confusion():
    low, high = wilson_interval(100, 10_000)
    assert low < 0.01 < high and high - low < 0.005
    c = confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 2, 1, 2]), classes=3)
    assert c.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


@pytest.mark.mnist
def test_evaluate_the_shipped_model_on_real_mnist(mnist_dir, tmp_path):
    digits = load_digits("mnist", mnist_dir)
    result = evaluate(load_pretrained("paper"), pad32(digits.test_images), digits.test_labels)
    assert result.confusion.sum() == 10_000
    assert result.confusion.trace() == 10_000 - len(result.misclassified)
    assert result.rejection.error[0].item() == pytest.approx(result.error)
    assert (result.rejection.misread.diff() <= 0).all()  # rejecting more never misreads more
    assert 0 < result.rejection.needed_for() < 0.2
    summary = write_evaluation(result, digits.test_images, tmp_path, "paper")
    for name in ("confusion.png", "misclassified.png", "rejection.png", "evaluation.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert summary["misclassified"] == len(result.misclassified)
