"""A committee of SDNNs that reads at the level of whole strings.

The paper's best single-digit result came from several networks combined (boosted LeNet-4,
Sec. III-C.8). Averaging two SDNNs' outputs column by column does not help (held-out strips:
89.9-90.3%, never above the better one alone): each learned to spike at its own columns, so
the average blurs both. A string, though, has one probability under each network, summed over
all the paths that spell it (the forward score of Sec. VI-E) wherever its spikes fall. So each
member reads the line at the stride's 4 pixel offsets, every reading proposes its likeliest
string, and the string with the highest mean probability over all members' readings wins:

    band -> member 1 at 4 offsets, member 2 at 4 offsets, ... -> (T, 4M, 11)
        -> each reading's likeliest string -> mean P(string) over the 4M readings -> "92312"

Every member has the same stride (4 px) and its windows the same centres (a context widens a
window on both sides alike), so their outputs line up in T and `decode.read_columns` reads them
as one set of readings.
"""

from __future__ import annotations

import torch

from lenet5.read.sdnn import SDNN


class Committee(torch.nn.Module):
    """SDNNs read together: (B, 1, 32, W) -> (M B, 11, 1, windows(W)), member by member."""

    def __init__(self, members: list[SDNN]):
        super().__init__()
        if not members:
            raise ValueError("a committee needs at least one SDNN")
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([member(x) for member in self.members], dim=0)


def join(readers: list[torch.nn.Module]) -> torch.nn.Module:
    """One reader from several SDNNs or committees (their members, in order); one reader stays itself."""
    if len(readers) == 1:
        return readers[0]
    members = [m for r in readers for m in (r.members if isinstance(r, Committee) else [r])]
    if not all(isinstance(m, SDNN) for m in members):
        raise ValueError("only SDNNs read together (over-segmentation's recognizer reads alone)")
    return members[0] if len(members) == 1 else Committee(members)
