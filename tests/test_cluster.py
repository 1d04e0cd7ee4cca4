"""`lenet5 ablate --ray`: the same study on a local Ray (started here, on loopback) as on this
machine, runs back in the study folder whether or not the workers see it, a killed worker's job
resumed from its last synced pass, and a one-line error without Ray."""

import csv
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
import time

import pytest
import torch

from lenet5.ablate import run_study, select
from lenet5.cli import main
from lenet5.errors import Lenet5Error

STUDY = ["--only", "paper", "pooling-max", "--seeds", "1", "--epochs", "1", "--train-limit", "2000", "--test-limit", "500"]
NUMBERS = ("variant", "seed", "diverged_in_pass", "test_error", "train_error", "parameters", "multiply_adds")  # not the timing


@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)  # a new local Ray, this machine only
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_study(mnist_dir, tmp_path_factory):
    """The tiny study run here, one run at a time (`--workers 1`), as the reference."""
    out = tmp_path_factory.mktemp("local")
    threads = torch.get_num_threads()
    assert main(["ablate", *STUDY, "--workers", "1", "--out", str(out), "--data-dir", str(mnist_dir)]) == 0
    torch.set_num_threads(threads)
    return out


def own_lines(err: str) -> str:
    """stderr without the lines Ray forwards from its processes, each led by "(Name pid=N)": theirs,
    not lenet5's (a worker's abseil once printed "[mutex.cc : 452] RAW: Lock blocking ..." there)."""
    forwarded = re.compile(r"(\x1b\[[0-9;]*m)?\([^)]*pid=\d+[^)]*\)")
    return "".join(line for line in err.splitlines(keepends=True) if not forwarded.match(line))


def numbers(study) -> list[dict]:
    return [{k: row[k] for k in NUMBERS} for row in csv.DictReader(open(study / "results.csv"))]


def losses(run_dir) -> list[str]:
    """Each pass's training loss as written (full precision): equal only if the weights were."""
    return [row["train_loss"] for row in csv.DictReader(open(run_dir / "metrics.csv"))]


@pytest.mark.mnist
def test_ray_study_matches_the_local_one(ray, local_study, mnist_dir, tmp_path, capsys):
    out = tmp_path / "ray"
    assert main(["ablate", *STUDY, "--ray", "--out", str(out), "--data-dir", str(mnist_dir)]) == 0
    assert "2 runs trained, 0 reused" in capsys.readouterr().out
    assert numbers(out) == numbers(local_study)
    assert 0 < float(numbers(out)[0]["test_error"]) < 0.9  # a real result, not a constant
    for name in ("paper-seed0", "pooling-max-seed0"):
        assert losses(out / "runs" / name) == losses(local_study / "runs" / name)
        assert {"checkpoint.pt", "config.json", "metrics.json", "curves.png"} <= {p.name for p in (out / "runs" / name).iterdir()}
        assert json.loads((out / "runs" / name / "worker.json").read_text())["resumed_after_pass"] == 0
    for name in ("ablation.md", "ablation.png"):
        assert (out / name).stat().st_size > 0
    assert main(["ablate", *STUDY, "--ray", "--out", str(out), "--data-dir", str(mnist_dir)]) == 0
    assert "0 runs trained, 2 reused" in capsys.readouterr().out


@pytest.mark.mnist
def test_runs_travel_back_when_workers_cannot_see_the_study_folder(ray, local_study, mnist_dir, tmp_path):
    """An address and no --storage: runs go through the mailbox actor into the driver's folder.
    (The Ray this process already runs is used; the address only says it may be remote.)"""
    out = tmp_path / "mailbox"
    results = run_study(select(["pooling-max"]), seeds=1, epochs=1, out=out, data_dir=str(mnist_dir),
                        train_limit=2000, test_limit=500, ray_address="auto")
    assert [r["ran"] for r in results] == [True]
    assert numbers(out) == numbers(local_study)[1:]
    assert losses(out / "runs" / "pooling-max-seed0") == losses(local_study / "runs" / "pooling-max-seed0")
    assert (out / "runs" / "pooling-max-seed0" / "metrics.json").exists()


@pytest.mark.mnist
def test_a_killed_worker_costs_its_job_one_pass_at_most(ray, mnist_dir, tmp_path):
    kwargs = dict(seeds=1, epochs=3, data_dir=str(mnist_dir), train_limit=2000, test_limit=500)
    undisturbed = run_study(select(["paper"]), out=tmp_path / "undisturbed", **kwargs)
    storage = tmp_path / "shared"
    synced = storage / "runs" / "paper-seed0"
    killed = []

    def kill_after_first_checkpoint():
        deadline = time.monotonic() + 120
        while not (synced / "checkpoint.pt").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        pid = json.loads((synced / "worker.json").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_after_first_checkpoint)
    killer.start()
    out = tmp_path / "ray"
    results = run_study(select(["paper"]), out=out, ray_address="local", storage=storage, **kwargs)
    killer.join()
    worker = json.loads((out / "runs" / "paper-seed0" / "worker.json").read_text())
    assert killed and worker["pid"] != killed[0]  # a second try finished the job ...
    assert worker["resumed_after_pass"] >= 1  # ... from the first try's checkpoint, not from scratch
    assert [(r["test_error"], r["train_error"]) for r in results] == [(r["test_error"], r["train_error"]) for r in undisturbed]
    assert losses(out / "runs" / "paper-seed0") == losses(tmp_path / "undisturbed" / "runs" / "paper-seed0")
    assert numbers(out) == numbers(tmp_path / "undisturbed")


@pytest.mark.mnist
def test_a_task_that_refuses_is_one_line(ray, local_study, mnist_dir, tmp_path, capsys):
    """A study folder whose runs were made with other settings: the worker's Lenet5Error, as here."""
    out = tmp_path / "study"
    shutil.copytree(local_study, out)
    argv = ["ablate", *STUDY, "--test-limit", "400", "--ray", "--out", str(out), "--data-dir", str(mnist_dir)]
    assert main(argv) == 1
    err = own_lines(capsys.readouterr().err)
    assert re.fullmatch(f"lenet5: error: {re.escape(str(out))}/runs/(paper|pooling-max)-seed0 holds a run with other settings; .*\n", err)


@pytest.mark.mnist
def test_a_run_no_node_can_hold_is_refused(ray, mnist_dir, tmp_path):
    with pytest.raises(Lenet5Error, match="no node of the Ray cluster has 3 CPUs for one run"):
        run_study(select(["paper"]), seeds=1, epochs=1, out=tmp_path, data_dir=str(mnist_dir), threads=3, ray_address="local")


def test_without_ray_the_flag_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    assert main(["ablate", "--only", "paper", "--seeds", "1", "--epochs", "1", "--ray", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[cluster]"' in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()
