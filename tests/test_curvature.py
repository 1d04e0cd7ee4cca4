"""The SDLM curvature checked against independent computations in float64."""

import numpy as np
import torch
import torch.nn as nn

from lenet5.curvature import _squared_pass, diagonal_curvature
from lenet5.layers import Conv, ScaledTanh, Subsampling
from lenet5.model import LeNet, ModelConfig


def test_one_layer_matches_brute_force_gauss_newton():
    """Conv + f with a diagonal output Hessian: the recursion is the exact diag(J^T H J)."""
    torch.manual_seed(0)
    conv = Conv(2, 3, kernel=3, mask=torch.tensor([[1.0, 0], [1, 1], [0, 1]])).double()
    with torch.no_grad():
        conv.weight.uniform_(-1, 1).mul_(conv.mask)
        conv.bias.uniform_(-1, 1)
    f = ScaledTanh()
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64)
    h_out = torch.rand(2, 3, 3, 3, dtype=torch.float64)  # d2E/dy2 per output unit
    leaves = {}
    out, s = _squared_pass([conv, f], x, leaves)
    (s * h_out).sum().backward()
    ours = leaves[conv.weight].grad

    def outputs(w):
        return f(conv.affine(x, w, conv.bias)).flatten()

    jac = torch.autograd.functional.jacobian(outputs, conv.weight.detach())  # (outputs, *w.shape)
    jac = jac.reshape(jac.shape[0], -1)
    brute = (jac**2 * h_out.flatten()[:, None]).sum(0).view_as(ours)
    torch.testing.assert_close(ours, brute)


def test_two_layer_recursion_matches_hand_loops():
    """Subsampling -> f -> 1x1 conv -> f, recursion written out with explicit loops in numpy."""
    torch.manual_seed(1)
    s2, c = Subsampling(2).double(), Conv(2, 3, kernel=1).double()
    with torch.no_grad():
        for p in [*s2.parameters(), *c.parameters()]:
            p.uniform_(-1, 1)
    f = ScaledTanh()
    x = torch.randn(1, 2, 2, 2, dtype=torch.float64)
    h_top = torch.rand(1, 3, 1, 1, dtype=torch.float64)
    leaves = {}
    _, s = _squared_pass([s2, f, c, f], x, leaves)
    (s * h_top).sum().backward()

    xn = x.numpy()[0]
    a1 = np.array([s2.weight[m].item() * xn[m].sum() + s2.bias[m].item() for m in range(2)])
    x1 = f(torch.tensor(a1)).numpy()
    a2 = np.array([sum(c.weight[o, m, 0, 0].item() * x1[m] for m in range(2)) + c.bias[o].item() for o in range(3)])
    fp = lambda a: f.derivative(torch.tensor(a)).numpy()  # noqa: E731
    d2a2 = fp(a2) ** 2 * h_top.numpy().flatten()
    d2w2 = np.array([[d2a2[o] * x1[m] ** 2 for m in range(2)] for o in range(3)])
    d2x1 = np.array([sum(c.weight[o, m, 0, 0].item() ** 2 * d2a2[o] for o in range(3)) for m in range(2)])
    d2a1 = fp(a1) ** 2 * d2x1
    d2coef = np.array([d2a1[m] * (xn[m] ** 2).sum() for m in range(2)])
    np.testing.assert_allclose(leaves[c.weight].grad.numpy()[:, :, 0, 0], d2w2)
    np.testing.assert_allclose(leaves[c.bias].grad.numpy(), d2a2)
    np.testing.assert_allclose(leaves[s2.weight].grad.numpy(), d2coef)
    np.testing.assert_allclose(leaves[s2.bias].grad.numpy(), d2a1)


def test_quadratic_model_curvature_is_analytic():
    """A linear F6-only path into the MSE loss: h = 2 f'(a)^2 x^2 averaged over patterns."""
    model = LeNet(ModelConfig(loss="mse"), seed=0).double()
    x = torch.randn(5, 1, 32, 32, dtype=torch.float64)
    h = diagonal_curvature(model, x)
    with torch.no_grad():
        x5 = model.C5_f(model.C5(model.S4_f(model.S4(model.C3_f(model.C3(model.S2_f(model.S2(model.C1_f(model.C1(x))))))))))
        a6 = model.F6(x5)
    fp2 = ScaledTanh().derivative(a6) ** 2  # (5, 84, 1, 1)
    expected = (2 * fp2[:, :, None, 0, 0] * x5[:, None, :, 0, 0] ** 2).mean(0)  # (84, 120)
    torch.testing.assert_close(h[model.F6.weight][:, :, 0, 0], expected)
    torch.testing.assert_close(h[model.F6.bias], (2 * fp2).mean(0).flatten())


def test_every_parameter_gets_a_nonnegative_estimate_and_masked_ones_are_zero():
    for config in (ModelConfig(), ModelConfig(activation="relu", pooling="max", c3="full", head="softmax", loss="cross-entropy"),
                   ModelConfig(activation="blog", pooling="blog", head="softmax", loss="cross-entropy")):
        model = LeNet(config, seed=0)
        h = diagonal_curvature(model, torch.randn(8, 1, 32, 32))
        params = [p for p in model.parameters()]
        assert set(h) == set(params), config
        assert all((v >= 0).all() and v.shape == p.shape for p, v in h.items())
    model = LeNet()
    h = diagonal_curvature(model, torch.randn(8, 1, 32, 32))
    assert (h[model.C3.weight][model.C3.mask.expand_as(model.C3.weight) == 0] == 0).all()


def test_curvature_pass_leaves_model_gradients_alone():
    model = LeNet()
    diagonal_curvature(model, torch.randn(4, 1, 32, 32))
    assert all(p.grad is None for p in model.parameters())
    assert isinstance(model.C1, nn.Module)
