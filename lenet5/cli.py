"""The `lenet5` command: parse flags, call the library, print. Nothing else lives here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import asdict
from pathlib import Path

from lenet5.errors import Lenet5Error
from lenet5.flags import (add_data_dir, add_switches, add_threads, at_least, configs_from_args, device, non_negative, port,
                          preset_name, probability)
from lenet5.runtime import keep_freed_memory, machine_cores, use_threads


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch

    fetch(args.dataset, args.data_dir)
    return 0


def cmd_data_verify(args: argparse.Namespace) -> int:
    from lenet5.data.datasets import dataset_dir, get_spec, verify

    spec = get_spec(args.dataset)
    directory = dataset_dir(spec, args.data_dir)
    problems = verify(spec, directory)
    for name, problem in problems.items():
        print(f"{'ok  ' if problem is None else 'BAD '} {directory / name}" + (f": {problem}" if problem else f" md5 {spec.files[name][0]}"))
    if any(problems.values()):
        raise Lenet5Error(f"{spec.name} in {directory} failed verification; run: lenet5 data fetch {spec.name}")
    return 0


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


def check_device(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise Lenet5Error("--device cuda asked for, but PyTorch sees no CUDA device")


def cmd_train(args: argparse.Namespace) -> int:
    from lenet5.runtime import nondeterministic_operation, use_deterministic_algorithms
    from lenet5.train import Trainer, check_run_dir, default_threads

    model_config, train_config = configs_from_args(args)
    check_device(args.device)
    threads = use_threads(args.threads if args.threads is not None else default_threads(model_config, train_config, args.device))
    if args.deterministic:
        use_deterministic_algorithms()
    name = preset_name(args)
    run_dir = Path(args.out or f"runs/{name}-seed{args.seed}")
    check_run_dir(run_dir, args.resume)
    trainer = Trainer(model_config, train_config, args.seed, run_dir, args.data_dir, args.device, progress=not args.quiet)
    print(f"training preset {name} (seed {args.seed}) into {run_dir}: {trainer.model.num_parameters():,} parameters, "
          f"{train_config.optimizer}, batch {train_config.batch_size}, {train_config.epochs} passes, "
          f"{threads} thread{'s' if threads > 1 else ''} on {args.device}")
    try:
        summary = trainer.fit(resume=args.resume)
    except RuntimeError as e:
        refusal = nondeterministic_operation(e)
        if refusal is None:
            raise
        raise refusal from None
    except KeyboardInterrupt:
        done = len(trainer.history)
        print(f"lenet5: interrupted; the checkpoint after pass {done} is in {run_dir}; continue with --resume", file=sys.stderr)
        return 130
    test = summary["test_error"]
    print(f"done: test error {100 * test:.2f}% after {summary['epochs']} passes, {summary['wall_seconds']:.0f} s; "
          f"{run_dir}/metrics.json, {run_dir}/curves.png")
    return 0


def cmd_train_reader(args: argparse.Namespace) -> int:
    from lenet5.checkpoint import save_json
    from lenet5.data.sources import fetch_and_load
    from lenet5.read.weights import save_reader

    out = Path(args.out)
    if not out.parent.is_dir():
        raise Lenet5Error(f"--out {out}: folder {out.parent} does not exist")
    for name in ("strips", "epochs"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise Lenet5Error(f"--{name} must be 1 or more")
    if args.seed < 0:
        raise Lenet5Error("--seed must be 0 or more")
    if args.lr is not None and not 0 < args.lr < float("inf"):
        raise Lenet5Error("--lr must be more than 0 and finite")
    for name in ("joined", "pens"):
        if getattr(args, name) is not None and (args.method != "sdnn" or not 0 <= getattr(args, name) <= 1):
            raise Lenet5Error(f"--{name} is a share between 0 and 1, for --method sdnn")
    start_from = None
    if args.start_from is not None:
        from lenet5.read.weights import load_reader
        from lenet5.read.sdnn import SDNN

        start_from, start_meta = load_reader(args.start_from)
        if args.method != "sdnn" or not isinstance(start_from, SDNN):
            raise Lenet5Error(f"--start-from {args.start_from}: only an SDNN goes on training (with --method sdnn)")
    threads = use_threads(args.threads)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    images, labels = digits.train_images.numpy(), digits.train_labels.numpy()
    given = {k: v for k, v in (("strips", args.strips), ("epochs", args.epochs), ("lr", args.lr),
                                        ("joined", args.joined), ("pens", args.pens)) if v is not None}
    print(f"training a reader of whole numbers ({args.method}, seed {args.seed}, {threads} thread{'s' if threads > 1 else ''}) "
          f"into {out}")
    if args.method == "sdnn":
        from lenet5.read.train_sdnn import SDNNTraining, train_sdnn

        config = SDNNTraining(**given, workers=threads)
        if start_from is not None:
            config = dataclasses.replace(config, maps=start_from.maps)  # the metadata says what was trained
        model, history = train_sdnn(images, labels, config, args.seed, log=lambda s: print(s, flush=True),
                                    start_from=start_from)
    else:
        from lenet5.read.train_hos import HOSTraining, train_reader

        config = HOSTraining(**given)
        model, history = train_reader(images, labels, config, args.seed, log=lambda s: print(s, flush=True))
    command = "lenet5 train-reader " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train-reader"] else ""
    meta = {"training": dataclasses.asdict(config), "seed": args.seed, "held_out_exact": history[-1]["val_exact"],
            "threads": threads, "command": command}  # save_reader adds the method (and an SDNN's maps)
    if start_from is not None:  # how the starting point was made, so the chain can be re-run
        meta["started_from"] = {k: start_meta.get(k) for k in ("source", "command", "seed", "held_out_exact", "started_from")}
    if args.method == "hos":
        meta["model_config"] = dataclasses.asdict(model.config)
    save_reader(model, out, meta)
    save_json(out.with_suffix(".json"), {**meta, "history": history})
    print(f"wrote {out} and {out.with_suffix('.json')}: held-out amounts read exactly {100 * history[-1]['val_exact']:.1f}%")
    return 0


def cmd_calibrate_reader(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch_and_load
    from lenet5.read.committee import join
    from lenet5.read.trust import TARGETS, held_out_amounts, measure_trust
    from lenet5.read.weights import load_reader, save_reader

    out = Path(args.out)
    if not out.parent.is_dir():
        raise Lenet5Error(f"--out {out}: folder {out.parent} does not exist")
    loaded = [load_reader(spec) for spec in args.model]
    try:
        model = join([m for m, _ in loaded])
    except ValueError as e:
        raise Lenet5Error(f"--model: {e}") from None
    threads = use_threads(args.threads)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    print(f"writing {args.amounts:,} held-out amounts (the last 10,000 training digits, seed {args.seed})", flush=True)
    amounts = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), args.amounts, args.seed)
    trust = measure_trust(model, amounts, log=lambda s: print(s, flush=True))
    print(f"calibration error (10 bins): {100 * trust.ece_before:.1f} points before, {100 * trust.ece_after:.1f} after "
          f"(Platt a {trust.calibration.a:.3f}, b {trust.calibration.b:.3f}; fitted on these amounts)")
    for t in TARGETS:
        print(f"for {100 * t:g}% errors among the accepted: --reject-below {trust.thresholds[t]:.4f}, "
              f"accepting {100 * trust.accepted[t]:.1f}% of these amounts")
    command = "lenet5 calibrate-reader " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["calibrate-reader"] else ""
    made_by = [{k: meta.get(k) for k in ("source", "command", "seed", "held_out_exact", "started_from", "members")}
               for _, meta in loaded]
    meta = {"command": command, "threads": threads, "members_made_by": made_by,
            "calibration": {**trust.calibration.as_dict(), "fitted_on": {"amounts": args.amounts, "seed": args.seed,
                                                                      "digits": "the last 10,000 MNIST training digits"}},
            "held_out": trust.as_dict(), "held_out_exact": trust.exact}
    save_reader(model, out, meta)
    print(f"wrote {out}")
    return 0


def cmd_calibrate_model(args: argparse.Namespace) -> int:
    from lenet5.calibration import Temperature
    from lenet5.data.sources import fetch_and_load
    from lenet5.evaluate import digit_trust
    from lenet5.pretrained import load_model, save_weights

    out = Path(args.out)
    if not out.parent.is_dir():
        raise Lenet5Error(f"--out {out}: folder {out.parent} does not exist")
    twin, info = load_model(args.model)
    train_config = info.get("train_config") or {}
    holdout = int(train_config.get("holdout") or 0)
    if not holdout:
        raise Lenet5Error(f"--model {args.model}: trained on every training digit, none held out to calibrate on "
                          "(train it with --holdout 10000)")
    model, meta = load_model(args.weights) if args.weights else (twin, info)
    if model.config != twin.config:
        raise Lenet5Error(f"--weights {args.weights}: another network than --model's ({model.config} against {twin.config})")
    use_threads(args.threads)
    digits = fetch_and_load(train_config.get("dataset", "mnist"), args.data_dir, log=lambda s: None)
    n = int(train_config.get("train_limit") or 0) or len(digits.train_images)
    images, labels = digits.train_images[n - holdout: n], digits.train_labels[n - holdout: n]  # as lenet5 train held them out
    trust = digit_trust(twin, twin.prepare(images), labels)
    print(f"{holdout:,} held-out digits of {info['source']}: temperature {trust.temperature:.3f}; calibration error "
          f"(10 bins) {100 * trust.ece_before:.2f} points before, {100 * trust.ece_after:.2f} after")
    for t, p in trust.thresholds.items():
        print(f"for {100 * t:g}% errors among the accepted digits: probability {p:.4f}, accepting {100 * trust.accepted[t]:.1f}%")
    command = "lenet5 calibrate-model " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["calibrate-model"] else ""
    kept = {k: v for k, v in meta.items() if k not in ("source", "calibration")}
    kept.setdefault("model_config", dataclasses.asdict(model.config))
    save_weights(model, out, {**kept, "calibration": {**Temperature(trust.temperature).as_dict(), "command": command,
                                                       "fitted_on": f"the last {holdout:,} training digits, held out "
                                                                    f"from {info['source']}",
                                                       "twin": {"seed": info.get("seed"), "train_config": train_config,
                                                                "test_error": info.get("test_error")}}})
    print(f"wrote {out}")
    return 0


def cmd_distortions(args: argparse.Namespace) -> int:
    import torch

    from lenet5.data.distort import distort, draw_parameters
    from lenet5.data.sources import fetch_and_load
    from lenet5.plots import plot_distortions

    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    first = torch.tensor([int((digits.test_labels == k).nonzero()[0]) for k in range(10)])
    images = digits.test_images[first]
    generator = torch.Generator().manual_seed(args.seed)
    draws = torch.stack([distort(images, draw_parameters(10, generator)) for _ in range(args.draws)], dim=1)
    out = Path(args.out)
    plot_distortions(images, draws, out)
    print(f"wrote {out}: 10 test digits x {args.draws} random distortions")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import torch

    from lenet5.plots import plot_predictions
    from lenet5.predict import predict_images
    from lenet5.pretrained import load_model
    from lenet5.preprocess import load_image

    model, info = load_model(args.model)
    error = info.get("test_error")
    print(f"lenet5: reading with {info['source']}" + (f" (MNIST test error {100 * error:.2f}%)" if error is not None else ""),
          file=sys.stderr)
    results = predict_images(model, args.images)
    good = print_per_file(results, args.json, lambda r: f"{r.digit} (confidence {r.confidence:.2f}"
                          + ("" if r.probability is None else f", probability {r.probability:.3f}") + ")", args.reject_below)
    if args.show and good:
        items = [(r.file, load_image(r.file), model.prepare(r.seen[None])[0, 0], torch.tensor(r.scores), r.digit) for r in good]
        plot_predictions(items, Path(args.show), smaller_wins=model.config.head == "rbf")
        print(f"wrote {args.show}", file=sys.stderr)
    return exit_status(results, good)


def print_per_file(results: list, as_json: bool, answer, reject_below: float | None = None) -> list:
    """One line, or one JSON object, per image; returns the results that have no error. With
    `reject_below`, a reading less confident than that is marked rejected (for a person to read)."""
    for r in results:
        rejected = reject_below is not None and r.error is None and r.confidence < reject_below
        if as_json:
            print(json.dumps({**r.as_dict(), **({"rejected": rejected} if reject_below is not None and r.error is None else {})}))
        elif r.error:
            print(f"{r.file}: error: {r.error}")
        else:
            print(f"{r.file}: {'rejected: ' if rejected else ''}{answer(r)}")
    return [r for r in results if r.error is None]


def exit_status(results: list, good: list) -> int:
    """1 (and a line on stderr) when some images could not be read, else 0."""
    failed = len(results) - len(good)
    if failed:
        print(f"lenet5: {failed} of {len(results)} images could not be read", file=sys.stderr)
    return 1 if failed else 0


def cmd_read(args: argparse.Namespace) -> int:
    from lenet5.plots import plot_readings
    from lenet5.preprocess import load_image
    from lenet5.read import load_reader, read_images

    model, info = load_reader(args.model)
    print(f"lenet5: reading with {info['source']}", file=sys.stderr)
    results = read_images(model, args.images)
    good = print_per_file(results, args.json, lambda r: f"{r.number} (confidence {r.confidence:.2f})", args.reject_below)
    if args.show and good:
        plot_readings([(Path(r.file).name, load_image(r.file), r) for r in good], Path(args.show))
        print(f"wrote {args.show}", file=sys.stderr)
    return exit_status(results, good)


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
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "confusion"}))
        return 0
    low, high = result.interval
    print(f"{args.model} on {args.dataset} test: {100 * result.error:.2f}% error ({len(result.misclassified)} of {result.n}), "
          f"95% interval {100 * low:.2f}..{100 * high:.2f}%")
    print(format_confusion(result.confusion))
    print(f"rejection needed for 0.5% error on the rest: {100 * result.rejection.needed_for():.2f}% of the test digits")
    if getattr(model, "calibration", None) is not None:
        from lenet5.evaluate import probability_calibration

        ece = probability_calibration(model, model.prepare(digits.test_images), digits.test_labels)
        print(f"its calibrated probability (temperature {model.calibration.T:.3f}): calibration error {100 * ece:.2f} points (10 bins)")
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
    out = Path(args.out)
    if not out.parent.is_dir():
        raise Lenet5Error(f"--out {out}: folder {out.parent} does not exist")
    if args.format == "safetensors":
        meta = {k: info[k] for k in ("model_config", "train_config", "seed", "test_error", "epoch",
                                     "threads", "device", "device_name", "deterministic") if info.get(k) is not None}
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


def check_study(args: argparse.Namespace) -> None:
    """The flags of a study (ablate, compare) that argparse cannot check alone."""
    if args.ray is None:  # here, on this machine's cores; on Ray, the cluster checks what a task asks for
        if args.storage is not None:
            raise Lenet5Error("--storage goes with --ray: it is where a cluster's workers sync their runs")
        use_threads(args.threads)
        if args.threads * args.workers > machine_cores():
            raise Lenet5Error(f"--workers {args.workers} x --threads {args.threads} asks for more than the {machine_cores()} cores this machine gives")
        check_device(args.device)
    elif args.workers != 1:
        raise Lenet5Error("--workers is for runs on this machine; with --ray the cluster's free CPUs decide how many go at once")


def study_where(args: argparse.Namespace) -> str:
    where = f"{args.workers} workers" if args.ray is None else f"Ray ({args.ray}), each run"
    return f"{where} x {args.threads} threads on {args.device}"


def cmd_ablate(args: argparse.Namespace) -> int:
    from lenet5.ablate import markdown, run_study, select, summarize

    check_study(args)
    variants = select(args.only)
    out = Path(args.out)
    print(f"ablation: {len(variants)} variants x {args.seeds} seeds, {args.epochs} passes, {study_where(args)} -> {out}")
    results = run_study(variants, args.seeds, args.epochs, out, args.workers, args.data_dir, args.train_limit, args.test_limit,
                        threads=args.threads, device=args.device, ray_address=args.ray,
                        storage=None if args.storage is None else Path(args.storage))
    print(markdown(summarize(results)))
    print(f"{sum(r['ran'] for r in results)} runs trained, {sum(not r['ran'] for r in results)} reused; "
          f"wrote {out}/results.csv, ablation.md, ablation.png")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from lenet5.compare import run_compare, select
    from lenet5.compare.report import markdown

    check_study(args)
    rows = select(args.only)
    out = Path(args.out)
    print(f"comparison: {len(rows)} rows x {args.seeds} seeds, {args.epochs} passes a network, {study_where(args)} -> {out}")
    results, summary = run_compare(rows, args.seeds, args.epochs, out, args.workers, args.data_dir, args.train_limit,
                                   args.test_limit, threads=args.threads, device=args.device, ray_address=args.ray,
                                   storage=None if args.storage is None else Path(args.storage))
    print(markdown(summary))
    print(f"{sum(r['ran'] for r in results)} runs made, {sum(not r['ran'] for r in results)} reused; "
          f"wrote {out}/results.csv, compare.md, fig9.png, fig10.png" + (", fig6.md, fig6.png" if (out / "fig6.md").exists() else ""))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from lenet5.serve import require_packages

    require_packages()
    from lenet5.serve.app import create_app
    from lenet5.serve.server import bind, run, url

    app = create_app(args.model)
    sock = bind(args.host, args.port)
    print(f"lenet5: reading with {args.model}; open {url(sock)} in a browser (API docs: {url(sock)}docs; Ctrl-C stops)",
          flush=True)
    run(app, sock)
    return 0


def add_study(p: argparse.ArgumentParser, out: str, metavar: str, what: str, seeds: int) -> None:
    """The flags every study (ablate, compare) takes."""
    p.add_argument("--seeds", type=at_least(1), default=seeds, help=f"seeds per row (default: {seeds})")
    p.add_argument("--epochs", type=at_least(1), default=20, help="passes per training run (default: 20)")
    p.add_argument("--workers", type=at_least(1), default=1, help="runs in parallel on this machine (default: 1)")
    add_threads(p, what="per run")
    p.add_argument("--device", type=device, default="cpu", help="cpu or cuda; on Ray, cuda asks one GPU per run (default: cpu)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run each job as a task on the Ray cluster at ADDRESS (auto, ray://host:10001), or on a new "
                        "local Ray without one; needs pip install -e '.[cluster]' (default: off, runs on this machine)")
    p.add_argument("--storage", default=None, metavar="PATH",
                   help="with --ray: a folder this machine and every node see, where each run is synced after every "
                        "pass (default: the study folder on a local Ray, else runs travel back to this machine)")
    p.add_argument("--out", default=out, help=f"study folder (default: {out})")
    p.add_argument("--only", nargs="+", default=None, metavar=metavar, help=f"run only these {what} (default: all)")
    p.add_argument("--train-limit", type=at_least(0), default=0, help="train on the first N digits only (default: 0, all)")
    p.add_argument("--test-limit", type=at_least(0), default=0, help="score the first N test digits only (default: 0, all)")
    add_data_dir(p)


def build_parser() -> argparse.ArgumentParser:
    from lenet5.pretrained import BEST
    from lenet5.read.weights import DEFAULT_READER

    parser = argparse.ArgumentParser(prog="lenet5", description="LeNet-5 (LeCun et al. 1998) in PyTorch.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="fetch and verify datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    for name, func, text in (("fetch", cmd_data_fetch, "fetch a dataset (mirrors, then offline routes) and verify its md5s"),
                             ("verify", cmd_data_verify, "check the md5 of a fetched dataset's four IDX files")):
        p = data_sub.add_parser(name, help=text)
        p.add_argument("dataset", nargs="?", default="mnist", choices=["mnist", "fashion-mnist"], help="dataset (default: mnist)")
        add_data_dir(p)
        p.set_defaults(func=func)

    p = sub.add_parser("summary", help="per-layer shapes, parameters and connections of a configuration")
    add_switches(p, train=False)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table (default: table)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("train", help="train and evaluate LeNet-5 (default: the paper preset on MNIST)")
    add_switches(p, train=True)
    p.add_argument("--seed", type=int, default=0, help="seed of weights, data order and distortions (default: 0)")
    p.add_argument("--out", default=None, help="run directory (default: runs/PRESET-seedSEED)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint (default: off)")
    p.add_argument("--device", type=device, default="cpu", help="cpu or cuda; on cuda adam's steps run as one CUDA graph (default: cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: every core this process may use where the weights do not depend on the "
                        "count, as for runs through fused.c without SDLM; else 1, since the count changes PyTorch's rounding)")
    p.add_argument("--deterministic", action="store_true",
                   help="PyTorch's deterministic algorithms for every operation, or a one-line refusal (default: off; "
                        "CUDA runs repeat without it through cuDNN's deterministic convolutions, the CPU always)")
    p.add_argument("--quiet", action="store_true", help="no progress bars, only one line per pass (default: off)")
    add_data_dir(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="read digits from image files or folders")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, BMP, TIFF, GIF) or folders of them")
    p.add_argument("--model", default=BEST, help=f"shipped model name, checkpoint or run directory (default: {BEST}, the best shipped reader)")
    p.add_argument("--json", action="store_true", help="one JSON object per image (default: one line of text)")
    p.add_argument("--show", default=None, help="also write a PNG of each input, what the network saw and its scores (default: none)")
    p.add_argument("--reject-below", type=non_negative, default=None, metavar="MARGIN",
                   help="mark readings whose confidence (the margin between the best two scores, the paper's rejection "
                        "score) is below this as rejected; docs/reading.md gives the margins for 1%% and 0.5%% error (default: none)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("read", help="read whole numbers: one line of handwritten digits per image")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, BMP, TIFF, GIF) or folders of them")
    p.add_argument("--model", default=DEFAULT_READER,
                   help=f"shipped reader (amounts: the SDNN; amounts-hos: over-segmentation) or .safetensors file from "
                        f"lenet5 train-reader (default: {DEFAULT_READER})")
    p.add_argument("--json", action="store_true", help="one JSON object per image (default: one line of text)")
    p.add_argument("--show", default=None, help="also write a PNG of each image with the digits read boxed (default: none)")
    p.add_argument("--reject-below", type=probability, default=None, metavar="P",
                   help="mark readings whose confidence (the probability of the string read) is below P as rejected, "
                        "for a person to read; docs/reading.md gives P for 1%%, 0.5%% and 0.1%% error among the rest (default: none)")
    p.set_defaults(func=cmd_read)

    p = sub.add_parser("calibrate-reader", help="join readers into a committee and calibrate its confidence on held-out amounts")
    p.add_argument("--model", nargs="+", default=[DEFAULT_READER], metavar="READER",
                   help="shipped readers or .safetensors files; several SDNNs read as one committee (default: "
                        f"{DEFAULT_READER})")
    p.add_argument("--amounts", type=at_least(2), default=2000,
                   help="held-out amounts (of the last 10,000 training digits) to fit and measure on (default: 2000)")
    p.add_argument("--seed", type=at_least(0), default=99, help="seed of those amounts (default: 99)")
    p.add_argument("--out", required=True, help="the calibrated reader's weights file to write")
    add_threads(p)
    add_data_dir(p)
    p.set_defaults(func=cmd_calibrate_reader)

    p = sub.add_parser("calibrate-model", help="fit the temperature of a digit model's probability on held-out digits")
    p.add_argument("--model", required=True,
                   help="a run directory or file trained with --holdout N: its held-out digits fit the temperature")
    p.add_argument("--weights", default=None,
                   help="the model to write with that temperature, trained as --model but on every digit (a shipped name "
                        "or file; default: --model itself)")
    p.add_argument("--out", required=True, help="the weights file to write (.safetensors)")
    add_threads(p)
    add_data_dir(p)
    p.set_defaults(func=cmd_calibrate_model)

    p = sub.add_parser("robustness", help="test error under shifts, scaling, rotation, squeezing, stroke width and noise")
    p.add_argument("models", nargs="*", help="shipped model names, checkpoints or run directories (default: every shipped model)")
    p.add_argument("--out", default="robustness", help="folder for robustness.md, .csv and .png (default: robustness)")
    p.add_argument("--limit", type=int, default=0, help="score the first N test digits only (default: 0, all 10,000)")
    add_threads(p)
    add_data_dir(p)
    p.set_defaults(func=cmd_robustness)

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

    p = sub.add_parser("ablate", help="paper, paper with one choice swapped, blog and modern, over several seeds")
    add_study(p, "runs/ablation", "VARIANT", "variants", seeds=3)
    p.set_defaults(func=cmd_ablate)

    p = sub.add_parser("compare", help="the paper's Section III: LeNet-1, LeNet-4, boosted LeNet-4 and the other classifiers "
                                       "of Fig. 9-12 beside the paper's figures, and Fig. 6")
    add_study(p, "runs/compare", "ROW", "rows or groups (fig9, fig6)", seeds=1)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("serve", help="a web page to draw a digit and watch LeNet-5 read it, layer by layer; and its HTTP API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=port, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--model", default=BEST, help=f"shipped model name, checkpoint or run directory to read with (default: {BEST})")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("train-reader", help="train a reader of whole numbers (the SDNN, or over-segmentation's recognizer) "
                                            "on strips of MNIST training digits")
    p.add_argument("--method", choices=("sdnn", "hos"), default="sdnn",
                   help="sdnn: LeNet-5 swept over the line (Sec. VII); hos: the recognizer of heuristic over-segmentation "
                        "(Sec. VI) (default: sdnn)")
    p.add_argument("--strips", type=int, default=None,
                   help="training strips (amounts) (default: sdnn 160000, hos 25000)")
    p.add_argument("--epochs", type=int, default=None, help="passes over them (default: sdnn 8, hos 7)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: 2e-3)")
    p.add_argument("--joined", type=float, default=None,
                   help="sdnn: share of the training strips' gaps where neighbours touch or overlap (default: 0.5; "
                        "the benchmark's amounts have 1/3)")
    p.add_argument("--pens", type=float, default=None,
                   help="sdnn: share of the training strips written with another pen, wider or finer (default: 0)")
    p.add_argument("--start-from", default=None, metavar="READER",
                   help="go on training this SDNN (shipped name or .safetensors) on the seed's strips, "
                        "with a fresh schedule (default: a new network)")
    p.add_argument("--seed", type=int, default=0, help="seed of the strips, weights and order (default: 0)")
    p.add_argument("--out", default="reader.safetensors", help="weights file to write (default: reader.safetensors)")
    add_threads(p, what="(and processes making strips, for the SDNN)")
    add_data_dir(p)
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("distortions", help="draw 10 digits under random training distortions, as a picture")
    p.add_argument("--out", default="distortions.png", help="PNG to write (default: distortions.png)")
    p.add_argument("--draws", type=at_least(1), default=8, help="distorted versions per digit (default: 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    add_data_dir(p)
    p.set_defaults(func=cmd_distortions)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_freed_memory()  # reuse freed feature maps (lenet5/runtime.py); changes no result
    try:
        return args.func(args)
    except Lenet5Error as e:
        print(f"lenet5: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the file system said no: permissions, missing folders, a full disk
        where = f": {e.filename}" if e.filename else ""
        print(f"lenet5: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lenet5: interrupted", file=sys.stderr)
        return 130
