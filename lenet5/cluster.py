"""A study on a Ray cluster (https://docs.ray.io): each (row, seed) job is a Ray task, and the
study's results and run directories come back to the machine that started it.

A task trains in a folder of its own worker and, after every pass, syncs the run directory
(checkpoint, metrics, config) to a store: a folder every node sees (`--storage`, or the study
folder itself on a local Ray), or else a mailbox actor that the driver empties into the study
folder. A worker that dies costs its job the pass it was in: Ray runs the task again, and the
new try starts from the last synced checkpoint (resume is exact, so the numbers do not change).

Ray is optional: `pip install -e ".[cluster]"`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from lenet5.study import Job, reuse, run_job
from lenet5.atomic import write_atomic
from lenet5.checkpoint import load_checkpoint, save_json
from lenet5.errors import Lenet5Error
from lenet5.train import CHECKPOINT

MAX_RETRIES = 3  # tries after the first when a task's worker or node dies
COLLECT_SECONDS = 10.0  # how often the driver empties the mailbox into the study folder
WORKER = "worker.json"  # where the run's latest try runs: host, pid, the pass it resumed after
LAST = "metrics.json"  # synced last: its presence marks a run as finished


def import_ray():
    try:
        import ray
    except ImportError:
        raise Lenet5Error('--ray needs Ray, an optional dependency: pip install -e ".[cluster]" '
                          '(or pip install "ray>=2.9")') from None
    return ray


# --- run directories as bytes ------------------------------------------------------------------

def read_run(run_dir: Path) -> dict[str, bytes]:
    """The files of a run directory by name: the checkpoint first, metrics.json last, so a
    store written in this order never holds a finished-looking run without its checkpoint."""
    files = [p for p in run_dir.iterdir() if p.is_file() and not p.name.startswith(".")]  # "." : write_atomic's temporaries
    files.sort(key=lambda p: (p.name != CHECKPOINT, p.name == LAST, p.name))
    return {p.name: p.read_bytes() for p in files}


def write_run(run_dir: Path, files: dict[str, bytes]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomic(run_dir / name, lambda tmp, data=data: tmp.write_bytes(data))


# --- stores: where a run is synced after every pass ----------------------------------------------

class FolderStore:
    """Run directories in ROOT/runs/, a folder the driver and every worker see."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def get(self, name: str) -> dict[str, bytes]:
        folder = self.root / "runs" / name
        return read_run(folder) if folder.is_dir() else {}

    def put(self, name: str, files: dict[str, bytes]) -> None:
        write_run(self.root / "runs" / name, files)

    def collect(self, out: Path, names: list[str]) -> None:
        """Copy the runs `names` into the study folder `out` (nothing to do when it is ROOT)."""
        if self.root.resolve() != out.resolve():
            for name in names:
                write_run(out / "runs" / name, self.get(name))


class Mailbox:
    """A Ray actor holding each run's latest files, for workers that cannot see the study folder."""

    def __init__(self):
        self.runs: dict[str, dict[str, bytes]] = {}
        self.changed: set[str] = set()

    def get(self, name: str) -> dict[str, bytes]:
        return self.runs.get(name, {})

    def put(self, name: str, files: dict[str, bytes]) -> None:
        self.runs.setdefault(name, {}).update(files)
        self.changed.add(name)

    def take(self) -> dict[str, dict[str, bytes]]:
        """The runs put since the last take (one reader: the driver)."""
        taken = {name: self.runs[name] for name in sorted(self.changed)}
        self.changed.clear()
        return taken


class MailboxStore:
    """The store interface over a Mailbox actor; the driver writes what arrives into the study folder."""

    def __init__(self, actor):
        self.actor = actor

    def get(self, name: str) -> dict[str, bytes]:
        return import_ray().get(self.actor.get.remote(name))

    def put(self, name: str, files: dict[str, bytes]) -> None:
        import_ray().get(self.actor.put.remote(name, files))

    def collect(self, out: Path, names: list[str]) -> None:
        """Write every run synced since the last call into `out` (all of them, not only `names`)."""
        for name, files in import_ray().get(self.actor.take.remote()).items():
            write_run(out / "runs" / name, files)


def seed_store(store, out: Path, names: list[str]) -> None:
    """Hand the store the runs of `out` it lacks, so that interrupted runs resume on the cluster."""
    for name in names:
        if (out / "runs" / name).is_dir() and not store.get(name):
            store.put(name, read_run(out / "runs" / name))


# --- the task ------------------------------------------------------------------------------------

def train_on_worker(job: Job, store, threads: int) -> dict[str, Any]:
    """A Ray task: one job trained in a folder of this worker's own, synced to `store` after every
    pass and at the end; a retry starts from what the last try synced."""
    torch.set_num_threads(threads)
    name = job.run_dir.name
    with tempfile.TemporaryDirectory(prefix="lenet5-") as tmp:
        local = replace(job, out=Path(tmp))
        write_run(local.run_dir, store.get(name))
        checkpoint = local.run_dir / CHECKPOINT
        resumed = load_checkpoint(checkpoint)["epoch"] if checkpoint.exists() else 0
        save_json(local.run_dir / WORKER, {"host": socket.gethostname(), "pid": os.getpid(), "resumed_after_pass": resumed})

        def sync() -> None:
            store.put(name, read_run(local.run_dir))

        sync()
        try:
            result = run_job(local, after_pass=sync)
        except Lenet5Error as e:  # name the run by its place in the study, not in this worker's temporary folder
            raise Lenet5Error(str(e).replace(str(local.run_dir), str(job.run_dir))) from None
        sync()
    return result


# --- the driver ----------------------------------------------------------------------------------

@contextlib.contextmanager
def connected(ray, address: str):
    """Connect to the Ray cluster at `address` ("local" starts one here) for the block; a Ray
    this process has already initialised (a notebook, a test) is used as it is."""
    if ray.is_initialized():
        yield
        return
    options = {"include_dashboard": False} if address == "local" else {}
    try:
        ray.init(address=address, logging_level=logging.WARNING, **options)
    except ConnectionError as e:
        raise Lenet5Error(f"--ray {address}: no Ray cluster there ({e}); start one with: ray start --head") from None
    try:
        yield
    finally:
        ray.shutdown()


def check_fits(ray, threads: int, device: str) -> dict[str, float]:
    """What one task asks for; an error when no node of the cluster has that much."""
    need = {"CPU": threads, **({"GPU": 1} if device.startswith("cuda") else {})}
    nodes = [n["Resources"] for n in ray.nodes() if n["Alive"]]
    if not any(all(r.get(k, 0) >= v for k, v in need.items()) for r in nodes):
        what = f"{threads} CPUs" + (" and a GPU" if "GPU" in need else "")
        raise Lenet5Error(f"no node of the Ray cluster has {what} for one run; lower --threads or add a bigger node")
    return need


def outcome(ray, ref, job: Job) -> dict[str, Any]:
    """A finished task's result; its failure as one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        if isinstance(e.cause, Lenet5Error):
            raise e.cause from None
        raise
    except ray.exceptions.RayError as e:  # the worker or its node died more than MAX_RETRIES times
        raise Lenet5Error(f"{job.run_dir.name}: failed {MAX_RETRIES + 1} times on the cluster ({type(e).__name__}); "
                          "the passes it synced are kept: run the study again to resume") from None


def mailbox_on_this_node(ray):
    """A Mailbox actor on the driver's own node: it has no restarts (what it holds would be lost),
    so it lives where the study does; a worker node that leaves takes no results with it."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    return ray.remote(Mailbox).options(num_cpus=0, scheduling_strategy=here).remote()


def run_on_ray(jobs: list[Job], out: Path, address: str, storage: Path | None, threads: int) -> list[dict[str, Any]]:
    """Every job's result, in order: finished runs in `out` read back here, the rest trained as
    Ray tasks of `threads` CPUs (and a GPU each for a cuda job), their run directories in `out`."""
    ray = import_ray()
    results = {job: reuse(job) for job in jobs}
    todo = [job for job in jobs if results[job] is None]
    if todo:
        with connected(ray, address):
            need = check_fits(ray, threads, todo[0].device)
            if storage is None and address != "local":
                store = MailboxStore(mailbox_on_this_node(ray))
            else:  # a local Ray's workers see the study folder
                store = FolderStore(storage or out)
            names = [job.run_dir.name for job in todo]
            seed_store(store, out, names)
            task = ray.remote(train_on_worker).options(num_cpus=need["CPU"], num_gpus=need.get("GPU", 0), max_retries=MAX_RETRIES)
            pending = {task.remote(job, store, threads): job for job in todo}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=COLLECT_SECONDS)
                store.collect(out, [pending[ref].run_dir.name for ref in done])
                for ref in done:
                    job = pending.pop(ref)
                    results[job] = outcome(ray, ref, job)
    return [results[job] for job in jobs]
