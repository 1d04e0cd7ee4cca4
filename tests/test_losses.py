import math

import torch

from lenet5.bitmaps import PROTOTYPES
from lenet5.losses import cross_entropy_curvature, map_curvature, map_loss, mse_loss


def test_map_loss_by_hand():
    y = torch.tensor([[1.0, 2.0, 3.0]])
    j = 0.5
    expected = 2.0 + math.log(math.exp(-0.5) + math.exp(-1) + math.exp(-2) + math.exp(-3))
    assert abs(map_loss(y, torch.tensor([1]), j).item() - expected) < 1e-6
    assert mse_loss(y, torch.tensor([2])).item() == 3.0


def test_map_loss_lower_when_correct_class_is_closer():
    y = torch.tensor([[5.0, 9.0, 9.0]])
    near = map_loss(y, torch.tensor([0]), 0.1)
    y_far = torch.tensor([[8.0, 9.0, 9.0]])
    assert near < map_loss(y_far, torch.tensor([0]), 0.1)


def test_gradcheck_map_loss():
    y = torch.rand(4, 10, dtype=torch.float64, requires_grad=True) * 5
    t = torch.tensor([0, 3, 9, 2])
    assert torch.autograd.gradcheck(lambda y: map_loss(y, t, 0.3), (y,))


def test_map_curvature_is_the_exact_hessian_diagonal():
    torch.manual_seed(0)
    w = PROTOTYPES.double()
    for j in (0.1, 2.0):
        x0 = (w[4] + 0.8 * torch.randn(84, dtype=torch.float64)).clone()

        def loss(x):
            y = ((x[None] - w) ** 2).sum(1)[None]
            return map_loss(y, torch.tensor([4]), j).sum()

        hessian = torch.autograd.functional.hessian(loss, x0)
        torch.testing.assert_close(map_curvature(x0[None], w, j)[0], hessian.diagonal())
    far = torch.full((1, 84), 30.0, dtype=torch.float64)
    torch.testing.assert_close(map_curvature(far, w, 0.1), torch.full((1, 84), 2.0, dtype=torch.float64))


def test_cross_entropy_curvature():
    logits = torch.randn(3, 10, dtype=torch.float64)
    h = torch.autograd.functional.hessian(lambda z: torch.nn.functional.cross_entropy(z[None], torch.tensor([1]), reduction="sum"), logits[0])
    torch.testing.assert_close(cross_entropy_curvature(logits)[0], h.diagonal())
