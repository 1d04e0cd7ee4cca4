"""Training and inference speed, side by side with the common PyTorch pipeline, in one run.

Baseline: a torch Dataset that yields one PIL image at a time through resize-to-32, to-tensor and
normalize, a DataLoader (batch 128, shuffled), the blog's model and Adam: how most online
LeNet-5 code trains. Against it, lenet5's presets with the project's own data path (whole-
dataset tensors, index batches), the same batch size. Prints a table and writes JSON.

    python benchmarks/speed.py [--passes 3] [--digits 60000] [--out speed.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lenet5.data.datasets import load_digits
from lenet5.data.sources import fetch_and_load
from lenet5.losses import pattern_loss
from lenet5.model import LeNet5
from lenet5.predict import predict_images
from lenet5.presets import PRESETS
from lenet5.pretrained import load_pretrained
from lenet5.summary import layer_table
from lenet5.train import Trainer

BATCH = 128


class PILDigits(torch.utils.data.Dataset):
    """The common pipeline: one PIL image per item, resized, converted, normalized."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images.numpy(), labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        image = Image.fromarray(self.images[i]).resize((32, 32), Image.Resampling.BILINEAR)
        x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)[None]
        return (x - 0.5) / 0.5, self.labels[i]


def time_baseline(images, labels, passes: int) -> list[float]:
    model = LeNet5(PRESETS["blog"].model, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = pattern_loss("cross-entropy", 0.0)
    loader = torch.utils.data.DataLoader(PILDigits(images, labels), batch_size=BATCH, shuffle=True)
    times = []
    for _ in range(passes + 1):  # the first pass is warm-up
        t0 = time.perf_counter()
        for x, y in loader:
            loss = loss_fn(model(x), y).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - t0)
    return times[1:]


def time_preset(name: str, data_dir, digits: int, passes: int) -> list[float]:
    preset = PRESETS[name]
    config = preset.train.replace(batch_size=BATCH, epochs=passes + 1, train_limit=digits, test_limit=1000)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(preset.model, config, 0, Path(tmp), data_dir, progress=False)
        train_inputs = trainer.inputs(trainer.data["train"].images)
        times = []
        for epoch in range(1, passes + 2):
            t0 = time.perf_counter()
            trainer.prepare_pass(epoch)
            trainer.run_pass(epoch, train_inputs)
            times.append(time.perf_counter() - t0)
    return times[1:]


def matmul_rate() -> float:
    """Measured fp32 multiply-adds per second of a 1024x1024 matrix product."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    t0 = time.perf_counter()
    for _ in range(20):
        a @ b
    return 20 * 1024**3 / (time.perf_counter() - t0)


@torch.no_grad()
def inference(data_dir) -> dict[str, float]:
    model = load_pretrained("paper")
    digits = load_digits("mnist", data_dir)
    x = model.prepare(digits.test_images[:1000])
    model(x)
    t0 = time.perf_counter()
    for _ in range(10):
        model(x)
    batch_rate = 10_000 / (time.perf_counter() - t0)
    one = x[:1]
    for _ in range(10):
        model(one)
    t0 = time.perf_counter()
    for _ in range(200):
        model(one)
    single = (time.perf_counter() - t0) / 200
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "digit.png"
        Image.fromarray(255 - digits.test_images[0].numpy()).resize((200, 200)).save(png)
        predict_images(model, [png])
        t0 = time.perf_counter()
        for _ in range(50):
            predict_images(model, [png])
        end_to_end = (time.perf_counter() - t0) / 50
    return {"batch_1000_digits_per_s": batch_rate, "single_digit_ms": 1000 * single, "predict_png_ms": 1000 * end_to_end}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=3, help="timed passes per pipeline, after one warm-up (default: 3)")
    parser.add_argument("--digits", type=int, default=60_000, help="training digits per pass (default: 60000)")
    parser.add_argument("--data-dir", default=None, help="dataset folder (default: $LENET5_DATA or ~/.cache/lenet5)")
    parser.add_argument("--out", type=Path, default=Path("speed.json"), help="JSON output (default: speed.json)")
    args = parser.parse_args()
    data = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    images, labels = data.train_images[: args.digits], data.train_labels[: args.digits]
    scale = 60_000 / args.digits
    rate = matmul_rate()
    rows = {"baseline (PIL Dataset + DataLoader, blog model, Adam)": (time_baseline(images, labels, args.passes), "blog")}
    for name in PRESETS:
        rows[f"lenet5 {name}"] = (time_preset(name, args.data_dir, args.digits, args.passes), name)
    base = statistics.median(rows[next(iter(rows))][0]) * scale
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; fp32 matmul {rate / 1e9:.1f} G multiply-adds/s; "
          f"batch {BATCH}; seconds per pass over 60,000 digits (median of {args.passes})")
    print(f"{'pipeline':55s} {'s/pass':>7s} {'digits/s':>9s} {'speed-up':>8s} {'floor s':>8s} {'x floor':>7s}")
    report = {"matmul_multiply_adds_per_s": rate, "threads": torch.get_num_threads(), "rows": []}
    for label, (times, preset) in rows.items():
        seconds = statistics.median(times) * scale
        madds = sum(r.connections for r in layer_table(LeNet5(PRESETS[preset].model)))
        floor = 3 * madds * 60_000 / rate  # forward + two backward products per connection
        print(f"{label:55s} {seconds:7.2f} {60_000 / seconds:9.0f} {base / seconds:7.1f}x {floor:8.2f} {seconds / floor:6.0f}x")
        report["rows"].append({"pipeline": label, "seconds_per_pass": seconds, "speedup": base / seconds, "floor_s": floor})
    inf = inference(args.data_dir)
    print(f"inference (paper, PyTorch): {inf['batch_1000_digits_per_s']:,.0f} digits/s at batch 1000; "
          f"{inf['single_digit_ms']:.2f} ms per single digit (model only); {inf['predict_png_ms']:.1f} ms for predict on one PNG")
    report["inference"] = inf
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
