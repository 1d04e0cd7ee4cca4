"""A stranger's check: handwritten digits neither from MNIST nor made by lenet5/conditions/.
UCI's optical recognition of handwritten digits (scikit-learn's `load_digits`, shipped inside
scikit-learn: 1,797 digits by 43 writers, scanned and averaged to 8x8 in 17 levels), written as
112x112 PNG files by pixel repetition, dark ink on light paper, and read by each shipped model
through `lenet5 predict`'s path.

    pip install -e ".[sklearn]" && python benchmarks/uci_digits.py [--models paper-pens ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from lenet5.predict import predict_images
from lenet5.pretrained import load_model, shipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=None, help="models to read with (default: every shipped one)")
    args = parser.parse_args()
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("uci_digits: needs scikit-learn: pip install -e \".[sklearn]\"", file=sys.stderr)
        return 2
    uci = load_digits()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, image in enumerate(uci.images):
            paths.append(Path(tmp) / f"{i:04d}.png")
            grey = (255 - image / 16 * 230).astype(np.uint8)
            Image.fromarray(grey).resize((112, 112), Image.Resampling.NEAREST).save(paths[-1])
        for name in args.models or shipped():
            read = predict_images(load_model(name)[0], paths)
            right = np.mean([r.digit == t for r, t in zip(read, uci.target)])
            print(f"{name:16s} {100 * right:.1f}% of {len(paths):,} UCI digits read right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
