"""Kill -9 a training run at random moments and resume it: are the final weights those of an
undisturbed run? One reference run, then `--kills` runs each killed (SIGKILL) at a random moment
of the reference's wall time (during import, training, a checkpoint being written, ...) and then
resumed with `--resume` until done; each final checkpoint's weights compared bit for bit.

    python benchmarks/faults.py [--kills 20] [--jobs 1] [--seed 0] [--data-dir D] [-- TRAIN FLAGS...]

`--jobs 2` runs two killed-and-resumed runs at a time: on 2 cores with `-- --threads 1`, about
half the wall time for the same kills. Each is still killed at a moment of the reference's wall
time, measured alone; runs side by side go slower, so the kills land a little earlier in them
(fewer in the last checkpoint's writing) than they would one at a time.

Default flags: the default `lenet5 train` (preset paper, 20 passes).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch


def train(out: Path, flags: list[str], resume: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-m", "lenet5", "train", "--quiet", "--out", str(out), *flags, *(["--resume"] if resume else [])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"faults: a run failed: {err.strip()[-500:]}")


def weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="killed-and-resumed runs (default: 20)")
    parser.add_argument("--jobs", type=int, default=1, help="killed-and-resumed runs at a time (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments (default: 0)")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    parser.add_argument("flags", nargs="*", help="flags for lenet5 train (after --)")
    args = parser.parse_args()
    if args.kills < 1 or args.jobs < 1:
        parser.error("--kills and --jobs must be at least 1")
    flags = args.flags + (["--data-dir", args.data_dir] if args.data_dir else [])
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="lenet5-faults-") as tmp:
        start = time.perf_counter()
        finish(train(Path(tmp) / "reference", flags))
        wall = time.perf_counter() - start
        reference = weights(Path(tmp) / "reference")

        def killed_and_resumed(k: int, moment: float) -> tuple[bool, str]:
            run = Path(tmp) / f"killed-{k}"
            process = train(run, flags)
            time.sleep(moment)
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait()
            finish(train(run, flags, resume=True))
            ok = all(torch.equal(a, b) for a, b in zip(reference.values(), weights(run).values()))
            leftovers = [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
            return ok and not leftovers, (f"kill {k + 1:2d} at {moment:6.2f} s of {wall:.2f}: "
                                          f"{'identical weights' if ok else 'DIFFERENT weights'}"
                                          f"{', temporary files left: ' + ', '.join(leftovers) if leftovers else ''}")

        moments = [rng.uniform(0.02, 0.98) * wall for _ in range(args.kills)]  # drawn first: the same for any --jobs
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            same = 0
            for ok, line in pool.map(killed_and_resumed, range(args.kills), moments):
                same += ok
                print(line, flush=True)
    print(f"{same}/{args.kills} killed and resumed runs ended with the undisturbed run's weights, nothing half-written left")
    return 0 if same == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
