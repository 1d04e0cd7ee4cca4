"""Training and inference speed, side by side with the common PyTorch pipeline, in one run.

Baseline: a torch Dataset that yields one PIL image at a time through resize-to-32, to-tensor and
normalize, a DataLoader (batch 128, shuffled), the blog's model and Adam: how most online
LeNet-5 code trains. It runs first, in a process whose allocator is untouched, on one thread and
on all of them. Against it, lenet5's presets through their own Trainer (whole-dataset tensors,
index batches, the allocator setting of lenet5/runtime.py; `paper`, `paper-distort` and
`paper-sdlm` through lenet5/fused.c), the same batch size, and `paper` once more at its own batch
size (32); `paper` at both thread counts, each compared with the baseline at the same count, and
once more through PyTorch alone (LENET5_KERNEL=pytorch: what the fused kernel buys). Then
what a pass spends on its checkpoint and metrics, what building fused.c costs on first use, and
inference: PyTorch, the fused kernel and, when onnxruntime is installed, the ONNX export. With a
GPU, the baseline, `paper` (at both batch sizes, and op by op), the other presets and inference
once more on it; `--gpu-only` times only those. Prints tables and writes JSON.

    python benchmarks/speed.py [--passes 3] [--digits 60000] [--out speed.json] [--gpu-only] [--isa x86-64-v3]
                               [--also-isa x86-64-v3]   # this CPU, then the same run as an AVX2 one

--isa x86-64-v3 (or x86-64-v2) times this machine as an AVX2 (or SSE4.2) one would run: fused.c
built for that CPU level, PyTorch's kernels, oneDNN and MKL held to the same instructions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lenet5 import fused
from lenet5.data.datasets import load_digits
from lenet5.data.sources import fetch_and_load
from lenet5.export import export_onnx
from lenet5.losses import pattern_loss
from lenet5.model import LeNet
from lenet5.predict import predict_images
from lenet5.presets import PRESETS
from lenet5.pretrained import load_pretrained
from lenet5.runtime import keep_freed_memory, machine_cores
from lenet5.summary import layer_table
from lenet5.train import Trainer, cpu_name

BATCH = 128
# what each CPU level allows each library: PyTorch's ATen, oneDNN (convolutions), MKL (matmul)
ISA_ENV = {"x86-64-v3": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
           "x86-64-v2": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}}
BASELINE = "baseline (PIL Dataset + DataLoader, blog model, Adam)"
TIMED = ("paper-sdlm", "blog", "modern")  # at all threads; paper-distort: paper plus the distortions' cost


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


@contextlib.contextmanager
def op_by_op():
    """LENET5_KERNEL=pytorch inside: every step through PyTorch op by op (no fused.c, no CUDA graph)."""
    os.environ["LENET5_KERNEL"] = "pytorch"
    try:
        yield
    finally:
        del os.environ["LENET5_KERNEL"]


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_baseline(images, labels, passes: int, device: str = "cpu") -> list[float]:
    model = LeNet(PRESETS["blog"].model, seed=0).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = pattern_loss("cross-entropy", 0.0)
    loader = torch.utils.data.DataLoader(PILDigits(images, labels), batch_size=BATCH, shuffle=True)
    times = []
    for _ in range(passes + 1):  # the first pass is warm-up
        t0 = time.perf_counter()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return times[1:]


def time_preset(name: str, data_dir, digits: int, passes: int, batch: int = BATCH, device: str = "cpu") -> tuple[list[float], float]:
    """Seconds of each timed pass (curvature pass included), and the median seconds that the
    pass's bookkeeping took (`Trainer.record`: checkpoint and metrics.csv, as `Trainer.fit` writes them)."""
    preset = PRESETS[name]
    config = preset.train.replace(batch_size=batch, epochs=passes + 1, train_limit=digits, test_limit=1000)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(preset.model, config, 0, Path(tmp), data_dir, device=device, progress=False)
        times, bookkeeping = [], []
        for epoch in range(1, passes + 2):
            t0 = time.perf_counter()
            trainer.prepare_pass(epoch)
            row = trainer.run_pass(epoch)
            synchronize(device)
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


def build_seconds() -> float | None:
    """What building lenet5/fused.c costs on first use (built afresh into a scratch folder)."""
    if fused.library() is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        fused.build(Path(tmp))
        return time.perf_counter() - t0


def rates(run, x, device: str = "cpu") -> tuple[float, float]:
    """Digits per second at x's batch size (median of 5 rounds of 10) and ms for one digit."""
    for _ in range(3):
        run(x)
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(10):
            run(x)
        synchronize(device)
        rounds.append(10 * len(x) / (time.perf_counter() - t0))
    one = x[:1]
    for _ in range(10):
        run(one)
    t0 = time.perf_counter()
    for _ in range(500):
        run(one)
    synchronize(device)
    return statistics.median(rounds), 1000 * (time.perf_counter() - t0) / 500


@torch.inference_mode()
def gpu_inference(data_dir) -> dict[str, dict[str, float]]:
    """The shipped `paper` on the GPU, at batch 1,000 and at batch 10,000 (the whole test set)."""
    model = load_pretrained("paper").eval().cuda()
    digits = load_digits("mnist", data_dir)
    x = model.prepare(digits.test_images[:10_000]).cuda()
    rate, single = rates(model, x[:1000], "cuda")
    large, _ = rates(model, x, "cuda")
    return {f"PyTorch on {torch.cuda.get_device_name()}": {"batch_1000_digits_per_s": rate, "single_digit_ms": single,
                                                         "batch_10000_digits_per_s": large, "batch_large": len(x)}}


@torch.no_grad()
def inference(data_dir) -> dict[str, dict[str, float]]:
    keep_freed_memory()  # as the lenet5 command does
    model = load_pretrained("paper").eval()
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
        if fused.applies(model):
            net = fused.FusedNet(model)
            rate, single = rates(net.scores, x)
            out["lenet5/fused.c (predict_all, evaluate)"] = {"batch_1000_digits_per_s": rate, "single_digit_ms": single}
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
    parser.add_argument("--gpu-only", action="store_true",
                        help="only the GPU rows and GPU inference (a GPU machine whose CPU rows are measured elsewhere)")
    parser.add_argument("--isa", choices=["native", *ISA_ENV], default="native",
                        help="time as a machine with only these instructions would run (default: native, this CPU's own)")
    parser.add_argument("--also-isa", choices=list(ISA_ENV), nargs="*", default=[],
                        help="after this run, the same run again as these CPU levels, tables and JSON beside it (default: none)")
    args = parser.parse_args()
    if args.isa != "native" and os.environ.get("LENET5_MARCH") != args.isa:
        # the libraries read their limits when they load: start again with them set
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "LENET5_MARCH": args.isa, **ISA_ENV[args.isa]})
    if args.gpu_only and not torch.cuda.is_available():
        parser.error("--gpu-only: PyTorch sees no CUDA device")
    if args.also_isa:
        run(args)
        base = [a for a in sys.argv[1:] if a not in ("--also-isa", *args.also_isa)]
        for isa in args.also_isa:
            print(f"\n--- the same run as {isa} ---", flush=True)
            out = args.out.with_name(f"{args.out.stem}-{isa}{args.out.suffix}")
            subprocess.run([sys.executable, __file__, *base, "--isa", isa, "--out", str(out)], check=True)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    """One run's tables and JSON, on this process's instructions."""
    data = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    images, labels = data.train_images[: args.digits], data.train_labels[: args.digits]
    scale = 60_000 / args.digits
    cores = machine_cores()
    counts = sorted({1, cores})
    own = PRESETS["paper"].train.batch_size
    rows = []  # (label, threads, device, seconds of each pass, preset, seconds of bookkeeping or None)
    rate = {}  # threads -> matmul multiply-adds per second
    both = ((BATCH, "lenet5 paper"), (own, f"lenet5 paper at its own batch size ({own})"))

    def timed(label: str, name: str, threads: int, device: str = "cpu", batch: int = BATCH) -> None:
        times, extra = time_preset(name, args.data_dir, args.digits, args.passes, batch, device)
        rows.append((label, threads, device, times, name, extra))

    if not args.gpu_only:
        for threads in counts:
            torch.set_num_threads(threads)
            rate[threads] = matmul_rate()
            rows.append((BASELINE, threads, "cpu", time_baseline(images, labels, args.passes), "blog", None))
        for threads in counts:  # the default preset at both thread counts and both batch sizes
            torch.set_num_threads(threads)
            for batch, label in both:
                timed(label, "paper", threads, batch=batch)
        with op_by_op():
            for batch, label in both:
                timed(label + ", PyTorch path", "paper", cores, batch=batch)
        for name in TIMED:
            timed(f"lenet5 {name}", name, cores)
    if torch.cuda.is_available():  # the same rows on the GPU, and the op-by-op path (what the CUDA graph buys)
        rows.append((BASELINE, cores, "cuda", time_baseline(images, labels, args.passes, "cuda"), "blog", None))
        for batch, label in both:
            timed(label, "paper", cores, "cuda", batch)
        with op_by_op():
            timed("lenet5 paper, op by op (no CUDA graph)", "paper", cores, "cuda")
        for name in (*TIMED, "paper-distort"):
            timed(f"lenet5 {name}", name, cores, "cuda")
    base = {(threads, device): statistics.median(times) * scale for label, threads, device, times, _, _ in rows if label == BASELINE}
    build = None if args.gpu_only else build_seconds()
    gpu = f"; GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    isa = "" if args.isa == "native" else f" run as {args.isa} (fused.c -march={args.isa}, {ISA_ENV[args.isa]})"
    print(f"torch {torch.__version__}, {cpu_name()}{isa}, {cores} cores{gpu}; fp32 matmul "
          + (", ".join(f"{r / 1e9:.1f} G multiply-adds/s on {t} thread{'s' if t > 1 else ''}" for t, r in rate.items()) or "not measured")
          + f"; batch {BATCH} unless said; seconds per pass over 60,000 digits (median of {args.passes})"
          + ("" if build is None else f"; building lenet5/fused.c on first use: {build:.1f} s"))
    print(f"{'pipeline':55s} {'device':>7s} {'threads':>7s} {'s/pass':>7s} {'digits/s':>9s} {'speed-up':>8s} {'floor s':>8s} {'x floor':>7s} {'ckpt+csv':>8s}")
    report = {"cpu": cpu_name(), "isa": args.isa, "cores": cores, "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
              "matmul_multiply_adds_per_s": {str(t): r for t, r in rate.items()}, "fused_build_s": build, "rows": []}
    for label, threads, device, times, preset, extra in rows:
        seconds = statistics.median(times) * scale
        speedup = base[(threads, device)] / seconds
        madds = sum(r.connections for r in layer_table(LeNet(PRESETS[preset].model)))
        floor = 3 * madds * 60_000 / rate[threads] if device == "cpu" else None  # forward + two backward products per connection
        share = "" if extra is None else f"{100 * extra / seconds:7.1f}%"
        floors = f"{floor:8.2f} {seconds / floor:6.1f}x" if floor else f"{'':8s} {'':7s}"
        print(f"{label:55s} {device:>7s} {threads:7d} {seconds:7.2f} {60_000 / seconds:9.0f} {speedup:7.1f}x {floors} {share}")
        report["rows"].append({"pipeline": label, "device": device, "threads": threads, "seconds_per_pass": seconds,
                               "speedup": speedup, "floor_s": floor, "checkpoint_and_metrics_s": extra})
    torch.set_num_threads(cores)
    report["inference"] = {} if args.gpu_only else inference(args.data_dir)
    if torch.cuda.is_available():
        report["inference"].update(gpu_inference(args.data_dir))
    print(f"{'inference, paper (' + str(cores) + ' threads)':55s} {'digits/s at batch 1000':>23s} {'ms per digit':>13s} {'predict one PNG':>16s}")
    for engine, r in report["inference"].items():
        png = f"{r['predict_png_ms']:13.1f} ms" if "predict_png_ms" in r else f"{'-':>16s}"
        large = f"  (batch {r['batch_large']:,}: {r['batch_10000_digits_per_s']:,.0f} digits/s)" if "batch_large" in r else ""
        print(f"{engine:55s} {r['batch_1000_digits_per_s']:23,.0f} {r['single_digit_ms']:13.3f} {png}{large}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
