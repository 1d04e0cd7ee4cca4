import json
import subprocess
import sys

import pytest
import torch

from lenet5.checkpoint import load_checkpoint
from lenet5.cli import main


def test_summary_prints_the_papers_table(capsys):
    assert main(["summary", "--preset", "paper"]) == 0
    out = capsys.readouterr().out
    for figure in ("156", "12", "1,516", "32", "48,120", "10,164", "60,000", "340,908"):
        assert figure in out


def test_summary_json_and_switches(capsys):
    assert main(["summary", "--c3", "full", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameters"] == 60_900 and data["config"]["c3"] == "full"


@pytest.mark.parametrize("argv, message", [
    (["summary", "--preset", "nope"], "unknown preset 'nope'; choose one of: paper, paper-distort, paper-pens, paper-sdlm, blog, modern"),
    (["train", "--threads", "0", "--out", "/tmp/never"], "--threads must be between 1 and"),
    (["train", "--threads", "100000", "--out", "/tmp/never"], "--threads must be between 1 and"),
    (["train", "--optimizer", "sdlm", "--out", "/tmp/never"], "use --preset paper-sdlm"),
    (["ablate", "--workers", "2", "--threads", "100000"], "--threads must be between 1 and"),
    (["ablate", "--storage", "/tmp/never"], "--storage goes with --ray"),
    (["ablate", "--ray", "--workers", "2"], "--workers is for runs on this machine"),
    (["summary", "--head", "softmax"], "does not fit the softmax head"),
    (["train", "--epochs", "0", "--out", "/tmp/never"], "epochs must be at least 1"),
    (["train-reader", "--strips", "0", "--out", "/tmp/never.safetensors"], "--strips must be 1 or more"),
    (["train-reader", "--out", "/nonexistent-folder/r.safetensors"], "does not exist"),
    (["train-reader", "--joined", "1.5", "--out", "/tmp/never.safetensors"], "--joined must be a share between 0 and 1, not 1.5"),
    (["train-reader", "--method", "hos", "--joined", "0.5", "--out", "/tmp/never.safetensors"], "for --method sdnn"),
    (["train-reader", "--distort", "-0.1", "--out", "/tmp/never.safetensors"], "--distort must be a share between 0 and 1"),
    (["train-reader", "--columns", "-1", "--out", "/tmp/never.safetensors"], "--columns must be a weight of 0 or more"),
    (["train-reader", "--method", "hos", "--columns", "1", "--out", "/tmp/never.safetensors"], "--columns is for --method sdnn"),
    (["train-reader", "--context", "-1", "--out", "/tmp/never.safetensors"], "--context must be a whole number of outputs"),
    (["train-reader", "--context", "17", "--out", "/tmp/never.safetensors"], "--context must be a whole number of outputs from 0 to 16"),
    (["train-reader", "--method", "hos", "--context", "1", "--out", "/tmp/never.safetensors"], "--context is for --method sdnn"),
    (["train-reader", "--start-from", "amounts", "--context", "0", "--out", "/tmp/never.safetensors"], "--start-from keeps"),
    (["train-reader", "--depth", "3", "--out", "/tmp/never.safetensors"], "--depth must be 1 or 2 convolutions a layer"),
    (["train-reader", "--method", "hos", "--depth", "2", "--out", "/tmp/never.safetensors"], "--depth is for --method sdnn"),
    (["train-reader", "--refine", "5", "--out", "/tmp/never.safetensors"], "--refine must be a whole number of blocks from 0 to 4"),
    (["train-reader", "--method", "hos", "--refine", "1", "--out", "/tmp/never.safetensors"], "--refine is for --method sdnn"),
    (["train-reader", "--start-from", "amounts", "--depth", "1", "--out", "/tmp/never.safetensors"], "--start-from keeps"),
    (["train-reader", "--method", "hos", "--distort", "0.5", "--out", "/tmp/never.safetensors"], "for --method sdnn"),
    (["train-reader", "--lr", "inf", "--out", "/tmp/never.safetensors"], "--lr must be more than 0"),
    *([(["train-reader", "--device", "cuda", "--out", "/tmp/never.safetensors"], "PyTorch sees no CUDA device")]
      if not torch.cuda.is_available() else []),
    (["train-reader", "--lr", "0", "--out", "/tmp/never.safetensors"], "--lr must be more than 0"),
    (["train-reader", "--start-from", "amounts-hos", "--out", "/tmp/never.safetensors"], "only an SDNN goes on training"),
    (["train-reader", "--start-from", "/tmp/no-such-reader.safetensors", "--out", "/tmp/never.safetensors"], "no such file"),
])
def test_bad_input_is_one_line_and_exit_1(capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["serve", "--port", "70000"], "70000 is not a port (0-65535)"),  # was an OverflowError from bind()
    (["train", "--device", "gpu"], "'gpu' is not a device: use cpu, cuda or cuda:N"),  # was torch's RuntimeError
    (["ablate", "--device", "cpu:1"], "'cpu:1' is not a device"),
    (["train-reader", "--device", "gpu"], "'gpu' is not a device"),
    (["distortions", "--draws", "0"], "0 is below the least allowed, 1"),  # was torch.stack's RuntimeError
    (["ablate", "--seeds", "two"], "'two' is not a whole number"),
    (["read", "x.png", "--reject-below", "1.5"], "1.5 is not a probability (0 to 1)"),
    (["read", "x.png", "--reject-below", "nan"], "nan is not a probability"),
    (["read", "x.png", "--reject-below", "100%"], "'100%' is not an error target"),
    (["read", "x.png", "--reject-below", "half%"], "'half' is not a number"),
    (["predict", "x.png", "--reject-below-margin", "-1"], "-1 is not a number 0 or more"),
    (["predict", "x.png", "--reject-below", "2"], "2 is not a probability"),
    (["predict", "x.png", "--reject-below", "0.9", "--reject-below-margin", "1"], "not allowed with argument"),
])
def test_out_of_range_flags_are_usage_errors_not_tracebacks(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "Traceback" not in err and err.strip().splitlines()[-1].startswith("lenet5")


def test_verify_fails_cleanly_on_an_empty_dir(tmp_path, capsys):
    assert main(["data", "verify", "--data-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "missing" in captured.out and "lenet5 data fetch mnist" in captured.err


def test_train_cli_on_tiny_data(tiny_data_dir, tmp_path, capsys):
    argv = ["train", "--epochs", "1", "--batch-size", "16", "--curvature-patterns", "16", "--quiet",
            "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert "done: test error" in capsys.readouterr().out
    assert main(argv) == 1  # the run directory now holds a run
    assert "already holds a run" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "lenet5", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "summary" in out.stdout


def test_file_system_refusals_are_one_line(tiny_data_dir, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    argv = ["train", "--epochs", "1", "--quiet", "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "afile" / "run")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("lenet5: error:") and err.count("\n") == 1


def test_train_records_threads_and_determinism(tiny_data_dir, tmp_path, capsys):
    argv = ["train", "--epochs", "1", "--batch-size", "16", "--quiet", "--threads", "1", "--deterministic",
            "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "run")]
    try:
        assert main(argv) == 0
    finally:
        torch.use_deterministic_algorithms(False)
    assert "1 thread on cpu" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["threads"] == 1 and metrics["device"] == "cpu" and metrics["deterministic"] is True
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["rounding"]["threads"] == 1
    plain_argv = [a for a in argv[:-1] if a != "--deterministic"] + [str(tmp_path / "plain")]
    assert main(plain_argv) == 0  # the same run without --deterministic
    plain = load_checkpoint(tmp_path / "plain" / "checkpoint.pt")
    assert plain["rounding"]["deterministic"] is False
    for name, tensor in state["model"].items():  # on the CPU it changes no number
        assert torch.equal(tensor, plain["model"][name]), name


def test_an_operation_without_a_deterministic_version_is_named(tiny_data_dir, tmp_path, capsys, monkeypatch):
    from lenet5.train import Trainer

    def fit(self, resume=False):  # put_ has no deterministic version even on the CPU
        torch.zeros(4).put_(torch.tensor([1, 1]), torch.tensor([1.0, 2.0]))

    monkeypatch.setattr(Trainer, "fit", fit)
    argv = ["train", "--epochs", "1", "--quiet", "--deterministic", "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "run")]
    try:
        assert main(argv) == 1
    finally:
        torch.use_deterministic_algorithms(False)
    err = capsys.readouterr().err
    assert "put_ has no deterministic implementation" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, preset", [([], "paper"), (["--distort"], "paper-distort"), (["--distort", "pool"], "paper-distort"),
                                          (["--preset", "paper", "--distort"], "paper"), (["--preset", "sdlm"], "paper-sdlm")])
def test_distort_alone_trains_the_preset_tuned_for_it(argv, preset):
    from lenet5.cli import build_parser
    from lenet5.flags import configs_from_args, preset_name
    from lenet5.presets import get_preset

    args = build_parser().parse_args(["train", *argv])
    _, train = configs_from_args(args)
    assert preset_name(args) == preset
    assert train.weight_decay == get_preset(preset).train.weight_decay
    assert train.distort == ("pool" if "pool" in argv else "fresh" if "--distort" in argv else get_preset(preset).train.distort)


def test_train_readers_help_names_the_most_context_sdnn_allows(capsys):
    from lenet5.read.sdnn import MOST_CONTEXT

    with pytest.raises(SystemExit):
        main(["train-reader", "--help"])
    assert f"at most {MOST_CONTEXT})" in " ".join(capsys.readouterr().out.split())


def test_train_readers_help_names_the_most_refine_blocks_and_a_network_never_shrinks(tmp_path, capsys):
    from lenet5.read.sdnn import MOST_REFINE, SDNN
    from lenet5.read.weights import save_reader

    with pytest.raises(SystemExit):
        main(["train-reader", "--help"])
    assert f"0 to {MOST_REFINE};" in " ".join(capsys.readouterr().out.split())
    save_reader(SDNN((6, 16, 60, 42), refine=2), tmp_path / "two.safetensors", {})
    assert main(["train-reader", "--start-from", str(tmp_path / "two.safetensors"), "--refine", "1",
                 "--out", str(tmp_path / "never.safetensors")]) == 1
    err = capsys.readouterr().err
    assert "has 2 refine blocks" in err and "does not shrink" in err and err.count("\n") == 1
    assert main(["train-reader", "--start-from", str(tmp_path / "two.safetensors"), "--refine", "-1",
                 "--out", str(tmp_path / "never.safetensors")]) == 1
    assert capsys.readouterr().err.strip() == "lenet5: error: --refine must be a whole number of blocks from 0 to 4, not -1"
    assert not (tmp_path / "never.safetensors").exists()


def test_train_reader_keeps_its_progress_when_interrupted_and_goes_on_with_resume(tiny_data_dir, tmp_path, capsys,
                                                                                   monkeypatch):
    import functools

    import lenet5.read.fit
    import lenet5.read.train_sdnn
    from lenet5.read.weights import load_reader

    tiny = functools.partial(lenet5.read.train_sdnn.SDNNTraining, holdout=56, val_strips=4, batch_size=16,
                             maps=(6, 16, 60, 42))
    monkeypatch.setattr(lenet5.read.train_sdnn, "SDNNTraining", tiny)

    def argv(name, *more):
        return ["train-reader", "--strips", "40", "--epochs", "2", "--seed", "3", "--threads", "1",
                "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / name), *more]

    assert main(argv("whole.safetensors")) == 0
    assert not (tmp_path / "whole.progress.pt").exists()  # written whole: no progress left behind
    save = lenet5.read.fit.save_progress

    def save_then_stop(path, progress, made):
        save(path, progress, made)
        raise KeyboardInterrupt  # Ctrl-C after the first pass

    monkeypatch.setattr(lenet5.read.fit, "save_progress", save_then_stop)
    capsys.readouterr()
    assert main(argv("cut.safetensors")) == 130
    err = capsys.readouterr().err
    assert "after pass 1 is kept in" in err and "cut.progress.pt" in err and "--resume" in err and err.count("\n") == 1
    assert (tmp_path / "cut.progress.pt").exists() and not (tmp_path / "cut.safetensors").exists()
    monkeypatch.setattr(lenet5.read.fit, "save_progress", save)
    assert main(argv("cut.safetensors")) == 1  # not started over silently
    assert "add --resume" in capsys.readouterr().err
    assert main(argv("cut.safetensors", "--resume", "--lr", "1e-3")) == 1
    err = capsys.readouterr().err
    assert "made otherwise: lr 0.002 (now 0.001)" in err and err.count("\n") == 1
    kept = torch.load(tmp_path / "cut.progress.pt", weights_only=True)
    for name, change in (("odd", lambda k: k["optimizer"]["state"][0].update(exp_avg=torch.zeros(3))),
                         ("late", lambda k: k.update(epoch=7))):
        damaged = {**kept, "optimizer": {**kept["optimizer"], "state": dict(kept["optimizer"]["state"])}}
        damaged["optimizer"]["state"][0] = dict(damaged["optimizer"]["state"][0])
        change(damaged)
        torch.save(damaged, tmp_path / f"{name}.progress.pt")  # what made it is right, its states are not
        assert main(argv(f"{name}.safetensors", "--resume")) == 1
        err = capsys.readouterr().err
        assert "delete it" in err and err.count("\n") == 1 and "Traceback" not in err, err
    leftover = tmp_path / ".cut.progress.pt.k3x9.tmp"  # write_atomic's, of a training killed while saving
    leftover.write_bytes(b"half")
    assert main(argv("cut.safetensors", "--resume")) == 0
    assert "going on after pass 1 of 2" in capsys.readouterr().out and not leftover.exists()
    whole, cut = load_reader(str(tmp_path / "whole.safetensors"))[0], load_reader(str(tmp_path / "cut.safetensors"))[0]
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), cut.state_dict().values()))
    assert not (tmp_path / "cut.progress.pt").exists()
    (tmp_path / "bad.progress.pt").write_bytes(b"not a checkpoint")
    assert main(argv("bad.safetensors", "--resume")) == 1
    err = capsys.readouterr().err
    assert "bad.progress.pt: " in err and err.count("\n") == 1 and "Traceback" not in err
