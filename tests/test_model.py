import pytest
import torch

from lenet5.architectures import ARCHITECTURES
from lenet5.data.feed import INPUT_SIZES

from lenet5.errors import Lenet5Error
from lenet5.model import CHOICES, LeNet, ModelConfig
from lenet5.presets import PRESETS, get_preset
from lenet5.summary import layer_table

PAPER_PARAMETERS = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164, "output": 0}
PAPER_CONNECTIONS = {"C1": 122304, "S2": 5880, "C3": 151600, "S4": 2000, "C5": 48120, "F6": 10164, "output": 840}


def test_paper_counts_match_the_paper():
    rows = layer_table(LeNet(ModelConfig()))
    assert {r.name: r.parameters for r in rows} == PAPER_PARAMETERS
    assert {r.name: r.connections for r in rows} == PAPER_CONNECTIONS
    assert sum(r.parameters for r in rows) == 60_000 == LeNet().num_parameters()
    assert sum(r.connections for r in rows) == 340_908
    assert [r.shape for r in rows][:3] == [(1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10)]


def test_full_c3_has_2416_parameters():
    rows = {r.name: r for r in layer_table(LeNet(ModelConfig(c3="full")))}
    assert rows["C3"].parameters == 2416 and rows["C3"].connections == 241_600


@pytest.mark.parametrize("init, scale", [("paper", lambda f: 2.4 / f), ("paper-sqrt", lambda f: 2.4 / f**0.5)])
def test_init_respects_fan_in_bounds(init, scale):
    model = LeNet(ModelConfig(init=init), seed=3)
    for name, fan_in in (("C1", 25), ("C5", 400), ("F6", 120)):
        w = getattr(model, name).weight
        assert w.abs().max() <= scale(fan_in) and w.abs().max() > 0.9 * scale(fan_in)
    c3 = model.C3.weight
    for o in range(16):
        fan_in = model.C3.fan_in()[o].item()
        assert fan_in in (75, 100, 150)
        assert c3[o].abs().max() <= scale(fan_in) and c3[o].abs().max() > 0.8 * scale(fan_in)
    assert model.S2.weight.abs().max() <= scale(4)
    assert all((getattr(model, n).bias == 0).all() for n in ("C1", "C3", "C5", "F6"))


def test_same_seed_same_weights():
    a, b, c = LeNet(seed=1), LeNet(seed=1), LeNet(seed=2)
    assert torch.equal(a.C5.weight, b.C5.weight) and not torch.equal(a.C5.weight, c.C5.weight)


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("batch", [1, 7])
def test_forward_backward_shapes(preset, batch):
    model = LeNet(PRESETS[preset].model)
    scores = model(torch.randn(batch, 1, 32, 32))
    assert scores.shape == (batch, 10)
    scores.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    classes, confidence = model.predict(torch.randn(batch, 1, 32, 32))
    assert classes.shape == confidence.shape == (batch,) and (confidence >= 0).all()


@pytest.mark.parametrize("preset", ["paper", "modern"])
def test_larger_input_gives_larger_c5_maps(preset):
    model = LeNet(PRESETS[preset].model)
    x = torch.randn(2, 1, 64, 64)
    c5 = model.C5(model.S4_f(model.S4(model.C3_f(model.C3(model.S2_f(model.S2(model.C1_f(model.C1(x)))))))))
    assert c5.shape == (2, 120, 9, 9)
    assert model(x).shape == (2, 10, 9, 9)


def test_rbf_prediction_is_smallest_penalty_with_margin():
    model = LeNet()
    penalties = torch.tensor([[9.0, 4.0, 7.5, 4.5, 8, 8, 8, 8, 8, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0.25]])
    classes, margin = model.decide(penalties)  # RBF: the smallest distance wins, by the second's lead
    assert classes.tolist() == [1, 9] and margin.tolist() == [0.5, 0.75]
    x = torch.randn(5, 1, 32, 32)
    classes, margin = model.predict(x)
    s = model(x).sort(dim=1)
    torch.testing.assert_close(margin, s.values[:, 1] - s.values[:, 0])
    assert (classes == s.indices[:, 0]).all()


def test_bad_configs_are_clear_errors():
    with pytest.raises(Lenet5Error, match="unknown activation 'gelu'; choose one of: scaled-tanh"):
        ModelConfig(activation="gelu")
    with pytest.raises(Lenet5Error, match="does not fit"):
        ModelConfig(head="rbf", loss="cross-entropy")
    with pytest.raises(Lenet5Error, match="choose one of: paper, paper-distort, paper-pens, paper-sdlm, blog, modern"):
        get_preset("lenet")


def test_every_choice_builds_and_runs():
    for field, values in CHOICES.items():
        for value in values:
            changes = {field: value}
            if (field, value) in (("head", "softmax"), ("loss", "cross-entropy")) or field == "architecture" and value != "lenet5":
                changes.update(head="softmax", loss="cross-entropy")
            if field == "architecture":
                changes["input"] = ARCHITECTURES[value].input
            if field == "input" and INPUT_SIZES[value] != 32:
                continue  # another network's input: built with that network above
            model = LeNet(ModelConfig(**changes))
            size = model.architecture.size
            assert model(torch.randn(2, 1, size, size)).shape == (2, 10)
            assert model.prepare(torch.zeros(3, 28, 28, dtype=torch.uint8)).shape == (3, 1, size, size)


@pytest.mark.parametrize("preset", ["paper", "modern"])
def test_feature_maps_are_the_squashed_c1_to_s4_outputs(preset):
    model = LeNet(PRESETS[preset].model, seed=1).eval()
    x = torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        maps = model.feature_maps(x)
        assert {k: tuple(v.shape) for k, v in maps.items()} == {
            "C1": (2, 6, 28, 28), "S2": (2, 6, 14, 14), "C3": (2, 16, 10, 10), "S4": (2, 16, 5, 5)}
        assert torch.equal(maps["C1"], model.C1_f(model.C1(x)))
        rest = maps["S4"]
        for name in ("C5", "C5_f", "F6", "F6_f", "output"):
            rest = getattr(model, name)(rest)
        assert torch.equal(rest.flatten(1), model(x))  # S4's maps are what the rest of the network reads
