"""Random pens and scans for training (distort="pens")."""

import torch

from lenet5.data.pens import Pens, blur, pens_and_scans, rescan, restroke


def digits(n=64) -> torch.Tensor:
    x = torch.zeros(n, 28, 28)
    x[:, 6:22, 12:15] = 255  # a 3 px bar
    return x


def test_the_same_generator_gives_the_same_pens():
    a = pens_and_scans(digits(), torch.Generator().manual_seed(3))
    b = pens_and_scans(digits(), torch.Generator().manual_seed(3))
    c = pens_and_scans(digits(), torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_shares_of_changed_patterns_follow_pens():
    x = digits(2000)
    out = pens_and_scans(x, torch.Generator().manual_seed(0), Pens(stroke=0.2, blur=0.1, scan=0.1))
    changed = (out - x).abs().flatten(1).amax(1) > 1
    assert 0.33 < changed.float().mean() < 0.47  # 40% asked
    assert out.min() >= 0 and out.max() <= 255 and out.dtype == torch.float32
    none = pens_and_scans(x, torch.Generator().manual_seed(0), Pens(stroke=0, blur=0, scan=0))
    assert torch.equal(none, x)


def test_each_change_does_what_it_says():
    x = digits(1).unsqueeze(1)
    assert restroke(x, 2).sum() > 1.5 * x.sum() and restroke(x, -1).sum() < 0.8 * x.sum()
    assert torch.allclose(blur(x, 1.0).sum(), x.sum(), rtol=1e-3) and blur(x, 1.0).max() < 255
    coarse = rescan(x, 7)
    assert coarse.shape == x.shape and coarse.max() < 255 and (coarse > 0).sum() > (x > 0).sum()
