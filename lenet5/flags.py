"""The flags the `lenet5` commands share, and how they map onto a preset's configs: one flag per
config field (help text below), unset flags keep the preset's value."""

from __future__ import annotations

import argparse
from dataclasses import fields

from lenet5.runtime import DEFAULT_THREADS


def preset_name(args: argparse.Namespace) -> str:
    """The preset asked for; without one, `paper`, or `paper-distort` (the paper's network as
    tuned for distorted digits) when `--distort` asks for distortions."""
    from lenet5.presets import canonical_name

    if args.preset is not None:
        return canonical_name(args.preset)
    return "paper-distort" if getattr(args, "distort", None) not in (None, "none") else "paper"


def configs_from_args(args: argparse.Namespace):
    """The preset's configs with every flag the user gave written over them."""
    from lenet5.presets import get_preset

    preset = get_preset(preset_name(args))
    model_changes = {f.name: getattr(args, f.name) for f in fields(preset.model) if getattr(args, f.name, None) is not None}
    train_changes = {f.name: getattr(args, f.name) for f in fields(preset.train) if getattr(args, f.name, None) is not None}
    return preset.model.replace(**model_changes), preset.train.replace(**train_changes)


def add_switches(p: argparse.ArgumentParser, train: bool) -> None:
    """One flag per config field; unset flags keep the preset's value."""
    from lenet5.model import CHOICES, ModelConfig
    from lenet5.presets import ALIASES, DISTORTIONS, OPTIMIZERS, PRESETS, SCHEDULES, TrainConfig

    default = "paper, or paper-distort with --distort" if train else "paper"
    p.add_argument("--preset", default=None, metavar="PRESET",
                   help=f"named configuration: {', '.join(PRESETS)} (also: {', '.join(ALIASES)}) (default: {default})")
    g = p.add_argument_group("model switches (default: the preset's)")
    for f in fields(ModelConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name in CHOICES:
            g.add_argument(flag, choices=CHOICES[f.name], default=None, help=f"{FIELD_HELP[f.name]} (default: the preset's)")
        else:
            g.add_argument(flag, type=float, default=None, help=f"{FIELD_HELP[f.name]} (default: the preset's)")
    if not train:
        return
    g = p.add_argument_group("training (default: the preset's)")
    choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES}
    for f in fields(TrainConfig):
        if f.name in ("distort", "dataset"):
            continue
        kind = {"int": int, "float": float, "str": str}[f.type]
        g.add_argument("--" + f.name.replace("_", "-"), type=kind, choices=choices.get(f.name), default=None,
                       help=f"{TRAIN_HELP[f.name]} (default: the preset's)")
    g.add_argument("--distort", nargs="?", const="fresh", choices=DISTORTIONS, default=None,
                   help="random affine distortions: fresh draws each pass, or the paper's fixed pool (default: none; --distort alone: fresh); "
                        "without --preset it trains preset paper-distort (no weight decay)")
    g.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=None, help="dataset (default: mnist)")


FIELD_HELP = {
    "activation": "squashing function: paper 1.7159 tanh(2a/3) | tanh | relu | blog (row-linear + scaled tanh)",
    "pooling": "S2/S4: paper trainable subsampling | avg | max | blog (sum + row-linear)",
    "c3": "C3 wiring: paper Table I | full",
    "head": "output: paper RBF with the Fig. 3 bitmaps | softmax",
    "loss": "map (eq. 9) | mse (eq. 8) | cross-entropy (softmax head)",
    "j": "eq. 9's rubbish-class constant",
    "input": "pad-32 (paper: -0.1 background, 1.175 ink) | resize-32 (normalize 0.5/0.5)",
    "init": "paper U(+-2.4/F_in) | paper-sqrt U(+-2.4/sqrt F_in) | pytorch",
    "bias_init": "zero | fan-in (same range as the weights)",
}
TRAIN_HELP = {
    "optimizer": "sdlm (the paper's algorithm; preset paper-sdlm) | adam | sgd",
    "epochs": "passes over the training set",
    "batch_size": "patterns per update",
    "schedule": "paper (sdlm's eta by pass) | warmup-cosine | constant",
    "eta_scale": "sdlm: factor on the paper's eta schedule",
    "mu": "sdlm: damping mu in eta / (mu + h_kk)",
    "curvature_patterns": "sdlm: patterns h_kk is estimated on before each pass",
    "lr": "adam/sgd: peak learning rate",
    "momentum": "sgd momentum",
    "weight_decay": "adam: decoupled weight decay (AdamW) | sgd: coupled L2",
    "warmup_epochs": "warmup-cosine: passes of linear warm-up",
    "holdout": "keep the last N training digits out and report val_error on them",
    "train_limit": "train on the first N digits only (0: all)",
    "test_limit": "score the first N test digits only (0: all)",
}


def add_threads(p: argparse.ArgumentParser, what: str = "") -> None:
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help=f"CPU threads{' ' + what if what else ''}; the thread count changes rounding, so a seed's weights "
                        f"repeat only at the same count (default: {DEFAULT_THREADS})")


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=None, help="where datasets live (default: $LENET5_DATA, else ~/.cache/lenet5)")


def at_least(low: int):
    """An argparse type: an integer >= `low`, else argparse's one-line usage error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below the least allowed, {low}")
        return value
    parse.__name__ = f"integer >= {low}"
    return parse


def port(text: str) -> int:
    """An argparse type: a TCP port, 0-65535 (0: a free one)."""
    value = at_least(0)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0-65535)")
    return value


def device(text: str) -> str:
    """An argparse type: cpu, cuda or cuda:N, the devices lenet5 runs on."""
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda") or (index and (kind == "cpu" or not index.isdigit())):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device: use cpu, cuda or cuda:N")
    return text
