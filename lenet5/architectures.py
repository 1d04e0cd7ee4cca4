"""The networks of Sec. III-C, as data: maps per layer and how they connect.

One constructor (`lenet5.model.LeNet`) builds every network of this package from an
`Architecture`: LeNet-5 (Fig. 2), LeNet-4 and LeNet-1 (Sec. III-C-7), the fully connected
networks of Fig. 9 (28x28-300-10 and its kin), the readers' segment recognizer and the SDNN.

    input -> C1 -> S2 -> C3 -> S4 -> hidden (C5, F6; fully connected) -> output

A network without maps is fully connected from the input on (its hidden layers are H1, H2).
Every layer is a convolution, so a larger input gives a map of outputs (Sec. VII); the first
fully connected layer is a convolution as wide as the maps it reads at the native size.
"""

from __future__ import annotations

from dataclasses import dataclass

from lenet5.layers import C3_TABLE

# LeNet-4's C3 (Sec. III-C-7 says only "16 feature maps" after 8 S2 maps; the wiring is ours):
# each map reads three S2 maps, so C3 has 48 kernels and the whole network about 262,000
# connections, the paper's "about 260,000".
LENET4_TABLE = tuple((i % 8, (i + 1) % 8, (i + 2) % 8) for i in range(8)) + \
    tuple((i % 8, (i + 2) % 8, (i + 4) % 8) for i in range(8))

# LeNet-1's H3 (LeCun et al. 1989; this paper gives only its cost): 12 maps, 8 of them reading
# one S2 map, 4 reading three: 20 kernels, which gives the 1989 network's 2,578 parameters and
# 98,442 connections exactly.
LENET1_TABLE = tuple((i // 2,) for i in range(8)) + ((0, 1, 2), (1, 2, 3), (2, 3, 0), (3, 0, 1))

WIRINGS = {"table-i": C3_TABLE, "lenet4": LENET4_TABLE, "lenet1": LENET1_TABLE}


@dataclass(frozen=True)
class Architecture:
    """Maps per layer and their wiring."""

    size: int  # the input's side at which C5 (or the output) reads all of S4: 32 for LeNet-5
    maps: tuple[int, ...] = ()  # C1, S2, C3, S4 maps; () for a fully connected network
    wiring: str = "table-i"  # C3's connection table (a name in WIRINGS, or "full") when the model's c3 is "table"
    hidden: tuple[int, ...] = ()  # fully connected layers before the output: LeNet-5's C5 120, F6 84
    description: str = ""
    input: str = "pad-32"  # the model config's input that gives this network its size (lenet5/data/feed.py)

    def __post_init__(self):
        assert len(self.maps) in (0, 4), "maps: C1, S2, C3, S4, or none"
        if self.maps:
            c1, s2, c3, s4 = self.maps
            assert s2 % c1 == 0 and s4 == c3, "each S2 map reads one C1 map; S4 subsamples C3"

    @property
    def copies(self) -> int:
        """S2 maps per C1 map (LeNet-4: 2, "connected in pairs")."""
        return self.maps[1] // self.maps[0]

    def table(self) -> tuple[tuple[int, ...], ...] | None:
        """C3's wiring, or None for a full connection."""
        if self.wiring == "full":
            return None
        table = WIRINGS[self.wiring]
        assert len(table) == self.maps[2] and max(max(t) for t in table) < self.maps[1], "wiring does not fit the maps"
        return table

    def side(self) -> int:
        """Side of the last maps at the native size: S4's (5 for LeNet-5), or the input's."""
        if not self.maps:
            return self.size
        return ((self.size - 4) // 2 - 4) // 2


def sweep(maps: tuple[int, int, int, int]) -> Architecture:
    """LeNet-5's layers with `maps` = C1, C3, C5, F6 maps (the SDNN, Sec. VII): Table I when C1
    and C3 have the paper's 6 and 16 maps, else a full C3."""
    c1, c3, c5, f6 = maps
    wiring = "table-i" if (c1, c3) == (6, 16) else "full"
    return Architecture(32, (c1, c1, c3, c3), wiring, (c5, f6), "LeNet-5's layers swept over a line")


ARCHITECTURES = {
    "lenet5": Architecture(32, (6, 6, 16, 16), "table-i", (120, 84), "LeNet-5 (Fig. 2)"),
    "lenet4": Architecture(32, (4, 8, 16, 16), "lenet4", (120,), "LeNet-4: 4, 8 (pairs), 16, 16 maps, 120 units"),
    "lenet1": Architecture(28, (4, 4, 12, 12), "lenet1", (), "LeNet-1: 4, 4, 12, 12 maps on a 16x16 digit in 28x28",
                           "center-16"),
    "mlp-300": Architecture(28, (), hidden=(300,), description="28x28-300-10", input="raw-28"),
    "mlp-1000": Architecture(28, (), hidden=(1000,), description="28x28-1000-10", input="raw-28"),
    "mlp-300-100": Architecture(28, (), hidden=(300, 100), description="28x28-300-100-10", input="raw-28"),
    "mlp-500-150": Architecture(28, (), hidden=(500, 150), description="28x28-500-150-10", input="raw-28"),
    "mlp-20-300": Architecture(20, (), hidden=(300,), description="20x20-300-10 (deslanted digits)", input="deslant-20"),
    "linear": Architecture(28, (), description="28x28-10: the linear classifier", input="raw-28"),
    "linear-20": Architecture(20, (), description="20x20-10: the linear classifier on deslanted digits", input="deslant-20"),
}
