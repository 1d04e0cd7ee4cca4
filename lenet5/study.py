"""One study runner for the package's studies (the ablation, lenet5/ablate.py; the comparison of
Sec. III, lenet5/compare/): runs over seeds in run directories, reused when finished, resumed
when interrupted, `workers` at a time here or as tasks on a Ray cluster (lenet5/cluster.py).

A study is a module that names its rows and says, for a job, what it runs (`settings`, stored as
the run's config.json), how to run it (`execute`) and what row it gives (`result`). A run whose
config.json holds the job's settings and that has its `FINISHED` file is read back, not run.
"""

from __future__ import annotations

import importlib
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lenet5.checkpoint import save_json
from lenet5.model import ModelConfig
from lenet5.presets import TrainConfig, same_settings
from lenet5.runtime import DEFAULT_THREADS
from lenet5.train import Diverged, Trainer

STUDIES = {"ablate": "lenet5.ablate", "compare": "lenet5.compare.study"}  # name -> the module that runs its rows


@dataclass(frozen=True)
class Job:
    study: str  # a name in STUDIES
    row: str  # the study's row (a variant, a classifier)
    seed: int
    epochs: int
    out: Path
    data_dir: str | None
    train_limit: int = 0
    test_limit: int = 0
    device: str = "cpu"

    @property
    def run_dir(self) -> Path:
        return self.out / "runs" / f"{self.row}-seed{self.seed}"


def study_of(job: Job):
    return importlib.import_module(STUDIES[job.study])


def reuse(job: Job) -> dict[str, Any] | None:
    """The row of a finished run with the job's settings in its run directory, else None."""
    study = study_of(job)
    finished, config = job.run_dir / study.FINISHED, job.run_dir / "config.json"
    if finished.exists() and config.exists() and same_settings(json.loads(config.read_text()), study.settings(job)):
        return study.result(job, json.loads(finished.read_text()), ran=False)
    return None


def run_job(job: Job, after_pass=None) -> dict[str, Any]:
    """Run one (row, seed), resuming it, or read back its finished run. `after_pass` is called
    once each pass's checkpoint is on disk."""
    finished = reuse(job)
    if finished is not None:
        return finished
    study = study_of(job)
    return study.result(job, study.execute(job, after_pass), ran=True)


def train_run(job: Job, model: ModelConfig, train: TrainConfig, after_pass=None, trainer=Trainer) -> dict[str, Any]:
    """A training run of a study in the job's run directory, resumed from its checkpoint; a run
    that diverges is a result of the study, recorded and not run again."""
    log = lambda s: print(f"[{job.row} seed {job.seed}] {s}", flush=True)  # noqa: E731
    try:
        return trainer(model, train, job.seed, job.run_dir, job.data_dir, job.device, progress=False, log=log,
                       after_pass=after_pass).fit(resume=True)
    except Diverged as e:
        log(str(e))
        summary = {"diverged_in_pass": e.epoch, "test_error": None, "train_error": None, "seconds_per_pass": None}
        save_json(job.run_dir / "metrics.json", summary)  # beside the config.json that fit wrote first
        return summary


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def run_jobs(jobs: list[Job], workers: int = 1, threads: int = DEFAULT_THREADS, ray_address: str | None = None,
             storage: Path | None = None) -> list[dict[str, Any]]:
    """Every job's row, in order, each run on `threads` threads: `workers` at a time on this
    machine, or, given `ray_address` ("local" for a new local Ray, "auto", "ray://host:port"), as
    tasks on that Ray cluster, their runs synced through `storage` (lenet5/cluster.py)."""
    if not jobs:
        return []
    if ray_address is not None:
        from lenet5.cluster import run_on_ray  # Ray is an optional dependency

        return run_on_ray(jobs, jobs[0].out, ray_address, storage, threads)
    if workers == 1:
        _init_worker(threads)
        return [run_job(j) for j in jobs]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(threads,)) as pool:
        return list(pool.map(run_job, jobs))
