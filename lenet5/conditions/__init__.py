"""The ways people write and scan digits, as image files made from MNIST digits.

Each condition turns one 28x28 MNIST digit (light ink on black) into the picture a person would
hand to `lenet5 predict`: dark ink on light paper, at some size, with some pen, crop, scan
resolution, light or compression. `benchmarks/people.py` reads every condition with every
shipped model; the tests use a few. Pens are simulated at 5x (140 px for the digit's 28 px
field, where MNIST's stroke is about 12 px wide): a marker dilates the ink with a disc, a fine
pen erodes it. Scans average the digit's 32x32 field (MNIST's 28x28 padded by 2, as LeNet-5
sees it) in blocks, then show the result enlarged, as a scanner's file opened in a viewer.

One module per family: `people` (pens, crops, scans, photos: the default table), `shadows`,
`lines` (printed lines among the digits), `around` (what lies around the digit) and `amounts`
(whole amounts, `benchmarks/amounts.py --pen`); `drawing` holds the page they all draw on.
"""

from lenet5.conditions.amounts import LINE_CONDITIONS, STRIP_HEIGHT
from lenet5.conditions.around import AROUND
from lenet5.conditions.drawing import INK, PAPER, SCALE, Condition, enlarged, on_paper, with_margin
from lenet5.conditions.lines import LINES
from lenet5.conditions.people import CONDITIONS, tight_crop
from lenet5.conditions.shadows import SHADOWS

__all__ = ["AROUND", "CONDITIONS", "INK", "LINES", "LINE_CONDITIONS", "PAPER", "SCALE", "SHADOWS", "STRIP_HEIGHT",
           "Condition", "condition", "enlarged", "on_paper", "tight_crop", "with_margin"]


def condition(name: str) -> Condition:
    """The condition of that name, whichever family holds it."""
    for c in CONDITIONS + SHADOWS + LINES + AROUND:
        if c.name == name:
            return c
    raise KeyError(name)
