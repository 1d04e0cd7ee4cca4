"""How the `paper-sdlm` preset's settings were chosen: SDLM readings on a held-out split.

Every run trains on the first 50,000 training digits and is scored on the last 10,000
(never on the test set), 20 passes, one seed, one thread. Prints a table and writes JSON.
The first five rows chose the first SDLM preset; the `eta x0.25` rows are the second search.

    python benchmarks/choose_paper_training.py [--only SUBSTRING...] [--workers 2] [--out runs/choose]
"""

from __future__ import annotations

import argparse
import json
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

VARIANTS = {
    # name: (model config changes, train config changes)
    "literal: init 2.4/F, eta x1, batch 32": ({"init": "paper"}, {"eta_scale": 1.0, "mu": 0.02}),
    "init 2.4/sqrt(F), eta x0.5, batch 32": ({"init": "paper-sqrt"}, {"eta_scale": 0.5, "mu": 0.02}),
    "init 2.4/sqrt(F), eta x1, batch 32": ({"init": "paper-sqrt"}, {"eta_scale": 1.0, "mu": 0.02}),
    "init 2.4/sqrt(F), eta x0.5, batch 16": ({"init": "paper-sqrt"}, {"eta_scale": 0.5, "mu": 0.02, "batch_size": 16}),
    "init 2.4/sqrt(F), eta x2.5, mu 0.1, batch 32": ({"init": "paper-sqrt"}, {"eta_scale": 2.5, "mu": 0.1}),
    "init 2.4/sqrt(F), eta x0.25, mu 0.01, batch 32": ({"init": "paper-sqrt"}, {"eta_scale": 0.25, "mu": 0.01}),
    "init 2.4/sqrt(F), eta x0.25, mu 0.01, batch 16": ({"init": "paper-sqrt"}, {"eta_scale": 0.25, "mu": 0.01, "batch_size": 16}),
    "init 2.4/sqrt(F), eta x0.35, mu 0.01, batch 32": ({"init": "paper-sqrt"}, {"eta_scale": 0.35, "mu": 0.01}),
    "init 2.4/sqrt(F), eta x0.25, mu 0.005, batch 32": ({"init": "paper-sqrt"}, {"eta_scale": 0.25, "mu": 0.005}),
    "Adam 2e-3 warmup-cosine, batch 32 (reference)": ({"init": "paper"}, {"optimizer": "adam", "schedule": "warmup-cosine", "lr": 2e-3}),
}


def run(name: str, out: Path, epochs: int, seed: int) -> dict:
    torch.set_num_threads(1)
    from lenet5.errors import Lenet5Error
    from lenet5.presets import PRESETS
    from lenet5.train import Trainer

    model_changes, train_changes = VARIANTS[name]
    preset = PRESETS["paper-sdlm"]
    train = preset.train.replace(holdout=10_000, epochs=epochs, **train_changes)
    run_dir = out / re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("_")
    try:
        summary = Trainer(preset.model.replace(**model_changes), train, seed, run_dir, progress=False,
                          log=lambda s: print(f"[{name}] {s}", flush=True)).fit()
    except Lenet5Error as e:
        return {"variant": name, "error": str(e)}
    return {"variant": name, "val_error": summary["val_error"], "train_error": summary["train_error"],
            "test_error": summary["test_error"], "seconds_per_pass": summary["seconds_per_pass"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="parallel runs, one thread each (default: 2)")
    parser.add_argument("--epochs", type=int, default=20, help="passes per run (default: 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("runs/choose"), help="where runs go (default: runs/choose)")
    parser.add_argument("--only", nargs="+", default=None, metavar="SUBSTRING",
                        help="run only the readings whose name contains one of these (default: all)")
    args = parser.parse_args()
    names = [n for n in VARIANTS if not args.only or any(part in n for part in args.only)]
    if not names:
        parser.error(f"--only matches no reading; the readings are: {'; '.join(VARIANTS)}")
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, names, [args.out] * len(names), [args.epochs] * len(names), [args.seed] * len(names)))
    print(f"\n{'variant':50s} {'held-out':>9s} {'train':>7s} {'s/pass':>7s}")
    for r in results:
        if "error" in r:
            print(f"{r['variant']:50s} {r['error']}")
        else:
            print(f"{r['variant']:50s} {100 * r['val_error']:8.2f}% {100 * r['train_error']:6.2f}% {r['seconds_per_pass']:7.1f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
