"""The ablation study: the `paper` preset, then `paper` with exactly one choice swapped, the
presets `paper-sdlm` (the paper's own SDLM training) and `paper-distort`, plus `blog` and
`modern`, each over seeds.

Every run is an ordinary run directory (`OUT/runs/<variant>-seed<k>`): a finished run whose
config matches is not run again, an interrupted one resumes from its checkpoint. The runs go
`workers` at a time on this machine, or as tasks on a Ray cluster: lenet5/study.py runs them.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy.stats import t as student_t

from lenet5.atomic import write_atomic
from lenet5.checkpoint import save_csv, save_json
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet
from lenet5.presets import get_preset, training_settings
from lenet5.runtime import DEFAULT_THREADS
from lenet5.study import Job, run_jobs, train_run
from lenet5.summary import layer_table

# SGD's peak rate, chosen on a held-out split (last 10,000 training digits): 0.003 val 1.29%,
# 0.001 val 1.46% (4 passes); 0.01 collapsed to chance at the end of the warm-up in all three
# seeds. On the literal init, 20 passes: 0.003 val 1.17%.
SGD = {"optimizer": "sgd", "lr": 0.003, "momentum": 0.9, "weight_decay": 0.0}


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    preset: str = "paper"
    model: dict[str, Any] = field(default_factory=dict)  # changes to the preset's ModelConfig
    train: dict[str, Any] = field(default_factory=dict)  # changes to the preset's TrainConfig

    def configs(self, epochs: int, train_limit: int, test_limit: int):
        preset = get_preset(self.preset)
        train = preset.train.replace(epochs=epochs, train_limit=train_limit, test_limit=test_limit, **self.train)
        return preset.model.replace(**self.model), train


VARIANTS = [
    Variant("paper", "the paper's network as printed, trained with AdamW (preset paper)"),
    Variant("activation-tanh", "plain tanh instead of 1.7159 tanh(2a/3)", model={"activation": "tanh"}),
    Variant("activation-relu", "ReLU instead of 1.7159 tanh(2a/3)", model={"activation": "relu"}),
    Variant("activation-blog", "the blog's learned row-linear map before the squashing", model={"activation": "blog"}),
    Variant("pooling-avg", "average pooling instead of trainable subsampling", model={"pooling": "avg"}),
    Variant("pooling-max", "max pooling instead of trainable subsampling", model={"pooling": "max"}),
    Variant("pooling-blog", "the blog's sum pooling + row-linear map instead of subsampling", model={"pooling": "blog"}),
    Variant("c3-full", "every C3 map reads all six S2 maps instead of Table I", model={"c3": "full"}),
    Variant("head-softmax", "softmax + cross-entropy instead of the RBF bitmaps + eq. 9",
            model={"head": "softmax", "loss": "cross-entropy"}),
    Variant("loss-mse", "eq. 8 (no competitive term) instead of eq. 9", model={"loss": "mse"}),
    Variant("j-1", "eq. 9 with j = 1 instead of 0.1", model={"j": 1.0}),
    Variant("input-resize", "resize 28->32 and normalize (0.5, 0.5) instead of padding with -0.1/1.175",
            model={"input": "resize-32"}),
    Variant("init-sqrt", "U(+-2.4/sqrt F_in) instead of the literal init U(+-2.4/F_in)", model={"init": "paper-sqrt"}),
    Variant("init-pytorch", "PyTorch's default init instead of U(+-2.4/F_in)", model={"init": "pytorch"}),
    Variant("bias-fan-in", "biases drawn like the weights instead of 0", model={"bias_init": "fan-in"}),
    Variant("optimizer-sdlm", "the paper's own training, SDLM, with its sqrt init, eta x0.25, mu 0.01 (preset paper-sdlm)",
            preset="paper-sdlm"),
    Variant("weight-decay-0", "Adam without weight decay instead of AdamW's 0.1", train={"weight_decay": 0.0}),
    Variant("optimizer-sgd", "SGD with momentum, no weight decay, instead of AdamW (same warm-up and cosine)", train=SGD),
    Variant("distortions", "random distortions, fresh each pass, no weight decay (preset paper-distort)", preset="paper-distort"),
    Variant("blog", "the popular blog version (preset blog)", preset="blog"),
    Variant("modern", "ReLU, max pooling, full C3, softmax, Adam (preset modern)", preset="modern"),
]
BY_NAME = {v.name: v for v in VARIANTS}


def select(names: list[str] | None) -> list[Variant]:
    if not names:
        return VARIANTS
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise Lenet5Error(f"unknown variant {unknown[0]!r}; choose from: {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in names]


FINISHED = "metrics.json"  # a run with this file (and its config.json) is done


def configs(job: Job):
    return BY_NAME[job.row].configs(job.epochs, job.train_limit, job.test_limit)


def settings(job: Job) -> dict[str, Any]:
    return training_settings(*configs(job), job.seed)


def execute(job: Job, after_pass=None) -> dict[str, Any]:
    return train_run(job, *configs(job), after_pass=after_pass)


def result(job: Job, summary: dict[str, Any], ran: bool) -> dict[str, Any]:
    """One row of results.csv (`ran`: trained now rather than reused; not written)."""
    variant = BY_NAME[job.row]
    model = LeNet(configs(job)[0])
    rows = layer_table(model)
    return {"variant": variant.name, "description": variant.description, "seed": job.seed,
            "diverged_in_pass": summary.get("diverged_in_pass"), "test_error": summary["test_error"], "train_error": summary["train_error"],
            "seconds_per_pass": summary["seconds_per_pass"], "parameters": model.num_parameters(),
            "multiply_adds": sum(r.connections for r in rows), "ran": ran}


def run_study(variants: list[Variant], seeds: int, epochs: int, out: Path, workers: int = 1,
              data_dir: str | None = None, train_limit: int = 0, test_limit: int = 0,
              threads: int = DEFAULT_THREADS, device: str = "cpu", ray_address: str | None = None,
              storage: Path | None = None) -> list[dict[str, Any]]:
    """Every (variant, seed) run, each on `threads` threads: `workers` at a time on this machine,
    or as tasks on a Ray cluster (lenet5/study.py); then the report in `out`."""
    jobs = [Job("ablate", v.name, s, epochs, out, data_dir, train_limit, test_limit, device) for v in variants for s in range(seeds)]
    results = run_jobs(jobs, workers, threads, ray_address, storage)
    write_results(results, out)
    return results


# --- the report ----------------------------------------------------------------------------

def difference_interval(a: list[float], b: list[float]) -> tuple[float, float] | None:
    """Mean(a) - mean(b) with a Welch 95% interval; None with fewer than two seeds a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.mean(a) - statistics.mean(b)
    if va + vb == 0:
        return diff, 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return diff, float(student_t.ppf(0.975, df)) * math.sqrt(va + vb)  # Welch's df as it is, not rounded down


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per variant, in study order: mean and spread over seeds, difference to paper."""
    by_variant: dict[str, list[dict]] = {}
    for r in results:
        by_variant.setdefault(r["variant"], []).append(r)
    paper = [100 * r["test_error"] for r in by_variant.get("paper", [])]
    rows = []
    for name, runs in by_variant.items():
        finished = [r for r in runs if r["test_error"] is not None]
        errors = [100 * r["test_error"] for r in finished]
        rows.append({"variant": name, "description": runs[0]["description"], "seeds": len(runs),
                     "per_seed": [None if r["test_error"] is None else 100 * r["test_error"] for r in runs],
                     "diverged": len(runs) - len(finished),
                     "mean": statistics.mean(errors) if errors else None,
                     "std": statistics.stdev(errors) if len(errors) > 1 else 0.0,
                     "difference": None if name == "paper" else difference_interval(errors, paper),
                     "parameters": runs[0]["parameters"], "multiply_adds": runs[0]["multiply_adds"],
                     "seconds_per_pass": statistics.median(r["seconds_per_pass"] for r in finished) if finished else None})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| variant | test error % (mean ± std) | per seed | vs paper (95% interval) | parameters | multiply-adds | s/pass |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        d = r["difference"]
        vs = "-" if r["variant"] == "paper" else ("n/a" if d is None else f"{d[0]:+.2f} ± {d[1]:.2f}")
        error = "diverged" if r["mean"] is None else f"{r['mean']:.2f} ± {r['std']:.2f}"
        if r["diverged"] and r["mean"] is not None:
            error += f" ({r['diverged']} diverged)"
        speed = "-" if r["seconds_per_pass"] is None else f"{r['seconds_per_pass']:.1f}"
        per_seed = " / ".join("diverged" if e is None else f"{e:.2f}" for e in r["per_seed"])
        lines.append(f"| {r['description']} | {error} | {per_seed} | {vs} | "
                     f"{r['parameters']:,} | {r['multiply_adds']:,} | {speed} |")
    return "\n".join(lines) + "\n"


def write_results(results: list[dict[str, Any]], out: Path) -> None:
    """OUT/results.csv (one row per run), OUT/ablation.md, OUT/ablation.png, OUT/ablation.json."""
    from lenet5.plots import plot_ablation

    out.mkdir(parents=True, exist_ok=True)
    save_csv(out / "results.csv", [{k: v for k, v in r.items() if k != "ran"} for r in results])
    rows = summarize(results)
    write_atomic(out / "ablation.md", lambda tmp: tmp.write_text(markdown(rows)))
    save_json(out / "ablation.json", rows)
    plot_ablation(rows, out / "ablation.png")
