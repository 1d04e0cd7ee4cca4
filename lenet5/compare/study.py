"""The comparison as a study (lenet5/study.py runs it): one run directory per (row, seed).

A network row is an ordinary training run (its checkpoint, metrics.json, config.json), then
scored on the test set. Every row ends with `row.json`: test error, the rejection needed for
0.5% error, variables, multiply-adds, time here. Rows built on LeNet-4 (K-NN and local learning
in place of its last layer) read the finished LeNet-4 run of the same seed, so they run after it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import torch

from lenet5.architectures import ARCHITECTURES
from lenet5.checkpoint import load_checkpoint, save_json
from lenet5.compare import boosting, classical, tangent
from lenet5.compare.classical import Outcome
from lenet5.compare.rows import BY_NAME, Row
from lenet5.data.sources import fetch_and_load
from lenet5.evaluate import REJECTION_TARGET, rejection_curve, wilson_interval
from lenet5.model import LeNet, ModelConfig
from lenet5.errors import Lenet5Error
from lenet5.presets import get_preset, same_settings, training_settings
from lenet5.study import Job, run_job, train_run
from lenet5.summary import layer_table
from lenet5.train import CHECKPOINT, Split

FINISHED = "row.json"
CLASSICAL = {"pairwise": classical.pairwise, "knn": classical.knn_pixels, "deslant-knn": classical.knn_deslanted,
             "pca-quadratic": classical.pca_quadratic, "rbf": classical.rbf, "svm": classical.svm_poly4,
             "tangent": tangent.tangent_distance}
ON_LENET4 = ("lenet4-knn", "lenet4-local")  # methods that read the LeNet-4 run
LOCAL_NEIGHBOURS = 100  # local learning: training digits each test digit's linear classifier is fitted on
LOCAL_RIDGE = 1e-2  # its ridge, relative to the mean of the Gram matrix's diagonal
# the constants each method depends on, stored in its rows' config.json: a changed one is re-run
CONSTANTS = {"knn": {"k": classical.K, "candidates": classical.CANDIDATES},
             "deslant-knn": {"k": classical.K, "candidates": classical.CANDIDATES, "crop": 20},
             "pca-quadratic": {"components": classical.PCA_COMPONENTS, "ridge": classical.RIDGE},
             "rbf": {"centres": classical.RBF_CENTRES, "ridge": classical.RIDGE},
             "pairwise": {"alpha": 1.0, "scores": "votes + margins"},
             "svm": {"train": classical.SVM_TRAIN, "kernel": "cos^4", "C": classical.SVM_C, "scores": "votes + margins"},
             "tangent": {"candidates": tangent.CANDIDATES, "k": classical.K, "smooth": tangent.SMOOTH},
             "lenet4-knn": {"k": classical.K, "candidates": classical.CANDIDATES},
             "lenet4-local": {"neighbours": LOCAL_NEIGHBOURS, "ridge": LOCAL_RIDGE},
             "boosted": {"patterns": boosting.PATTERNS, "max_draws": boosting.MAX_DRAWS}}


def limit(row: Row, job: Job) -> int:
    """Training digits: the row's own limit (Fig. 6) and the study's (a quick run), the smaller."""
    return min((n for n in (row.train_limit, job.train_limit) if n), default=0)


def configs(row: Row, job: Job, architecture: str | None = None) -> tuple[ModelConfig, Any]:
    """A network row's model and training: LeNet-5 by the presets paper / paper-distort; the
    other networks with a softmax head and the same trainings (our defaults, said so)."""
    preset = get_preset("paper-distort" if row.distort else "paper")
    name = architecture or row.architecture
    model = preset.model if name == "lenet5" else ModelConfig(
        architecture=name, input=ARCHITECTURES[name].input, head="softmax", loss="cross-entropy")
    train = preset.train.replace(epochs=job.epochs, train_limit=limit(row, job), test_limit=job.test_limit)
    return model, train


def settings(job: Job) -> dict[str, Any]:
    row = BY_NAME[job.row]
    if row.method == "network":
        return training_settings(*configs(row, job), job.seed)  # what the Trainer itself writes
    nets = {"lenet4": training_settings(*configs(row, job, "lenet4"), job.seed)} if row.method in ON_LENET4 else {}
    if row.method == "boosted":
        nets = {"nets": training_settings(*configs(dataclasses.replace(row, distort=True), job, "lenet4"), job.seed)}
    return {"row": row.name, "method": row.method, "seed": job.seed, "train_limit": limit(row, job),
            "test_limit": job.test_limit, "epochs": job.epochs, "constants": CONSTANTS[row.method], **nets}


# --- running a row ---------------------------------------------------------------------------

def digits(job: Job, row: Row) -> tuple[Split, Split]:
    data = fetch_and_load("mnist", job.data_dir, log=lambda s: print(f"[{job.row}] {s}", flush=True))
    n, t = limit(row, job) or len(data.train_labels), job.test_limit or len(data.test_labels)
    return Split(data.train_images[:n], data.train_labels[:n]), Split(data.test_images[:t], data.test_labels[:t])


def trained(run_dir: Path, model_config: ModelConfig) -> LeNet:
    model = LeNet(model_config)
    model.load_state_dict(load_checkpoint(run_dir / CHECKPOINT)["model"])
    return model.eval()


@torch.no_grad()
def network_scores(model: LeNet, images: torch.Tensor) -> torch.Tensor:
    """(N, 10) scores as logits, larger wins (the RBF head's penalties negated)."""
    return torch.cat([model.logits(model(model.prepare(part))) for part in images.split(5_000)]).double()


def network_outcome(model: LeNet, images: torch.Tensor, note: str = "") -> Outcome:
    rows = layer_table(model)
    return Outcome(network_scores(model, images), model.num_parameters(), sum(r.connections for r in rows), note)


@torch.no_grad()
def features(model: LeNet, images: torch.Tensor) -> torch.Tensor:
    """What LeNet-4's output layer reads (C5: 120 units), (N, 120) float64."""
    return torch.cat([model.features(model.prepare(part)).flatten(1) for part in images.split(5_000)]).double()


def local_learning(train_f: torch.Tensor, train_y: torch.Tensor, test_f: torch.Tensor) -> torch.Tensor:
    """Bottou & Vapnik's local learning: for each test digit, a linear classifier (ridge onto
    one-hot) fitted on its LOCAL_NEIGHBOURS nearest training digits; its outputs (N, 10)."""
    _, index = classical.nearest(train_f, test_f, LOCAL_NEIGHBOURS)
    out = []
    for rows, x in zip(index.split(500), test_f.split(500)):
        xs = torch.cat([train_f[rows], torch.ones(*rows.shape, 1, dtype=torch.float64)], 2)  # (B, K, F + 1)
        ys = torch.nn.functional.one_hot(train_y[rows], 10).double()  # (B, K, 10)
        gram = xs.transpose(1, 2) @ xs
        lam = LOCAL_RIDGE * gram.diagonal(dim1=1, dim2=2).mean(1).view(-1, 1, 1)
        w = torch.linalg.solve(gram + lam * torch.eye(gram.shape[-1], dtype=torch.float64), xs.transpose(1, 2) @ ys)
        out.append((torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], 1).unsqueeze(1) @ w).squeeze(1))
    return torch.cat(out)


def on_lenet4(job: Job, row: Row, train: Split, test: Split) -> Outcome:
    """K-NN or local learning in place of LeNet-4's last layer, on its C5 features."""
    lenet4 = dataclasses.replace(job, row="lenet4")
    run_job(lenet4)  # finished by now in a full study (it runs first); trained here otherwise
    model = trained(lenet4.run_dir, configs(BY_NAME["lenet4"], job)[0])
    train_f, test_f = features(model, train.images), features(model, test.images)
    below = model.num_parameters() - model.output.trainable_parameters()
    stored = train_f.numel()
    if row.method == "lenet4-knn":
        dists, index = classical.nearest(train_f, test_f)
        scores, note = classical.vote_scores(dists, train.labels[index]), f"{classical.K}-NN on C5's 120 features"
    else:
        scores, note = local_learning(train_f, train.labels, test_f), (
            f"a ridge classifier on each test digit's {LOCAL_NEIGHBOURS} nearest, on C5's 120 features")
    network = sum(r.connections for r in layer_table(model)) - model.output.connections(torch.Size([1, 10, 1, 1]))
    return Outcome(scores, below + stored, network + stored, note)


def boosted(job: Job, row: Row, train: Split, test: Split, after_pass) -> Outcome:
    """Three LeNet-4s trained in the row's run directory (net1, net2, net3), each resumable."""
    model_config, train_config = configs(dataclasses.replace(row, distort=True), job, "lenet4")
    generator = torch.Generator().manual_seed(1000 + job.seed)
    nets, notes = [], []
    for k in (1, 2, 3):
        sub = dataclasses.replace(job, out=job.run_dir, row=f"net{k}")
        if k == 1:
            train_run(sub, model_config, train_config, after_pass)
        else:
            patterns, drawn = (boosting.second_set(nets[0], train, generator) if k == 2 else
                               boosting.third_set(nets[0], nets[1], train, generator))
            notes.append(f"net {k}: {len(patterns.labels):,} patterns of {drawn:,} drawn")
            plain = train_config.replace(distort="none", train_limit=0)
            train_run(sub, model_config, plain, after_pass,
                      trainer=lambda *a, patterns=patterns, **kw: boosting.OnPatterns(patterns, *a, **kw))
        nets.append(trained(sub.run_dir, model_config))
    one = network_outcome(nets[0], test.images[:1])
    return Outcome(boosting.probabilities(nets, test.images), 3 * one.variables, 3 * one.multiply_adds,
                   "; ".join(notes) + "; all three nets run on every digit")


def check_settings(job: Job) -> None:
    """A row's folder made with other settings is not written over."""
    config = job.run_dir / "config.json"
    if config.exists() and not same_settings(json.loads(config.read_text()), settings(job)):
        raise Lenet5Error(f"{job.run_dir} holds a run with other settings; run with the same flags, delete it, or use another --out")
    job.run_dir.mkdir(parents=True, exist_ok=True)


def execute(job: Job, after_pass=None) -> dict[str, Any]:
    row = BY_NAME[job.row]
    t0 = time.perf_counter()
    summary: dict[str, Any] = {}
    if row.method == "network":
        model_config, train_config = configs(row, job)
        summary = train_run(job, model_config, train_config, after_pass)
        _, test = digits(job, row)
        outcome = None if summary.get("test_error") is None else network_outcome(trained(job.run_dir, model_config), test.images)
    else:
        check_settings(job)
        save_json(job.run_dir / "config.json", settings(job))
        train, test = digits(job, row)
        if row.method in CLASSICAL:
            outcome = CLASSICAL[row.method](train.images, train.labels, test.images, job.seed)
        elif row.method in ON_LENET4:
            outcome = on_lenet4(job, row, train, test)
        else:
            outcome = boosted(job, row, train, test, after_pass)
    done = scored(outcome, test.labels) if outcome is not None else {"test_error": None, "diverged_in_pass": summary.get("diverged_in_pass")}
    done.update(seconds=time.perf_counter() - t0, train_error=summary.get("train_error"))
    save_json(job.run_dir / FINISHED, done)
    return done


def scored(outcome: Outcome, labels: torch.Tensor) -> dict[str, Any]:
    """A row's figures from its test scores: error, its interval, the rejection for 0.5% error."""
    top2 = outcome.scores.topk(2, dim=1)
    correct = top2.indices[:, 0] == labels
    wrong = int((~correct).sum())
    return {"test_error": wrong / len(labels), "wrong": wrong, "digits": len(labels),
            "interval_95": list(wilson_interval(wrong, len(labels))),
            "reject": rejection_curve(correct, (top2.values[:, 0] - top2.values[:, 1]).float()).needed_for(REJECTION_TARGET),
            "variables": int(outcome.variables), "multiply_adds": int(outcome.multiply_adds), "note": outcome.note}


def result(job: Job, summary: dict[str, Any], ran: bool) -> dict[str, Any]:
    """One row of results.csv (`ran`: run now rather than reused; not written)."""
    row = BY_NAME[job.row]
    return {"row": row.name, "label": row.label, "group": row.group, "seed": job.seed, "train_digits": limit(row, job) or 60_000,
            **{k: summary.get(k) for k in ("test_error", "train_error", "wrong", "digits", "reject", "variables",
                                            "multiply_adds", "seconds", "note")}, "ran": ran}

