"""Which shipped model reads people's digits best: the MNIST test digits as they are, moved and
reshaped the way handwriting varies, and written out as people's image files.

For each shipped model, the error on:
  clean        the 10,000 test digits
  distorted    the same under random affine distortions (the training ranges), one fixed draw
  distorted x2 the same with every range doubled (shift +-4 px, scale 0.8-1.2, ...)
  as images    the first N test digits rendered as a person's file (5x larger, dark ink on
               light paper, off-centre, JPEG) and read back through `lenet5 predict`'s path

    python benchmarks/readers.py [--images 1000] [--data-dir D]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lenet5.data.distort import Ranges, distort, draw_parameters
from lenet5.data.sources import fetch_and_load
from lenet5.evaluate import error_rate
from lenet5.predict import predict_images
from lenet5.pretrained import BEST, load_model, shipped
from lenet5.runtime import DEFAULT_THREADS, use_threads


def as_person_would_write(digit: np.ndarray, path: Path) -> Path:
    """A 28x28 MNIST digit as a photo-like JPEG: 5x larger, dark on light, off-centre."""
    big = Image.fromarray(digit).resize((140, 140), Image.Resampling.BILINEAR)
    page = Image.new("L", (300, 260), 0)
    page.paste(big, (90, 60))
    Image.eval(page, lambda v: 245 - int(0.85 * v)).save(path, format="JPEG", quality=80)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000, help="test digits written as image files (default: 1000)")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    print(f"{use_threads(DEFAULT_THREADS)} thread")
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    images, labels = digits.test_images, digits.test_labels
    wide = Ranges(shift=4.0, scale=0.2, squeeze=0.2, shear=0.6)
    sets = {
        "clean": images,
        "distorted": distort(images, draw_parameters(len(images), torch.Generator().manual_seed(0))),
        "distorted x2": distort(images, draw_parameters(len(images), torch.Generator().manual_seed(0), wide)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = [as_person_would_write(images[i].numpy(), Path(tmp) / f"{i}.jpg") for i in range(args.images)]
        print(f"{'model':24s} " + " ".join(f"{name:>13s}" for name in [*sets, "as images"]))
        for name in shipped():
            model, _ = load_model(name)
            errors = [error_rate(model, model.prepare(x), labels) for x in sets.values()]
            read = predict_images(model, files)
            errors.append(float(np.mean([r.digit != int(labels[i]) for i, r in enumerate(read)])))
            mark = " (default)" if name == BEST else ""
            print(f"{name + mark:24s} " + " ".join(f"{100 * e:12.2f}%" for e in errors))


if __name__ == "__main__":
    main()
