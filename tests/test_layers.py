import pytest
import torch

from lenet5.bitmaps import PROTOTYPES, parse_bitmaps
from lenet5.layers import (
    A,
    C3_TABLE,
    AvgPool,
    Conv,
    MaxPool,
    RBFOutput,
    RowLinear,
    ScaledTanh,
    Subsampling,
    c3_mask,
)


def test_scaled_tanh_fixed_points_oddness_asymptotes():
    f = ScaledTanh()
    assert abs(f(torch.tensor(1.0)) - 1) < 1e-3 and abs(f(torch.tensor(-1.0)) + 1) < 1e-3
    a = torch.linspace(-5, 5, 101)
    torch.testing.assert_close(f(-a), -f(a))
    assert abs(f(torch.tensor(100.0)) - 1.7159) < 1e-6 and abs(f(torch.tensor(-100.0)) + 1.7159) < 1e-6
    assert A == 1.7159


def test_scaled_tanh_derivative_matches_autograd():
    a = torch.linspace(-4, 4, 33, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(ScaledTanh()(a).sum(), a)
    torch.testing.assert_close(ScaledTanh().derivative(a.detach()), g)


def test_c3_mask_is_table_one():
    mask = c3_mask()
    assert mask.shape == (16, 6) and mask.sum() == 60
    assert mask[0].tolist() == [1, 1, 1, 0, 0, 0]
    assert mask[4].tolist() == [1, 0, 0, 0, 1, 1]  # {4, 5, 0}
    assert mask[9].tolist() == [1, 0, 0, 1, 1, 1]  # {3, 4, 5, 0}
    assert mask[14].tolist() == [1, 0, 1, 1, 0, 1]  # {0, 2, 3, 5}
    assert mask[15].tolist() == [1] * 6
    assert [len(r) for r in C3_TABLE] == [3] * 6 + [4] * 9 + [6]


def test_masked_weights_have_zero_gradient_and_stay_zero():
    torch.manual_seed(0)
    c3 = Conv(6, 16, mask=c3_mask())
    with torch.no_grad():
        c3.weight.normal_().mul_(c3.mask)
    off = c3.mask.expand_as(c3.weight) == 0
    opt = torch.optim.Adam(c3.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        c3(torch.randn(4, 6, 14, 14)).pow(2).sum().backward()
        assert (c3.weight.grad[off] == 0).all() and (c3.weight.grad[~off] != 0).any()
        opt.step()
    assert (c3.weight[off] == 0).all()
    assert c3.trainable_parameters() == 1516
    assert sorted(set(c3.fan_in().tolist())) == [75.0, 100.0, 150.0]


def test_rbf_prototypes_are_the_bitmaps():
    assert PROTOTYPES.shape == (10, 84) and set(PROTOTYPES.unique().tolist()) == {-1.0, 1.0}
    row = lambda digit, r: "".join("#" if v > 0 else "." for v in PROTOTYPES[digit, 7 * r: 7 * r + 7])  # noqa: E731
    assert row(0, 0) == ".#####." and row(0, 1) == "......."  # the detached bar over 0
    assert row(1, 9) == ".######"
    assert row(4, 11) == ".....##"
    assert row(7, 0) == "#######"
    assert row(9, 5) == ".######"
    torch.testing.assert_close(parse_bitmaps(), PROTOTYPES)


def test_rbf_output_is_squared_distance():
    rbf = RBFOutput()
    x = torch.randn(3, 84, 1, 1)
    y = rbf(x)
    assert y.shape == (3, 10, 1, 1)
    torch.testing.assert_close(y[:, :, 0, 0], torch.cdist(x.flatten(1), PROTOTYPES) ** 2, rtol=1e-4, atol=1e-4)
    assert rbf(PROTOTYPES[3].view(1, 84, 1, 1))[0, 3].item() == 0


def test_subsampling_is_sum_times_coefficient_plus_bias():
    s = Subsampling(2)
    with torch.no_grad():
        s.weight.copy_(torch.tensor([2.0, -1.0]))
        s.bias.copy_(torch.tensor([0.5, 0.0]))
    x = torch.arange(32.0).view(1, 2, 4, 4)
    y = s(x)
    assert y.shape == (1, 2, 2, 2)
    assert y[0, 0, 0, 0].item() == 2 * (0 + 1 + 4 + 5) + 0.5
    assert y[0, 1, 1, 1].item() == -1 * (26 + 27 + 30 + 31)
    assert s.trainable_parameters() == 4


@pytest.mark.parametrize("layer", [Subsampling(3), Conv(3, 2, kernel=3, mask=torch.tensor([[1.0, 0, 1], [0, 1, 1]])), RowLinear(6)])
def test_gradcheck_weighted_layers(layer):
    layer = layer.double()
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-1, 1)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, *ps: layer(x), (x, *layer.parameters()))


def test_gradcheck_rbf_and_activation():
    x = torch.randn(2, 84, 1, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(RBFOutput(PROTOTYPES.double()), (x,))
    assert torch.autograd.gradcheck(ScaledTanh(), (torch.randn(5, dtype=torch.float64, requires_grad=True),))


@pytest.mark.parametrize("pool, coefficient2", [(AvgPool(), 1 / 16), (MaxPool(), 1.0)])
def test_pools_pass_squared_coefficients_back(pool, coefficient2):
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    s = torch.zeros(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    pool.squared(s, x).sum().backward()
    per_block = s.grad.view(1, 1, 2, 2, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(4, 4)
    assert torch.allclose(per_block.sum(dim=1), torch.full((4,), 4 * coefficient2 if coefficient2 < 1 else 1.0, dtype=torch.float64))


@pytest.mark.parametrize("shape", [(3, 6, 28, 28), (2, 16, 10, 10), (2, 3, 7, 9)])
def test_block_sum_is_bit_for_bit_four_times_avg_pool(shape):
    """The speed-up of S2/S4 changes no number: forward and gradient equal 4 * avg_pool2d's."""
    from lenet5.layers import block_sum

    torch.manual_seed(0)
    x = (torch.randn(shape) * 3).requires_grad_()
    g = torch.randn(*shape[:2], shape[2] // 2, shape[3] // 2)
    ref = 4 * torch.nn.functional.avg_pool2d(x, 2)
    (ref_grad,) = torch.autograd.grad(ref, x, g)
    out = block_sum(x)
    (grad,) = torch.autograd.grad(out, x, g)
    assert torch.equal(out, ref) and torch.equal(grad, ref_grad)
    with torch.no_grad():
        assert torch.equal(block_sum(x), ref)
