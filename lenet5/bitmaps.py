"""The RBF prototypes: the paper's stylized 7x12 digit bitmaps (Fig. 3, p. 9).

Each class is 7 pixels wide and 12 high, read row by row into 84 values, `#` = +1, `.` = -1.
The art below was checked bit for bit against the figure; the detached bar on top of 0, 2, 4
and 5 is the paper's. Compare it with the figure by eye.
"""

from __future__ import annotations

import torch

WIDTH, HEIGHT = 7, 12

BITMAPS = """
   0        1        2        3        4        5        6        7        8        9
.#####.  ...##..  .#####.  #######  .#####.  .#####.  ..####.  #######  .#####.  .#####.
.......  ..###..  .......  .....##  .......  .......  .##....  .....##  ##...##  ##..###
..###..  .####..  .#####.  ....##.  .......  #######  ##.....  .....##  ##...##  ##...##
.##.##.  ...##..  ##...##  ...##..  .##..##  ##.....  ##.....  ....##.  ##...##  ##...##
##...##  ...##..  #....##  ..####.  .##..##  ##.....  ######.  ...##..  .#####.  ##..###
##...##  ...##..  ....##.  .....##  ###..##  .####..  ###..##  ...##..  ##...##  .######
##...##  ...##..  ..###..  .....##  ##...##  ..####.  ##...##  ..##...  ##...##  .....##
##...##  ...##..  .##....  .....##  ##...##  .....##  ##...##  ..##...  ##...##  .....##
.##.##.  ...##..  ##.....  ##...##  ##..###  ##...##  ###..##  ..##...  ##...##  ....##.
..###..  .######  #######  .#####.  .######  .#####.  .#####.  ..##...  .#####.  .####..
.......  .......  .......  .......  .....##  .......  .......  .......  .......  .......
.......  .......  .......  .......  .....##  .......  .......  .......  .......  .......
"""


def parse_bitmaps(art: str = BITMAPS) -> torch.Tensor:
    """The art as a float tensor (10, 84): class i's bitmap, row by row, +1 for `#`, -1 for `.`."""
    rows = [line.split() for line in art.strip("\n").splitlines()[1:]]
    assert len(rows) == HEIGHT and all(len(r) == 10 and all(len(g) == WIDTH for g in r) for r in rows)
    glyphs = ["".join(row[digit] for row in rows) for digit in range(10)]
    return torch.tensor([[1.0 if c == "#" else -1.0 for c in g] for g in glyphs])


PROTOTYPES = parse_bitmaps()  # (10, 84): the fixed RBF centres w_ij
