"""The paper's network on the CPU as one C kernel (lenet5/fused.c): a training step's losses
and gradients, and inference scores, without autograd or PyTorch's per-operator costs.

Used where it applies: a CPU run of a network with the paper's layers (scaled tanh, trainable
subsampling, Table I, RBF head; loss eq. 9 or eq. 8), i.e. the presets `paper`, `paper-distort`
and `paper-sdlm`. It computes what LeNet and the loss compute, in its own rounding: gradients
agree with autograd's to float32 precision (tests/test_fused.py); a seed gives the same weights
run after run, on any thread count (SDLM's curvature pass still runs through PyTorch, so
`paper-sdlm` repeats at the same thread count), but not the weights of the PyTorch path.
Built on first use with the machine's C compiler (about 2 s) into ~/.cache/lenet5/kernels;
without a compiler, or with LENET5_KERNEL=pytorch, everything runs through PyTorch as before.

Never slower than PyTorch: on first use at a thread count, a few training steps are timed both
ways (CHOICE_STEPS) and the faster path is kept beside the kernel, so the choice, and with it a
seed's weights, stays the same on this machine from then on. LENET5_KERNEL=fused forces the kernel.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch

from lenet5.atomic import write_atomic
from lenet5.model import LeNet, ModelConfig

SOURCE = Path(__file__).with_name("fused.c")
# -fopenmp: the kernel's threads are PyTorch's own OpenMP threads (the loader finds torch's libgomp
# already in the process), so the two never compete for cores; without OpenMP it runs on one thread.
COMPILE_SECONDS = 120  # a compiler still running after this is given up on
# LENET5_MARCH: the CPU to build for (default: this one); x86-64-v3 builds for any AVX2 machine,
# x86-64-v2 for older ones (benchmarks/speed.py --isa times this machine as one of those).
MARCH = f"-march={os.environ.get('LENET5_MARCH') or 'native'}"
FLAG_SETS = (("-O3", MARCH, "-fopenmp"), ("-O3", MARCH), ("-O3",))
LOSSES = {"map": 0, "mse": 1}  # fused.c's codes for eq. 9 and eq. 8
PAPER_LAYERS = {"architecture": "lenet5", "activation": "scaled-tanh", "pooling": "subsampling", "c3": "table", "head": "rbf"}


def supports(config: ModelConfig) -> bool:
    """Whether fused.c computes this network: the paper's layers, an RBF loss (any init, any input)."""
    return all(getattr(config, k) == v for k, v in PAPER_LAYERS.items()) and config.loss in LOSSES


def applies(model: LeNet, device: torch.device | str = "cpu") -> bool:
    """Whether to run `model` on `device` through the kernel: a supported network on the CPU, a
    compiler to build it, and the kernel faster than PyTorch here (`choice`), unless LENET5_KERNEL
    says `fused` or `pytorch`."""
    forced = os.environ.get("LENET5_KERNEL")
    if torch.device(device).type != "cpu" or not supports(model.config) or forced == "pytorch" or library() is None:
        return False
    return forced == "fused" or choice(torch.get_num_threads())["kernel"] == "fused.c"


def timing_of(model: LeNet, device: torch.device | str = "cpu") -> dict[str, Any] | None:
    """The timing that chose the path of `model` on `device` (see `choice`); None where nothing
    was timed (not a network for the kernel, no compiler, or LENET5_KERNEL set)."""
    if torch.device(device).type != "cpu" or not supports(model.config) or os.environ.get("LENET5_KERNEL") or library() is None:
        return None
    return choice(torch.get_num_threads())


CHOICE_STEPS = 12  # timed training steps of batch 32 each way (after 3 warm-up steps): about 0.1 s


def _step_ms(step) -> float:
    import time

    for _ in range(3):
        step()
    times = []
    for _ in range(CHOICE_STEPS):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1000 * sorted(times)[len(times) // 2]


def time_both(threads: int) -> dict[str, float]:
    """Median ms of one batch-32 gradient of the paper's network through fused.c and through
    autograd, at `threads` threads (also when first asked for under no_grad or inference mode)."""
    from lenet5.losses import pattern_loss

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode(False), torch.enable_grad():
            model = LeNet(ModelConfig(), 0)
            g = torch.Generator().manual_seed(0)
            x, y = torch.randn(32, 1, 32, 32, generator=g), torch.randint(0, 10, (32,), generator=g)
            net, loss = FusedNet(model, threads), pattern_loss("map", 0.1)
            fused_ms = _step_ms(lambda: net.gradients(x, y, None, 1 / 32))
            model.zero_grad(set_to_none=True)
            pytorch_ms = _step_ms(lambda: loss(model(x), y).mean().backward())
    finally:
        torch.set_num_threads(before)
    return {"fused_ms": fused_ms, "pytorch_ms": pytorch_ms}


@functools.cache
def choice(threads: int) -> dict[str, Any]:
    """Which path trains faster on this machine at `threads` threads: {"kernel": "fused.c" or
    "pytorch", "fused_ms", "pytorch_ms"}, timed once and kept beside the kernel."""
    path = Path(library()._name).with_suffix(f".threads{threads}.json")
    with contextlib.suppress(OSError, ValueError):  # not timed on this machine yet, or an unreadable record: time again
        kept = json.loads(path.read_text())
        if isinstance(kept, dict) and kept.get("kernel") in ("fused.c", "pytorch"):
            return kept
    timed = time_both(threads)
    made = {"kernel": "fused.c" if timed["fused_ms"] <= timed["pytorch_ms"] else "pytorch", **timed}
    with contextlib.suppress(OSError):  # a cache we cannot write: timed again by the next process
        write_atomic(path, lambda tmp: tmp.write_text(json.dumps(made) + "\n"))
    return made


def _machine() -> str:
    """What -march=native compiles for: the CPU's model and feature flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:  # not Linux
        return platform.processor() + platform.machine()
    return "\n".join(sorted({line for line in lines if line.startswith(("model name", "flags", "Features"))}))


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lenet5" / "kernels"


def private_temp_dir() -> Path:
    """Where kernels go when the cache cannot be written (a read-only home): one folder per user
    in the temporary directory, shared by that user's processes, not one left behind by each."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"lenet5-kernels-{user}"


def _build(compiler: str, flags: tuple[str, ...], folder: Path) -> Path | None:
    """fused.c compiled with `flags` into `folder` (cached by source, compiler, flags and CPU;
    written atomically, as parallel runs may build at once), or None if the compiler refuses or
    takes over COMPILE_SECONDS. A refusal is remembered beside the cache (`.failed`), so the
    next process does not try again; a cached file is used only if it is safe (`trusted`)."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=COMPILE_SECONDS).stdout
    key = hashlib.sha256("\0".join([SOURCE.read_text(), version, " ".join(flags), _machine()]).encode()).hexdigest()[:16]
    target, failed = folder / f"fused-{key}.so", folder / f"fused-{key}.failed"
    if target.exists() and trusted(target):
        return target
    if failed.exists():
        return None
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        out = Path(tmp) / target.name
        command = [compiler, *flags, "-shared", "-fPIC", "-std=gnu11", "-o", str(out), str(SOURCE), "-lm"]
        try:
            built = subprocess.run(command, capture_output=True, timeout=COMPILE_SECONDS).returncode == 0
        except subprocess.TimeoutExpired:
            built = False
        if not built:
            write_atomic(failed, lambda path: path.write_text(" ".join(command) + "\n"))
            return None
        os.chmod(out, 0o755)
        os.replace(out, target)
    return target if trusted(target) else None


def trusted(path: Path) -> bool:
    """Whether a compiled kernel may be loaded: it and its folder belong to this user, and no one
    else can write either (a shared or planted cache would run another's code in this process)."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    for p in (path, path.parent):
        info = p.stat()
        if (uid is not None and info.st_uid != uid) or info.st_mode & 0o022:
            return False
    return True


def build(folder: Path) -> ctypes.CDLL | None:
    """fused.c built into `folder` (or found there) with the first flags that the compiler and the
    loader accept, loaded; None without a C compiler."""
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        return None
    for flags in FLAG_SETS:
        path = _build(compiler, flags, folder)
        if path is None:
            continue  # the compiler refuses these flags
        try:
            return _load(path)
        except OSError:  # e.g. an OpenMP runtime the loader cannot find
            continue
    return None


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    p, i, f = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
    lib.lenet5_work_bytes.restype = lib.lenet5_grad_buffer_floats.restype = ctypes.c_size_t
    lib.lenet5_scores.argtypes = [p, i, i, p, p, p, p, p]
    lib.lenet5_train.argtypes = [p, i, i, p, p, p, p, p, i, f, f, p, p, p, p]
    return lib


@functools.cache
def library() -> ctypes.CDLL | None:
    """fused.c compiled for this machine (built on first use), or None when no C compiler builds it."""
    for folder in (cache_dir, private_temp_dir):
        try:
            return build(folder())
        except (OSError, subprocess.SubprocessError):  # an unwritable cache (then the private temporary one), a compiler that will not run
            continue
    return None


class FusedNet:
    """A LeNet as fused.c reads it: pointers to its parameters (updated in place by the
    optimizer, so they stay valid), scratch memory per thread, and gradient buffers."""

    def __init__(self, model: LeNet, threads: int | None = None):
        assert supports(model.config) and library() is not None
        self.lib, self.model = library(), model
        self.params = list(model.parameters())
        assert all(p.is_contiguous() and p.dtype == torch.float32 for p in self.params)
        self.pointers = (ctypes.c_void_p * (len(self.params) + 1))(*[p.data_ptr() for p in self.params],
                                                                   model.output.prototypes.data_ptr())
        self.table = (model.C3.mask[:, :, 0, 0] != 0).to(torch.uint8).contiguous()
        self.threads = threads or torch.get_num_threads()
        self.work = torch.empty(self.threads * self.lib.lenet5_work_bytes(), dtype=torch.uint8)
        self.grad = torch.zeros(self.lib.lenet5_grad_floats())  # every parameter's .grad is a view of it
        self.grads = [g.view_as(p) for g, p in zip(self.grad.split([p.numel() for p in self.params]), self.params)]
        self.group_grads = torch.empty(0)

    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """RBF penalties (N, 10) for inputs (N, 1, 32, 32), as LeNet.forward gives them."""
        inputs = inputs.to(torch.float32).contiguous()
        assert inputs.shape[1:] == (1, 32, 32), inputs.shape
        out = torch.empty(len(inputs), 10)
        self.lib.lenet5_scores(self.work.data_ptr(), self.threads, len(inputs), inputs.data_ptr(), None, self.pointers,
                               self.table.data_ptr(), out.data_ptr())
        return out

    def gradients(self, inputs: torch.Tensor, labels: torch.Tensor, idx: torch.Tensor | None, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Set each parameter's .grad to the gradient of `scale` x the loss summed over the patterns
        inputs[idx] (float32 (N, 1, 32, 32), contiguous) with targets labels[idx] (int64 (N,)), all
        of them when idx is None; return each pattern's loss (B,) and whether its smallest penalty is
        another class's (B,)."""
        assert inputs.dtype == torch.float32 and inputs.is_contiguous() and labels.dtype == torch.int64 and labels.is_contiguous()
        if idx is not None:
            idx = idx.contiguous()
        batch = len(inputs) if idx is None else len(idx)
        floats = self.lib.lenet5_grad_buffer_floats(batch)
        if len(self.group_grads) < floats:
            self.group_grads = torch.empty(floats)
        losses, wrong = torch.empty(batch), torch.empty(batch, dtype=torch.uint8)
        config = self.model.config
        self.lib.lenet5_train(self.work.data_ptr(), self.threads, batch, inputs.data_ptr(), labels.data_ptr(),
                              None if idx is None else idx.data_ptr(), self.pointers, self.table.data_ptr(),
                              LOSSES[config.loss], config.j, scale, self.group_grads.data_ptr(), self.grad.data_ptr(),
                              losses.data_ptr(), wrong.data_ptr())
        for p, g in zip(self.params, self.grads):
            p.grad = g
        return losses, wrong.bool()
