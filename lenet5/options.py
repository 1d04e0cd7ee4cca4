"""A config field's one description: its default, the help text `--help` shows, and the values
it may take (choices or a check). The dataclass validates itself from it, and the CLI builds its
flags from it, so the library, the CLI and the studies accept and refuse alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lenet5.errors import Lenet5Error


@dataclass(frozen=True)
class Check:
    problem: str  # what is wrong when `ok` says no: "must be at least 1"
    ok: Callable[[Any], bool]


AT_LEAST_1 = Check("must be at least 1", lambda v: v >= 1)
AT_LEAST_0 = Check("must be 0 or more", lambda v: v >= 0)
POSITIVE = Check("must be positive", lambda v: v > 0)  # NaN is refused too


def option(default: Any, help: str, choices: tuple[str, ...] | None = None, check: Check | None = None):
    """A dataclass field described once: default, help text, choices or check."""
    return field(default=default, metadata={"help": help, "choices": choices, "check": check})


def validate(config: Any) -> None:
    """Raise Lenet5Error for the first field of `config` outside its choices or failing its check."""
    for f in dataclasses.fields(config):
        value, choices, check = getattr(config, f.name), f.metadata.get("choices"), f.metadata.get("check")
        if choices is not None and value not in choices:
            raise Lenet5Error(f"unknown {f.name} {value!r}; choose one of: {', '.join(choices)}")
        if check is not None and not check.ok(value):
            raise Lenet5Error(f"{f.name} {check.problem}, got {value}")


def choices_of(config_class: type) -> dict[str, tuple[str, ...]]:
    return {f.name: f.metadata["choices"] for f in dataclasses.fields(config_class) if f.metadata.get("choices")}
