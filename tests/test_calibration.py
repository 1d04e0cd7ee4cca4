import math

import pytest
import torch

from lenet5.calibration import Platt, fit_platt, fit_temperature, logit


def test_platt_is_the_identity_by_default_and_keeps_order_at_the_extremes():
    assert Platt()(0.3) == pytest.approx(0.3)
    squeeze = Platt(0.5, 1.0)
    values = [squeeze(p) for p in (0.0, 1e-9, 0.2, 0.7, 1 - 1e-9, 1.0)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    assert squeeze(0.5) == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_fit_platt_recovers_the_map_that_made_the_outcomes():
    g = torch.Generator().manual_seed(0)
    p = torch.rand(40_000, generator=g, dtype=torch.float64) * 0.98 + 0.01
    truth = torch.sigmoid(2.0 * logit(p) - 0.5)
    correct = torch.rand(40_000, generator=g, dtype=torch.float64) < truth
    fitted = fit_platt(p, correct)
    assert fitted.a == pytest.approx(2.0, abs=0.08) and fitted.b == pytest.approx(-0.5, abs=0.05)


def test_an_honest_confidence_is_left_nearly_alone():
    g = torch.Generator().manual_seed(1)
    p = torch.rand(40_000, generator=g, dtype=torch.float64)
    correct = torch.rand(40_000, generator=g, dtype=torch.float64) < p
    fitted = fit_platt(p, correct)
    assert fitted.a == pytest.approx(1.0, abs=0.05) and fitted.b == pytest.approx(0.0, abs=0.05)


def test_fit_platt_needs_both_outcomes():
    with pytest.raises(ValueError, match="one right and one wrong"):
        fit_platt(torch.tensor([0.2, 0.9]), torch.tensor([True, True]))


def test_fit_temperature_recovers_the_scale_of_overconfident_logits():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(20_000, 10, generator=g, dtype=torch.float64) * 2
    labels = torch.multinomial(torch.softmax(z, dim=1), 1, generator=g)[:, 0]
    assert fit_temperature(3 * z, labels) == pytest.approx(3.0, rel=0.05)
