import pytest
import torch

from lenet5.architectures import ARCHITECTURES, LENET1_TABLE, LENET4_TABLE, sweep
from lenet5.data.deslant import deslant, slant
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet, ModelConfig
from lenet5.read import reader_network
from lenet5.read.sdnn import SDNN
from lenet5.summary import layer_table

SOFTMAX = {"head": "softmax", "loss": "cross-entropy"}


def network(name: str, **changes) -> LeNet:
    return LeNet(ModelConfig(architecture=name, input=ARCHITECTURES[name].input, **SOFTMAX, **changes))


def counts(model: LeNet) -> tuple[int, int]:
    rows = layer_table(model)
    return sum(r.parameters for r in rows), sum(r.connections for r in rows)


def test_lenet1_has_the_1989_networks_parameters_and_connections():
    assert counts(network("lenet1")) == (2_578, 98_442)  # LeCun et al. 1989; the paper: "about 100,000", "about 2,600"
    assert sum(len(t) for t in LENET1_TABLE) == 20


def test_lenet4_counts_and_pairs():
    model = network("lenet4")
    params, connections = counts(model)
    assert abs(connections - 260_000) < 5_000  # "about 260,000 connections"
    assert params == 50_698  # not the paper's 17,000: a 120-unit layer fully connected to 16 5x5 maps has 48,120 weights
    assert sum(len(t) for t in LENET4_TABLE) == 48
    x = torch.randn(1, 1, 32, 32)
    c1 = model.C1_f(model.C1(x))
    with torch.no_grad():
        model.S2[1].weight.copy_(torch.arange(1.0, 9.0))
        model.S2[1].bias.zero_()
    s2 = model.S2(c1)  # S2 map 2k and 2k+1 subsample C1 map k, each with its own coefficient
    for k in range(8):
        expected = (k + 1) * torch.nn.functional.avg_pool2d(c1[:, k // 2 : k // 2 + 1], 2) * 4
        assert torch.allclose(s2[:, k : k + 1], expected, atol=1e-5)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_network_trains_a_step(name):
    model = network(name)
    x = model.prepare(torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8))
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_the_mlps_and_the_linear_classifier_are_fully_connected():
    assert counts(network("mlp-300"))[0] == 784 * 300 + 300 + 300 * 10 + 10
    assert counts(network("mlp-20-300"))[0] == 400 * 300 + 300 + 3_010
    assert counts(network("linear"))[0] == 7_850


def test_a_network_refuses_an_input_of_another_size_and_the_rbf_head_needs_84_units():
    with pytest.raises(Lenet5Error, match="lenet1 reads 28x28 inputs.*center-16"):
        ModelConfig(architecture="lenet1", **SOFTMAX)
    with pytest.raises(Lenet5Error, match="RBF head"):
        LeNet(ModelConfig(architecture="lenet4"))


def test_the_readers_come_from_the_same_constructor():
    sdnn = SDNN((8, 24, 160, 100), seed=3)
    built = LeNet(sdnn.config, 3, classes=11, architecture=sweep((8, 24, 160, 100)))
    assert all(torch.equal(a, b) for a, b in zip(sdnn.state_dict().values(), built.state_dict().values()))
    assert not sdnn.C3.masked and SDNN().C3.masked  # Table I only with the paper's maps
    assert sdnn(torch.zeros(1, 1, 32, 32)).shape == (1, 11, 1, 1)  # a column, not flattened
    assert reader_network(0)(torch.zeros(2, 1, 32, 32)).shape == (2, 11)


def _bar(shear: float) -> torch.Tensor:
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    for y in range(5, 23):
        x = round(14 + shear * (y - 14))
        image[0, y, x - 1 : x + 2] = 255
    return image


def test_deslant_makes_a_slanted_bar_upright_and_keeps_its_ink():
    slanted = _bar(0.4)
    assert slant(slanted)[2].item() == pytest.approx(0.4, abs=0.05)
    upright = deslant(slanted)
    assert upright.shape == (1, 20, 20)
    assert abs(slant(upright)[2].item()) < 0.05
    assert upright.float().sum().item() == pytest.approx(slanted.float().sum().item(), rel=0.1)
    xm, ym, _ = slant(upright)
    assert (xm.item(), ym.item()) == pytest.approx((9.5, 9.5), abs=0.5)  # centred in the crop
