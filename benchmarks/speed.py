"""Training and inference speed, side by side with the common PyTorch pipeline, in one run.

Baseline: a torch Dataset that yields one PIL image at a time through resize-to-32, to-tensor and
normalize, a DataLoader (batch 128, shuffled), the blog's model and Adam: how most online
LeNet-5 code trains. It runs first, in a process whose allocator is untouched. Against it,
lenet5's presets through their own Trainer (whole-dataset tensors, index batches, the allocator
setting of lenet5/runtime.py), the same batch size, and `paper` once more at its own batch
size (32). Then what a pass spends on its checkpoint and metrics, and inference: PyTorch and,
when onnxruntime is installed, the ONNX export. Prints tables and writes JSON.

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
from lenet5.export import export_onnx
from lenet5.losses import pattern_loss
from lenet5.model import LeNet5
from lenet5.predict import predict_images
from lenet5.presets import PRESETS
from lenet5.pretrained import load_pretrained
from lenet5.runtime import keep_freed_memory
from lenet5.summary import layer_table
from lenet5.train import Trainer

BATCH = 128

TIMED = ("paper", "paper-sdlm", "blog", "modern")  # paper-distort: paper plus the distortions' cost


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


def time_preset(name: str, data_dir, digits: int, passes: int, batch: int = BATCH) -> tuple[list[float], float]:
    """Seconds of each timed pass (curvature pass included), and the median seconds that the
    pass's bookkeeping took (`Trainer.record`: checkpoint and metrics.csv, as `Trainer.fit` writes them)."""
    preset = PRESETS[name]
    config = preset.train.replace(batch_size=batch, epochs=passes + 1, train_limit=digits, test_limit=1000)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(preset.model, config, 0, Path(tmp), data_dir, progress=False)
        train_inputs = trainer.inputs(trainer.data["train"].images)
        times, bookkeeping = [], []
        for epoch in range(1, passes + 2):
            t0 = time.perf_counter()
            trainer.prepare_pass(epoch)
            row = trainer.run_pass(epoch, train_inputs)
            t1 = time.perf_counter()
            trainer.record(epoch, row)
            times.append(t1 - t0)
            bookkeeping.append(time.perf_counter() - t1)
    return times[1:], statistics.median(bookkeeping[1:])


def matmul_rate() -> float:
    """Measured fp32 multiply-adds per second of a 1024x1024 matrix product."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    t0 = time.perf_counter()
    for _ in range(20):
        a @ b
    return 20 * 1024**3 / (time.perf_counter() - t0)


def rates(run, x: torch.Tensor) -> tuple[float, float]:
    """Digits per second at x's batch size (best of 5 rounds of 10) and ms for one digit."""
    for _ in range(3):
        run(x)
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(10):
            run(x)
        best = max(best, 10 * len(x) / (time.perf_counter() - t0))
    one = x[:1]
    for _ in range(10):
        run(one)
    t0 = time.perf_counter()
    for _ in range(500):
        run(one)
    return best, 1000 * (time.perf_counter() - t0) / 500


@torch.no_grad()
def inference(data_dir) -> dict[str, dict[str, float]]:
    keep_freed_memory()  # as the lenet5 command does
    model = load_pretrained("paper")
    digits = load_digits("mnist", data_dir)
    x = model.prepare(digits.test_images[:1000])
    out = {}
    rate, single = rates(model, x)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "digit.png"
        Image.fromarray(255 - digits.test_images[0].numpy()).resize((200, 200)).save(png)
        predict_images(model, [png])
        t0 = time.perf_counter()
        for _ in range(50):
            predict_images(model, [png])
        end_to_end = (time.perf_counter() - t0) / 50
        out["PyTorch"] = {"batch_1000_digits_per_s": rate, "single_digit_ms": single, "predict_png_ms": 1000 * end_to_end}
        try:
            import onnxruntime
        except ImportError:
            print("onnxruntime not installed: ONNX rows skipped (pip install -e '.[export]')")
            return out
        path = Path(tmp) / "paper.onnx"
        export_onnx(model, path)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        rate, single = rates(lambda batch: session.run(None, {"digits": batch}), x.numpy())
        out["ONNX Runtime"] = {"batch_1000_digits_per_s": rate, "single_digit_ms": single}
    return out


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
    bookkeeping = {}  # pipeline -> median seconds a pass spends writing its checkpoint and metrics
    for name in TIMED:
        times, bookkeeping[f"lenet5 {name}"] = time_preset(name, args.data_dir, args.digits, args.passes)
        rows[f"lenet5 {name}"] = (times, name)
    own = PRESETS["paper"].train.batch_size
    label = f"lenet5 paper at its own batch size ({own})"
    times, bookkeeping[label] = time_preset("paper", args.data_dir, args.digits, args.passes, batch=own)
    rows[label] = (times, "paper")
    base = statistics.median(rows[next(iter(rows))][0]) * scale
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; fp32 matmul {rate / 1e9:.1f} G multiply-adds/s; "
          f"batch {BATCH} unless said; seconds per pass over 60,000 digits (median of {args.passes})")
    print(f"{'pipeline':55s} {'s/pass':>7s} {'digits/s':>9s} {'speed-up':>8s} {'floor s':>8s} {'x floor':>7s} {'ckpt+csv':>8s}")
    report = {"matmul_multiply_adds_per_s": rate, "threads": torch.get_num_threads(), "rows": []}
    for label, (times, preset) in rows.items():
        seconds = statistics.median(times) * scale
        madds = sum(r.connections for r in layer_table(LeNet5(PRESETS[preset].model)))
        floor = 3 * madds * 60_000 / rate  # forward + two backward products per connection
        extra = bookkeeping.get(label)
        share = "" if extra is None else f"{100 * extra / seconds:7.1f}%"
        print(f"{label:55s} {seconds:7.2f} {60_000 / seconds:9.0f} {base / seconds:7.1f}x {floor:8.2f} {seconds / floor:6.1f}x {share}")
        report["rows"].append({"pipeline": label, "seconds_per_pass": seconds, "speedup": base / seconds, "floor_s": floor,
                               "checkpoint_and_metrics_s": extra})
    report["inference"] = inference(args.data_dir)
    print(f"{'inference, paper':55s} {'digits/s at batch 1000':>23s} {'ms per digit':>13s} {'predict one PNG':>16s}")
    for engine, r in report["inference"].items():
        png = f"{r['predict_png_ms']:13.1f} ms" if "predict_png_ms" in r else f"{'-':>16s}"
        print(f"{engine:55s} {r['batch_1000_digits_per_s']:23,.0f} {r['single_digit_ms']:13.3f} {png}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")

if __name__ == "__main__":
    main()
