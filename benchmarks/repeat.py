"""Does one seed give the same weights twice on this device? Trains a preset twice with the same
seed for a few passes, in one process, and prints each run's seconds per pass, loss and test
error, and whether the two runs' weights agree bit for bit (else the largest difference).

    python benchmarks/repeat.py --device cuda --passes 2 [--deterministic] [--preset paper]

Set LENET5_KERNEL=pytorch to run the steps through PyTorch op by op (no fused.c, no CUDA graph).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from lenet5.presets import get_preset
from lenet5.runtime import use_deterministic_algorithms
from lenet5.train import Trainer


def train_once(preset: str, passes: int, seed: int, device: str, data_dir, out: Path) -> tuple[Trainer, dict, float]:
    p = get_preset(preset)
    trainer = Trainer(p.model, p.train.replace(epochs=passes), seed, out, data_dir, device=device, progress=False, log=lambda s: None)
    t0 = time.perf_counter()
    summary = trainer.fit()
    return trainer, summary, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--deterministic", action="store_true", help="PyTorch's deterministic algorithms (lenet5 train --deterministic)")
    parser.add_argument("--data-dir", default=None, help="dataset folder (default: $LENET5_DATA or ~/.cache/lenet5)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: PyTorch sees no CUDA device")
    if args.deterministic:
        use_deterministic_algorithms()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(2):
            trainer, summary, wall = train_once(args.preset, args.passes, args.seed, args.device, args.data_dir, Path(tmp) / str(k))
            per_pass = [r["seconds"] for r in summary["history"]]
            print(f"run {k + 1}: {args.preset}, kernel {trainer.rounding['kernel']}, {trainer.rounding['device_name']}, "
                  f"deterministic {trainer.rounding['deterministic']}: s/pass {' '.join(f'{s:.2f}' for s in per_pass)} "
                  f"(median {statistics.median(per_pass):.2f}), {wall:.1f} s with scoring and checkpoints; "
                  f"last loss {summary['history'][-1]['train_loss']:.6f}, test error {100 * summary['test_error']:.2f}%")
            runs.append([p.detach().cpu() for p in trainer.model.parameters()])
    same = all(torch.equal(a, b) for a, b in zip(*runs))
    worst = max((a - b).abs().max().item() for a, b in zip(*runs))
    print(f"same weights bit for bit: {'yes' if same else 'NO'} (largest difference {worst:.3g})")


if __name__ == "__main__":
    main()
