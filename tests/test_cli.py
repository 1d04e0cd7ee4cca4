import json
import subprocess
import sys

import pytest

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
    (["summary", "--preset", "nope"], "unknown preset 'nope'; choose one of: paper, blog, modern"),
    (["summary", "--head", "softmax"], "does not fit the softmax head"),
    (["train", "--epochs", "0", "--out", "/tmp/never"], "epochs must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_1(capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


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
