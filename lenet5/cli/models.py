"""Commands about one network: `summary`, `evaluate`, `show`, `export`, `robustness`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from lenet5.cli.common import output_file
from lenet5.errors import Lenet5Error
from lenet5.flags import (add_data_dir, add_switches, add_threads, configs_from_args, preset_name)
from lenet5.runtime import use_threads



def cmd_summary(args: argparse.Namespace) -> int:
    from lenet5.model import LeNet
    from lenet5.summary import format_table, layer_table

    model_config, _ = configs_from_args(args)
    rows = layer_table(LeNet(model_config))
    if args.json:
        print(json.dumps({"config": asdict(model_config), "layers": [asdict(r) for r in rows],
                          "parameters": sum(r.parameters for r in rows), "connections": sum(r.connections for r in rows)}, indent=2))
    else:
        print(f"preset {preset_name(args)}: " + ", ".join(f"{k}={v}" for k, v in asdict(model_config).items()))
        print(format_table(rows))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch_and_load
    from lenet5.evaluate import evaluate
    from lenet5.pretrained import load_model
    from lenet5.report import format_confusion, write_evaluation

    model, info = load_model(args.model)
    digits = fetch_and_load(args.dataset, args.data_dir, log=lambda s: None)
    result = evaluate(model, model.prepare(digits.test_images), digits.test_labels)
    out = Path(args.out or f"eval-{Path(str(args.model)).stem}")
    summary = write_evaluation(result, digits.test_images, out, f"{args.model} on {args.dataset}")
    summary["model"] = info["source"]
    if getattr(model, "calibration", None) is not None:
        from lenet5.evaluate import probability_calibration

        summary["probability_calibration_error"] = probability_calibration(model, model.prepare(digits.test_images),
                                                                           digits.test_labels)
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "confusion"}))
        return 0
    low, high = result.interval
    print(f"{args.model} on {args.dataset} test: {100 * result.error:.2f}% error ({len(result.misclassified)} of {result.n}), "
          f"95% interval {100 * low:.2f}..{100 * high:.2f}%")
    print(format_confusion(result.confusion))
    print(f"rejection needed for 0.5% error on the rest: {100 * result.rejection.needed_for():.2f}% of the test digits")
    if "probability_calibration_error" in summary:
        print(f"its calibrated probability (temperature {model.calibration.T:.3f}): calibration error "
              f"{100 * summary['probability_calibration_error']:.2f} points (10 bins)")
    print(f"wrote {out}/confusion.png, misclassified.png, rejection.png, evaluation.json")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch_and_load
    from lenet5.pretrained import load_model
    from lenet5.report import write_feature_maps, write_prototypes

    model, _ = load_model(args.model)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    if not 0 <= args.digit < len(digits.test_images):
        raise Lenet5Error(f"--digit must be a test digit index in 0..{len(digits.test_images) - 1}, got {args.digit}")
    out = Path(args.out)
    label = int(digits.test_labels[args.digit])
    write_feature_maps(model, digits.test_images[args.digit], out, f"test digit {args.digit} (a {label})")
    print(f"wrote {out}")
    prototypes = out.with_name(out.stem + "-prototypes.png")
    if write_prototypes(model, prototypes):
        print(f"wrote {prototypes}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import torch

    from lenet5.data.sources import fetch_and_load
    from lenet5.export import export
    from lenet5.pretrained import load_model, save_weights

    model, info = load_model(args.model)
    out = output_file(args.out)
    if args.format == "safetensors":
        meta = {k: info[k] for k in ("model_config", "train_config", "seed", "test_error", "epoch",
                                     "threads", "device", "device_name", "deterministic", "calibration") if info.get(k) is not None}
        meta.update(parameters=model.num_parameters(), command=args.made_by or "", preset=args.preset_name or "")
        save_weights(model, out, meta)
        print(f"wrote {out} ({model.num_parameters():,} parameters)")
        return 0
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    check = model.prepare(digits.test_images[:1000])
    parity = export(model, args.format, out, check)
    size = model.architecture.size
    with torch.no_grad():
        features = model.features(torch.zeros(1, 1, size, size)).numel()  # what the output layer reads: F6's 84 for LeNet-5
    print(f"wrote {out}: {args.format}, input 'digits' float32 (B, 1, {size}, {size}) in the '{model.config.input}' convention, "
          f"outputs 'scores' (B, 10) and 'features' (B, {features})")
    print(f"parity with PyTorch on 1,000 test digits: features max |diff| {parity.features:.1e}, "
          f"scores max |diff| {parity.scores:.1e} (relative {parity.scores_relative:.1e})")
    return 0


def cmd_robustness(args: argparse.Namespace) -> int:
    from lenet5.checkpoint import save_csv
    from lenet5.data.sources import fetch_and_load
    from lenet5.plots import plot_robustness
    from lenet5.pretrained import load_model, shipped
    from lenet5.robustness import TRANSFORMATIONS, markdown, robustness

    if args.limit < 0:
        raise Lenet5Error("--limit must be 0 (all) or more")
    out = Path(args.out)
    models = {str(spec): load_model(spec)[0] for spec in (args.models or shipped())}
    use_threads(args.threads)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    n = args.limit or len(digits.test_images)
    images, labels = digits.test_images[:n], digits.test_labels[:n]
    results = {}
    for name, model in models.items():
        print(f"scoring {name} on {n:,} test digits under {sum(len(t.strengths) for t in TRANSFORMATIONS)} conditions", file=sys.stderr)
        results[name] = robustness(model, images, labels)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(results)
    (out / "robustness.md").write_text(table + "\n")
    save_csv(out / "robustness.csv", [{"model": name, **row} for name, rows in results.items() for row in rows])
    plot_robustness(results, out / "robustness.png")
    print(table)
    print(f"wrote {out}/robustness.md, robustness.csv, robustness.png")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    p = sub.add_parser("summary", help="per-layer shapes, parameters and connections of a configuration")
    add_switches(p, train=False)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table (default: table)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("evaluate", help="test error with interval, confusion, misclassified gallery, rejection curve")
    p.add_argument("model", help="shipped model name, checkpoint or run directory")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist", help="dataset (default: mnist)")
    p.add_argument("--out", default=None, help="folder for the pictures and evaluation.json (default: eval-MODEL)")
    p.add_argument("--json", action="store_true", help="print a JSON summary (default: text)")
    add_data_dir(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("show", help="feature maps of C1, S2, C3, S4 for one test digit, and the RBF bitmaps")
    p.add_argument("model", help="shipped model name, checkpoint or run directory")
    p.add_argument("--digit", type=int, default=0, help="index of the MNIST test digit (default: 0)")
    p.add_argument("--out", default="feature-maps.png", help="PNG to write (default: feature-maps.png)")
    add_data_dir(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="export to ONNX or TorchScript (checked against PyTorch), or safetensors weights")
    p.add_argument("model", help="shipped model name, checkpoint or run directory")
    p.add_argument("--format", choices=["onnx", "torchscript", "safetensors"], required=True, help="output format (required)")
    p.add_argument("--out", required=True, help="file to write (required)")
    p.add_argument("--preset-name", default=None, help="safetensors: preset name stored in the metadata (default: empty)")
    p.add_argument("--made-by", default=None, help="safetensors: the command that trained it, stored in the metadata (default: empty)")
    add_data_dir(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("robustness", help="test error under shifts, scaling, rotation, squeezing, stroke width and noise")
    p.add_argument("models", nargs="*", help="shipped model names, checkpoints or run directories (default: every shipped model)")
    p.add_argument("--out", default="robustness", help="folder for robustness.md, .csv and .png (default: robustness)")
    p.add_argument("--limit", type=int, default=0, help="score the first N test digits only (default: 0, all 10,000)")
    add_threads(p)
    add_data_dir(p)
    p.set_defaults(func=cmd_robustness)

