"""Per-layer output shapes, trainable parameters and connections (multiply-adds), as in Sec. II-B."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lenet5.model import LeNet


@dataclass(frozen=True)
class LayerRow:
    name: str
    shape: tuple[int, ...]  # output shape for one batch of N digits (N first)
    parameters: int
    connections: int  # per digit; a bias counts as one connection, as in the paper


def layer_table(model: LeNet, batch: int = 1, size: int | None = None) -> list[LayerRow]:
    """One row per layer that has parameters or connections (activations without weights
    are folded into the layer before them), for inputs of side `size` (the network's own)."""
    rows = []
    size = size or model.architecture.size
    x = torch.zeros(batch, 1, size, size)
    with torch.no_grad():
        for name, child in model.named_children():
            x = child(x)
            parts = list(child.modules())
            params = sum(m.trainable_parameters() for m in parts if hasattr(m, "trainable_parameters"))
            connections = sum(m.connections(x.shape) for m in parts if hasattr(m, "connections"))
            if params or connections:
                rows.append(LayerRow(name, tuple(x.shape), params, connections))
    return rows


def format_table(rows: list[LayerRow]) -> str:
    lines = [f"{'layer':8s} {'output shape':>18s} {'parameters':>11s} {'connections':>12s}"]
    for r in rows:
        shape = "(N, " + ", ".join(map(str, r.shape[1:])) + ")"
        lines.append(f"{r.name:8s} {shape:>18s} {r.parameters:>11,} {r.connections:>12,}")
    lines.append(f"{'total':8s} {'':>18s} {sum(r.parameters for r in rows):>11,} {sum(r.connections for r in rows):>12,}")
    return "\n".join(lines)
