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
    """One flag per config field, its help and choices from the field's own description
    (lenet5/options.py); unset flags keep the preset's value."""
    from lenet5.model import ModelConfig
    from lenet5.presets import ALIASES, DISTORTIONS, PRESETS, TrainConfig

    default = "paper, or paper-distort with --distort" if train else "paper"
    p.add_argument("--preset", default=None, metavar="PRESET",
                   help=f"named configuration: {', '.join(PRESETS)} (also: {', '.join(ALIASES)}) (default: {default})")
    _add_fields(p.add_argument_group("model switches (default: the preset's)"), ModelConfig)
    if not train:
        return
    g = p.add_argument_group("training (default: the preset's)")
    _add_fields(g, TrainConfig, skip=("distort",))
    g.add_argument("--distort", nargs="?", const="fresh", choices=DISTORTIONS, default=None,
                   help="random affine distortions: fresh draws each pass, the paper's fixed pool, or fresh plus random pens "
                        "and scans (default: none; --distort alone: fresh); without --preset it trains preset paper-distort "
                        "(no weight decay)")


def _add_fields(group, config_class: type, skip: tuple[str, ...] = ()) -> None:
    for f in fields(config_class):
        if f.name in skip:
            continue
        kind = {"int": int, "float": float, "str": str}[f.type]
        group.add_argument("--" + f.name.replace("_", "-"), type=kind, choices=f.metadata.get("choices"), default=None,
                           help=f"{f.metadata['help']} (default: the preset's)")


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


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    if not 0 <= (value := _number(text)) <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not a probability (0 to 1)")
    return value


def probability_or_target(text: str) -> float | str:
    """An argparse type: a probability in [0, 1], or an error target among the accepted readings as a
    percentage ('0.50%' is read as '0.5%'), whose threshold the model's file names."""
    if not text.strip().endswith("%"):
        return probability(text)
    if not 0 < (value := _number(text.strip()[:-1])) < 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not an error target (a percentage above 0 and below 100)")
    return f"{value:g}%"


def non_negative(text: str) -> float:
    """An argparse type: a finite number >= 0 (NaN refused)."""
    if not 0 <= (value := _number(text)) < float("inf"):
        raise argparse.ArgumentTypeError(f"{value:g} is not a number 0 or more")
    return value
