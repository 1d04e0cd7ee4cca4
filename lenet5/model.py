"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, Sec. II-B), assembled from a config; the
other networks of Sec. III-C (LeNet-4, LeNet-1, the fully connected nets) from the same
constructor with another `architecture` (lenet5/architectures.py).

    input 1@32x32 -> C1 6@28x28 -> S2 6@14x14 -> C3 16@10x10 -> S4 16@5x5 -> C5 120@1x1
          -> F6 84 -> output 10 (RBF against the bitmaps of Fig. 3)

Each common simplification is a field of `ModelConfig`; the `paper` choices are the defaults.
C5 is a 5x5 convolution and F6 and the output are 1x1 convolutions, so the network stays
convolutional: a larger input gives a map of scores (Sec. VII), a 32x32 input gives (B, 10).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn as nn

from lenet5.architectures import ARCHITECTURES, Architecture
from lenet5.bitmaps import PROTOTYPES
from lenet5.data.feed import INPUT_SIZES, INPUTS
from lenet5.errors import Lenet5Error
from lenet5.options import choices_of, option, validate
from lenet5.layers import (
    AvgPool,
    Conv,
    Fan,
    MaxPool,
    RBFOutput,
    ReLU,
    RowLinear,
    ScaledTanh,
    SoftmaxOutput,
    Subsampling,
    SumPool,
    Tanh,
    c3_mask,
)

LOSSES_OF_HEAD = {"rbf": ("map", "mse"), "softmax": ("cross-entropy",)}


@dataclass(frozen=True)
class ModelConfig:
    """The network. Defaults are the paper's choices (Sec. II-B, II-C, Appendix A)."""

    activation: str = option("scaled-tanh", "squashing function after C1..F6: paper 1.7159 tanh(2a/3) | tanh | relu | "
                                            "blog (row-linear + scaled tanh)", ("scaled-tanh", "tanh", "relu", "blog"))
    pooling: str = option("subsampling", "S2/S4: paper trainable subsampling (2x2 sum x coefficient + bias) | avg | max | "
                                         "blog (sum + row-linear)", ("subsampling", "avg", "max", "blog"))
    c3: str = option("table", "C3 wiring: paper Table I (1,516 params) | full 6->16 (2,416)", ("table", "full"))
    head: str = option("rbf", "output: paper RBF against the Fig. 3 bitmaps | softmax (linear 84->10)", ("rbf", "softmax"))
    loss: str = option("map", "paper eq. 9 (MAP) | mse (eq. 8) | cross-entropy (softmax head)", ("map", "mse", "cross-entropy"))
    # the paper gives no value of j (ours: docs/deviations.md)
    j: float = option(0.1, "eq. 9's rubbish-class constant")
    input: str = option("pad-32", "paper: pad 28->32, background -0.1, ink 1.175 | resize-32 (normalize 0.5/0.5) | "
                                  "center-16 (LeNet-1: 16x16 in 28x28) | raw-28 | deslant-20 (Sec. III-C)", tuple(INPUTS))
    init: str = option("paper", "weights: paper U(+-2.4/F_in) (Appendix A) | paper-sqrt U(+-2.4/sqrt F_in) | pytorch",
                       ("paper", "paper-sqrt", "pytorch"))
    bias_init: str = option("zero", "biases: zero (the paper is silent) | fan-in (same range as the weights)", ("zero", "fan-in"))
    architecture: str = option("lenet5", "maps per layer and wiring (lenet5/architectures.py): lenet5 (Fig. 2) | lenet4 | "
                                         "lenet1 | the fully connected nets of Fig. 9", tuple(ARCHITECTURES))

    def __post_init__(self):
        validate(self)
        size = ARCHITECTURES[self.architecture].size
        if INPUT_SIZES[self.input] != size:
            fits = ", ".join(k for k, v in INPUT_SIZES.items() if v == size)
            raise Lenet5Error(f"{self.architecture} reads {size}x{size} inputs; input {self.input!r} gives "
                              f"{INPUT_SIZES[self.input]}x{INPUT_SIZES[self.input]}: use one of: {fits}")
        if self.loss not in LOSSES_OF_HEAD[self.head]:
            raise Lenet5Error(f"loss {self.loss!r} does not fit the {self.head} head; use one of: {', '.join(LOSSES_OF_HEAD[self.head])}")

    def replace(self, **changes) -> ModelConfig:
        return dataclasses.replace(self, **changes)


CHOICES = choices_of(ModelConfig)


def activation(kind: str, width: int) -> nn.Module:
    """The squashing function after a layer whose maps are `width` wide."""
    if kind == "blog":
        return nn.Sequential(RowLinear(width), ScaledTanh())
    return {"scaled-tanh": ScaledTanh, "tanh": Tanh, "relu": ReLU}[kind]()


def pooling(kind: str, maps: int, width: int, copies: int = 1) -> nn.Module:
    """S2/S4 for `maps` maps that are `width` wide after pooling, each input map read by `copies` of them."""
    if kind == "blog":
        pool = nn.Sequential(SumPool(), RowLinear(width))
    else:
        pool = {"subsampling": lambda: Subsampling(maps), "avg": AvgPool, "max": MaxPool}[kind]()
    return pool if copies == 1 else nn.Sequential(Fan(copies), pool)


class LeNet(nn.Sequential):
    """A network of `lenet5/architectures.py` (LeNet-5 of Fig. 2 by default), built from its
    architecture and the model config. Layers are named as in the paper (`model.C3`,
    `model.F6`, ...; H1, H2 in a fully connected network); the activation after layer X is `X_f`.
    `classes`: outputs of a softmax head (the readers' 11); `architecture` overrides the config's
    (the SDNN's widened maps)."""

    def __init__(self, config: ModelConfig = ModelConfig(), seed: int = 0, classes: int = 10,
                 architecture: Architecture | None = None):
        super().__init__()
        arch = self.architecture = architecture or ARCHITECTURES[config.architecture]
        self.config = config
        side, inputs = arch.size, 1
        if arch.maps:
            c1, s2, c3, _ = arch.maps
            table = arch.table() if config.c3 == "table" else None
            mask = None if table is None else c3_mask(table, s2)
            side = arch.size - 4  # 28
            self.C1, self.C1_f = Conv(1, c1), activation(config.activation, side)  # (B, 6, 28, 28)
            side //= 2  # 14
            self.S2, self.S2_f = pooling(config.pooling, s2, side, arch.copies), activation(config.activation, side)  # (B, 6, 14, 14)
            side -= 4  # 10
            self.C3, self.C3_f = Conv(s2, c3, mask=mask), activation(config.activation, side)  # (B, 16, 10, 10)
            side //= 2  # 5
            self.S4, self.S4_f = pooling(config.pooling, c3, side), activation(config.activation, side)  # (B, 16, 5, 5)
            inputs = c3
        names = ("C5", "F6") if arch.maps else ("H1", "H2")
        for name, width in zip(names, arch.hidden):  # C5 reads all of S4 at the native size: a 5x5 convolution
            setattr(self, name, Conv(inputs, width, kernel=side))  # (B, 120, 1, 1), then (B, 84, 1, 1)
            setattr(self, f"{name}_f", activation(config.activation, 1))
            side, inputs = 1, width
        if config.head == "rbf" and (classes, inputs) != tuple(PROTOTYPES.shape):  # (10, 84)
            raise Lenet5Error(f"the RBF head reads 84 units into 10 classes (Fig. 3's bitmaps); "
                              f"{config.architecture} gives {inputs}: use --head softmax")
        self.output = RBFOutput() if config.head == "rbf" else SoftmaxOutput(inputs, classes, kernel=side)  # (B, 10, 1, 1)
        initialize(self, torch.Generator().manual_seed(seed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 32, 32) -> scores (B, 10); a larger input gives a score map (B, 10, H, W).
        RBF scores are penalties (smaller wins); softmax scores are logits."""
        y = super().forward(x)
        return y.flatten(1) if y.shape[-2:] == (1, 1) else y

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 digits (N, 28, 28) -> this network's inputs (N, 1, 32, 32), per config.input."""
        return INPUTS[self.config.input](images)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """F6's output (B, 84, H, W): what the output layer reads."""
        for name, layer in self.named_children():
            if name == "output":
                return x
            x = layer(x)
        raise AssertionError("no output layer")

    def feature_maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The maps of C1, S2, C3 and S4 after squashing, for inputs (B, 1, 32, 32):
        {"C1": (B, 6, 28, 28), "S2": (B, 6, 14, 14), "C3": (B, 16, 10, 10), "S4": (B, 16, 5, 5)}."""
        maps = {}
        for name, layer in self.named_children():
            x = layer(x)
            if name in ("C1_f", "S2_f", "C3_f", "S4_f"):
                maps[name[:2]] = x
            if name == "S4_f":
                return maps
        raise AssertionError("no S4 layer")

    def logits(self, scores: torch.Tensor) -> torch.Tensor:
        """Scores as logits (larger wins): -y for the RBF head."""
        return self.output.to_logits(scores)

    def decide(self, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Classes (B,) and a confidence (B,) from scores (B, 10): the margin between the best
        two (for the RBF head, between the two smallest distances; the paper's rejection score)."""
        top2 = self.logits(scores).topk(2, dim=1)
        return top2.indices[:, 0], top2.values[:, 0] - top2.values[:, 1]

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Classes and confidences for inputs (B, 1, 32, 32); see `decide`."""
        return self.decide(self(x))

    def num_parameters(self) -> int:
        """Trainable parameters, not counting C3's disconnected kernels."""
        return sum(m.trainable_parameters() for m in self.modules() if hasattr(m, "trainable_parameters"))


def weighted_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if hasattr(m, "affine")]


LeNet5 = LeNet  # the name of the releases before LeNet-1 and LeNet-4: the default config builds LeNet-5


def initialize(model: LeNet, generator: torch.Generator) -> None:
    """Draw the weights (and biases) as `model.config.init` and `bias_init` say (Appendix A:
    uniform in +-2.4/F_i, F_i the fan-in of the unit; the paper is silent on biases)."""
    config = model.config
    for layer in weighted_layers(model):
        fan_in = layer.fan_in().float()
        if config.init == "pytorch":
            bound = fan_in.rsqrt()
        else:
            bound = 2.4 / (fan_in if config.init == "paper" else fan_in.sqrt())
        weight_bound = bound.view(-1, *([1] * (layer.weight.dim() - 1)))
        mask = getattr(layer, "mask", 1.0)
        with torch.no_grad():
            layer.weight.copy_((torch.rand(layer.weight.shape, generator=generator) * 2 - 1) * weight_bound * mask)
            if config.bias_init == "zero":
                layer.bias.zero_()
            else:
                layer.bias.copy_((torch.rand(layer.bias.shape, generator=generator) * 2 - 1) * bound)
