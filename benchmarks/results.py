"""The README's results table: each preset over several seeds on the full MNIST split.

Each run is an ordinary run directory (OUT/<variant>-seed<k>); a finished one is not re-run.
Runs go to a pool of worker processes, one thread each.

    python benchmarks/results.py [--seeds 3] [--epochs 20] [--workers 2] [--out runs/results]
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

ADAM = {"optimizer": "adam", "schedule": "warmup-cosine", "lr": 2e-3}
VARIANTS = {
    # name: (preset, train config changes)
    "paper": ("paper", {}),
    "paper network, Adam instead of SDLM": ("paper", ADAM),
    "blog": ("blog", {}),
    "modern": ("modern", {}),
    "paper, distortions (fresh each pass)": ("paper", {"distort": "fresh"}),
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")


def run(name: str, seed: int, out: Path, epochs: int) -> dict:
    torch.set_num_threads(1)
    from lenet5.presets import PRESETS
    from lenet5.train import Trainer

    preset_name, changes = VARIANTS[name]
    preset = PRESETS[preset_name]
    run_dir = out / f"{slug(name)}-seed{seed}"
    if (run_dir / "metrics.json").exists():
        summary = json.loads((run_dir / "metrics.json").read_text())
    else:
        config = preset.train.replace(epochs=epochs, **changes)
        summary = Trainer(preset.model, config, seed, run_dir, progress=False,
                          log=lambda s: print(f"[{name} seed {seed}] {s}", flush=True)).fit(resume=True)
    return {"variant": name, "seed": seed, "test_error": summary["test_error"], "train_error": summary["train_error"],
            "seconds_per_pass": summary["seconds_per_pass"], "batch_size": summary["train_config"]["batch_size"],
            "optimizer": summary["train_config"]["optimizer"]}


def table(results: list[dict]) -> str:
    lines = ["| variant | test error % (mean ± std) | per seed | batch | optimizer | s/pass (1 thread) |",
             "|---|---|---|---|---|---|"]
    for name in VARIANTS:
        rows = [r for r in results if r["variant"] == name]
        if not rows:
            continue
        errors = [100 * r["test_error"] for r in rows]
        spread = statistics.stdev(errors) if len(errors) > 1 else 0.0
        per_seed = " / ".join(f"{e:.2f}" for e in errors)
        lines.append(f"| {name} | {statistics.mean(errors):.2f} ± {spread:.2f} | {per_seed} | {rows[0]['batch_size']} | "
                     f"{rows[0]['optimizer']} | {statistics.median(r['seconds_per_pass'] for r in rows):.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (default: 3)")
    parser.add_argument("--epochs", type=int, default=20, help="passes per run (default: 20)")
    parser.add_argument("--workers", type=int, default=2, help="parallel runs, one thread each (default: 2)")
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run (default: all)")
    parser.add_argument("--out", type=Path, default=Path("runs/results"), help="where runs go (default: runs/results)")
    args = parser.parse_args()
    names = args.only or list(VARIANTS)
    jobs = [(name, seed) for name in names for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, [n for n, _ in jobs], [s for _, s in jobs], [args.out] * len(jobs), [args.epochs] * len(jobs)))
    print(table(results))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
