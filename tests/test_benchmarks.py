"""The README's benchmark commands run and report every row (on tiny synthetic data)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_speed_benchmark_reports_every_pipeline(tiny_data_dir, tmp_path):
    out = tmp_path / "speed.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--passes", "1", "--digits", "128",
                             "--data-dir", str(tiny_data_dir), "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    labels = [row["pipeline"] for row in report["rows"]]
    assert labels[0].startswith("baseline") and len(labels) == 6 and {"lenet5 paper", "lenet5 paper-sdlm"} <= set(labels)
    assert all(row["seconds_per_pass"] > 0 and row["floor_s"] > 0 for row in report["rows"])
    assert all(row["checkpoint_and_metrics_s"] > 0 for row in report["rows"][1:])
    assert report["inference"]["PyTorch"]["batch_1000_digits_per_s"] > 0
    assert report["inference"]["PyTorch"]["predict_png_ms"] > 0
    assert "ONNX Runtime" in report["inference"]  # onnxruntime is a test dependency
    assert "lenet5 paper at its own batch size (32)" in result.stdout


def test_profile_step_lists_operators(tiny_data_dir):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "profile_step.py"), "--digits", "256", "--batch", "64",
                             "--data-dir", str(tiny_data_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ms per step" in result.stdout and "aten::convolution" in result.stdout


def test_readers_benchmark_scores_every_shipped_model(tiny_data_dir):
    from lenet5.pretrained import shipped

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "readers.py"), "--images", "8",
                             "--data-dir", str(tiny_data_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [row[0] for row in rows] == shipped()
    assert all(len([v for v in row if v.endswith("%")]) == 4 for row in rows)
