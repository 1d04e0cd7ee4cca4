"""The diagonal second derivatives h_kk that SDLM divides by (Appendix C, p. 41-42).

Second derivatives are back-propagated like first derivatives, with the f'' term dropped and
off-diagonal terms ignored:
    d2E/da_i2  = f'(a_i)^2 * sum_k u_ki^2 * d2E/da_k2
    d2E/du_ij2 = d2E/da_i2 * x_j^2       (summed over every connection that shares u_ij)
We get this recursion from autograd: a "squared" copy of the network computes each layer's
`affine` map with squared weights on squared inputs, and multiplies by f'(a)^2 at each
activation. Its backward pass, seeded with the loss's own curvature at F6's outputs (RBF head)
or at the logits (softmax head), delivers d2E/du2 as the gradient of each squared weight.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from lenet5.losses import cross_entropy_curvature, map_curvature, mse_curvature


def leaf_layers(module: nn.Module) -> list[nn.Module]:
    """The model's layers in forward order, with nn.Sequential groups opened up."""
    if isinstance(module, nn.Sequential) and not hasattr(module, "affine"):
        return [leaf for child in module.children() for leaf in leaf_layers(child)]
    return [module]


def _carry(y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A node whose value is y^2 (the squared input of the next layer) and whose backward is t's."""
    return y.detach() ** 2 + (t - t.detach())


def _squared_pass(layers: list[nn.Module], x: torch.Tensor, leaves: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `layers` forward on x and, beside it, the squared network; return (output, its node)."""
    s = x.detach() ** 2
    for layer in layers:
        y = layer(x)
        if hasattr(layer, "affine"):
            w2 = (layer.weight.detach() ** 2).requires_grad_()
            b2 = torch.zeros_like(layer.bias).requires_grad_()
            leaves[layer.weight], leaves[layer.bias] = w2, b2
            t = layer.affine(s, w2, b2)
        elif hasattr(layer, "derivative"):
            t = s * layer.derivative(x).detach() ** 2
        else:
            t = layer.squared(s, x)
        s, x = _carry(y, t), y.detach()
    return x, s


@torch.no_grad()
def _seed(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """d2E/dz2 per pattern where the recursion starts (z: F6's outputs or the logits)."""
    config = model.config
    z = x.flatten(1)
    if config.loss == "map":
        return map_curvature(z, model.output.prototypes, config.j).view_as(x)
    if config.loss == "mse":
        return mse_curvature(z).view_as(x)
    return cross_entropy_curvature(z).view_as(x)


def diagonal_curvature(model: nn.Module, x: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
    """h_kk for every trainable parameter: the per-pattern second derivative of the loss,
    averaged over the patterns of the batch x (B, 1, 32, 32). The paper uses 500 patterns.
    No target is needed: for eq. 8 and 9 the correct class only adds the constant 2."""
    layers = leaf_layers(model)
    if model.config.head == "rbf":
        layers = layers[:-1]  # the RBF output is part of the loss's curvature, not a layer here
    leaves: dict[nn.Parameter, torch.Tensor] = {}
    with torch.enable_grad():
        out, s = _squared_pass(layers, x, leaves)
        assert out.shape[-2:] == (1, 1), "curvature is defined for 32x32 inputs"
        (s * _seed(model, out)).sum().backward()
    return {p: leaf.grad / len(x) for p, leaf in leaves.items()}
