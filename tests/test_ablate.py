import csv
import dataclasses
import shutil
import statistics

import pytest
from scipy.stats import t as student_t

from lenet5.ablate import BY_NAME, VARIANTS, difference_interval, run_study, select
from lenet5.data.feed import INPUT_SIZES
from lenet5.errors import Lenet5Error
from lenet5.model import CHOICES, ModelConfig
from lenet5.presets import OPTIMIZERS, get_preset


def test_variants_cover_every_switch():
    """Each value of each switch other than the paper preset's has its own one-switch row."""
    base, base_train = get_preset("paper").model, get_preset("paper").train
    changed = set()
    for variant in (v for v in VARIANTS if v.preset == "paper"):
        model, train = variant.configs(base_train.epochs, 0, 0)
        for config, reference in ((model, base), (train, base_train)):
            changed |= {(k, v) for k, v in dataclasses.asdict(config).items() if v != getattr(reference, k)}
    for f in dataclasses.fields(ModelConfig):
        if f.name == "architecture":
            continue  # other networks (LeNet-4, LeNet-1, ...), not switches of LeNet-5: the compare study
        if f.name in CHOICES:
            values = [v for v in CHOICES[f.name] if f.name != "input" or INPUT_SIZES[v] == 32]  # the others' inputs
            missing = [v for v in values if v != getattr(base, f.name) and (f.name, v) not in changed]
            assert not missing, f"no ablation row for {f.name} = {missing}"
        else:
            assert any(k == f.name for k, _ in changed), f"no ablation row changes {f.name}"
    assert {v for k, v in changed if k == "optimizer"} | {base_train.optimizer} == {"adam", "sgd"}
    assert {"paper", "blog", "modern"} <= set(BY_NAME)
    assert {v.preset for v in VARIANTS} == {"paper", "paper-sdlm", "paper-distort", "blog", "modern"}
    assert set(OPTIMIZERS) == {"adam", "sgd", "sdlm"} and BY_NAME["optimizer-sdlm"].configs(1, 0, 0)[1].optimizer == "sdlm"
    for variant in VARIANTS:
        variant.configs(1, 0, 0)  # every variant is a valid configuration


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(Lenet5Error, match="unknown variant 'nope'"):
        select(["nope"])


def test_difference_interval():
    d, half = difference_interval([1.0, 1.2, 1.1], [1.0, 1.0, 1.0])
    assert d == pytest.approx(0.1) and half == pytest.approx(4.3027 * 0.1 / 3**0.5, rel=1e-4)  # t(0.975, df 2)
    # unequal variances: Welch's df = 2.92, not rounded down to 2 (t 4.30, 35% too wide)
    d, half = difference_interval([0.8, 0.9, 0.7], [1.0, 1.1, 1.04])
    va, vb = 0.01 / 3, statistics.variance([1.0, 1.1, 1.04]) / 3
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)
    assert 2 < df < 3 and half == pytest.approx(float(student_t.ppf(0.975, df)) * (va + vb) ** 0.5, rel=1e-9)
    assert half < 0.8 * 4.3027 * (va + vb) ** 0.5
    assert difference_interval([1.0], [1.0, 2.0]) is None


def test_tiny_study_writes_results_and_resumes(tiny_data_dir, tmp_path):
    variants = select(["paper", "pooling-max"])
    kwargs = dict(seeds=2, epochs=1, out=tmp_path / "study", data_dir=str(tiny_data_dir), train_limit=128, test_limit=64)
    first = run_study(variants, **kwargs)
    assert all(r["ran"] for r in first) and len(first) == 4
    for name in ("results.csv", "ablation.md", "ablation.png"):
        assert (tmp_path / "study" / name).stat().st_size > 0
    assert len(list(csv.DictReader(open(tmp_path / "study" / "results.csv")))) == 4
    assert "max pooling instead of trainable subsampling" in (tmp_path / "study" / "ablation.md").read_text()
    again = run_study(variants, **kwargs)
    assert not any(r["ran"] for r in again)
    assert [r["test_error"] for r in again] == [r["test_error"] for r in first]
    shutil.rmtree(tmp_path / "study" / "runs" / "pooling-max-seed1")
    third = run_study(variants, **kwargs)
    assert [(r["variant"], r["seed"]) for r in third if r["ran"]] == [("pooling-max", 1)]


def test_diverged_runs_are_recorded_not_fatal(tiny_data_dir, tmp_path, monkeypatch):
    """A variant that diverges is a finding of the study: reported, and not re-run next time."""
    from lenet5 import ablate
    from lenet5.train import Diverged, Trainer

    def explode(self, epoch):
        raise Diverged(3, float("nan"))

    monkeypatch.setattr(Trainer, "run_pass", explode)
    kwargs = dict(seeds=2, epochs=1, out=tmp_path / "study", data_dir=str(tiny_data_dir), train_limit=128, test_limit=64)
    results = run_study(select(["init-sqrt"]), **kwargs)
    assert [r["diverged_in_pass"] for r in results] == [3, 3]
    assert "| diverged |" in (tmp_path / "study" / "ablation.md").read_text()
    assert (tmp_path / "study" / "ablation.png").stat().st_size > 0
    again = run_study(select(["init-sqrt"]), **kwargs)
    assert not any(r["ran"] for r in again)
    rows = ablate.summarize(results)
    assert rows[0]["mean"] is None and rows[0]["diverged"] == 2


def test_a_study_killed_at_random_and_restarted_ends_as_an_undisturbed_one(tiny_data_dir, tmp_path):
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    study = ["-m", "lenet5", "ablate", "--only", "paper", "pooling-max", "--seeds", "2", "--epochs", "6", "--workers", "2",
             "--data-dir", str(tiny_data_dir)]

    def run(out, kill_after=None):
        process = subprocess.Popen([sys.executable, *study, "--out", str(out)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        if kill_after is not None:
            time.sleep(kill_after)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)  # the study and its workers, mid-run
        _, err = process.communicate()
        return process.returncode, err

    start = time.perf_counter()
    assert run(tmp_path / "undisturbed")[0] == 0
    wall = time.perf_counter() - start
    rng = random.Random(1)
    for k in range(3):
        out = tmp_path / f"killed-{k}"
        run(out, rng.uniform(0.2, 0.9) * wall)
        code, err = run(out)
        assert code == 0, err[-1000:]
        with open(tmp_path / "undisturbed" / "results.csv") as a, open(out / "results.csv") as b:
            expected = [(r["variant"], r["seed"], r["test_error"], r["train_error"]) for r in csv.DictReader(a)]
            assert [(r["variant"], r["seed"], r["test_error"], r["train_error"]) for r in csv.DictReader(b)] == expected


@pytest.mark.mnist
def test_a_study_on_a_machine_without_mnist_killed_while_fetching_or_training_ends_as_an_undisturbed_one(tmp_path):
    """Two workers fetch MNIST into an empty folder (one at a time, under the lock) and train; the
    whole process group is killed at random moments, the fetch's included, and the study restarted."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    from lenet5.data.datasets import MNIST, verify

    # 3 passes of 6,000 digits (about 0.4 s each here), so that a kill after the first pass lands in training
    study = ["-m", "lenet5", "ablate", "--only", "paper", "--seeds", "2", "--epochs", "3", "--workers", "2",
             "--train-limit", "6000", "--test-limit", "200"]

    def run(out, data, kill_after=None):
        process = subprocess.Popen([sys.executable, *study, "--out", str(out), "--data-dir", str(data)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        if kill_after == "fetching":  # as soon as the fetch has put something in the empty folder
            while process.poll() is None and not (data.exists() and any(data.rglob("*"))):
                time.sleep(0.01)
            time.sleep(0.2)
        elif kill_after is not None:  # that long after a run's first pass is on disk: a moment in
            # training that a cold machine and a warm one reach alike, unlike a time from the start
            while process.poll() is None and not any((out / "runs").glob("*/checkpoint.pt")):
                time.sleep(0.01)
            time.sleep(kill_after)
        # a run still training: its directory there without its final metrics
        training = (out / "runs").is_dir() and any(not (d / "metrics.json").exists() for d in (out / "runs").iterdir())
        if kill_after is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
        return process.returncode, err, training

    assert run(tmp_path / "undisturbed", tmp_path / "data-undisturbed")[0] == 0, "the undisturbed study failed"
    rng = random.Random(2)
    for k, moment in enumerate(["fetching", rng.uniform(0.0, 0.1)]):
        out, data = tmp_path / f"killed-{k}", tmp_path / f"data-{k}"
        killed, _, training = run(out, data, moment)
        assert killed == -signal.SIGKILL  # it was still running
        assert training or moment == "fetching"  # the second kill came in the middle of training
        code, err, _ = run(out, data)
        assert code == 0, err[-1000:]
        assert not any(verify(MNIST, data / "mnist").values())  # every file there and verified
        with open(tmp_path / "undisturbed" / "results.csv") as a, open(out / "results.csv") as b:
            expected = [(r["variant"], r["seed"], r["test_error"], r["train_error"]) for r in csv.DictReader(a)]
            assert [(r["variant"], r["seed"], r["test_error"], r["train_error"]) for r in csv.DictReader(b)] == expected
