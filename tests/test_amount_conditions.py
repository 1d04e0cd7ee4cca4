import numpy as np

from lenet5.conditions import LINE_CONDITIONS, STRIP_HEIGHT


def test_narrow_rules_and_squares_cross_the_line_every_so_many_mnist_pixels_in_its_ink():
    pixel = 4  # a strip 4x MNIST's scale
    dark_ink = np.full((STRIP_HEIGHT * pixel, 400), 230, np.uint8)
    dark_ink[60:110, 100:140] = 20  # a blot of ink
    for image, ink in ((dark_ink, 20), (255 - dark_ink, 235)):  # dark ink on light paper, and light on dark
        lined, squared = LINE_CONDITIONS["lined"](image), LINE_CONDITIONS["squared"](image)
        rows = np.nonzero((lined == ink).all(axis=1))[0]
        assert list(rows) == [24, 72, 120]  # every 12 MNIST px from half a spacing down, 0.2 px thick: 1 px
        assert not (lined != image)[:, :].any(axis=1)[np.setdiff1d(np.arange(len(lined)), rows)].any()
        assert list(np.nonzero((squared == ink).all(axis=1))[0]) == [20, 60, 100, 140]
        assert list(np.nonzero((squared == ink).all(axis=0))[0]) == list(range(20, 400, 40))
        assert lined.dtype == squared.dtype == np.uint8 and lined.shape == squared.shape == image.shape
