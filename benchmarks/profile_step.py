"""Where a training step's time goes: torch.profiler over the trainer's own steps.

Runs a preset's training pass on the first N training digits under torch.profiler and prints
the operators that take the most CPU time (self time, forward and backward together), the
milliseconds per step, and the share of time spent outside the operators (Python, autograd).
The paper's network on the CPU runs through lenet5/fused.c, one call the profiler does not see
into (its time is the `lenet5/fused.c` row; a fused Adam's step there is lenet5/lean_adam.py's,
its own row); --pytorch profiles the PyTorch path instead.

    python benchmarks/profile_step.py [--preset paper] [--batch 128] [--digits 12800] [--pytorch]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from lenet5.lean_adam import LeanAdam
from lenet5.presets import get_preset
from lenet5.train import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper", help="preset to profile (default: paper)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default: 128, as benchmarks/speed.py)")
    parser.add_argument("--digits", type=int, default=12_800, help="training digits in the profiled pass (default: 12800)")
    parser.add_argument("--top", type=int, default=15, help="operators to list (default: 15)")
    parser.add_argument("--data-dir", default=None, help="dataset folder (default: $LENET5_DATA or ~/.cache/lenet5)")
    parser.add_argument("--pytorch", action="store_true", help="profile the PyTorch path, not lenet5/fused.c (default: off)")
    args = parser.parse_args()
    if args.pytorch:
        os.environ["LENET5_KERNEL"] = "pytorch"
    preset = get_preset(args.preset)
    config = preset.train.replace(batch_size=args.batch, epochs=2, train_limit=args.digits, test_limit=100)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(preset.model, config, 0, Path(tmp), args.data_dir, progress=False)
        trainer.prepare_pass(1)
        trainer.run_pass(1)  # warm-up
        if trainer.steps.kernel == "fused.c":  # name the kernel's calls in the profile
            gradients = trainer.steps.net.gradients
            trainer.steps.net.gradients = lambda *a: record_function("lenet5/fused.c")(gradients)(*a)
        update = trainer.steps.update
        if isinstance(getattr(update, "__self__", None), LeanAdam):  # the optimizer's step, made without Optimizer.step
            trainer.steps.update = lambda: record_function("Optimizer.step (lenet5/lean_adam.py)")(update)()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            t0 = time.perf_counter()
            trainer.prepare_pass(2)
            trainer.run_pass(2)
            wall = time.perf_counter() - t0
    steps = -(-args.digits // args.batch)
    events = [e for e in prof.key_averages() if not e.key.startswith("ProfilerStep")]
    # self time of the operators that do the work (autograd's wrappers have their own rows)
    total_self = sum(e.self_cpu_time_total for e in events) / 1e6
    print(f"{args.preset}, batch {args.batch}, {torch.get_num_threads()} threads: {1000 * wall / steps:.2f} ms per step "
          f"({steps} steps, curvature pass included); operators' self time {100 * total_self / wall:.0f}% of the wall time")
    print(f"{'operator':45s} {'self ms/step':>12s} {'share':>6s} {'calls/step':>10s}")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[: args.top]:
        print(f"{e.key[:45]:45s} {e.self_cpu_time_total / 1e3 / steps:12.3f} {100 * e.self_cpu_time_total / 1e6 / wall:5.1f}% "
              f"{e.count / steps:10.1f}")


if __name__ == "__main__":
    main()
