"""The rational tanh of lenet5/fused.c: fit its coefficients and check it on every float32.

tanh(y) ~ y P(y^2) / Q(y^2) on [0, CLAMP], P of degree 4 and Q of degree 3 with P(0) = Q(0) = 1
(so the slope at 0 is exactly 1), fitted by iteratively reweighted least squares towards the
smallest largest error (Lawson's method, linearised as y P - tanh(y) Q = 0). The check evaluates
the float32 coefficients in float32, in fused.c's order (Horner, then y p / q), on every float32
from 0 to 12 and their negatives: the largest error against tanh in float64, oddness, never above
1; twice: with each Horner step rounded twice (a multiply, then an add, as without FMA) and once
(as a fused multiply-add, which GCC emits for it where the CPU has FMA: simulated in float64,
where a product of two float32 is exact).

    python benchmarks/tanh_fit.py [--check-only]
"""

from __future__ import annotations

import argparse

import numpy as np

CLAMP = np.float32(7.90531110763549805)  # fused.c's TANH_CLAMP (Eigen's): tanh there is 1 - 2.7e-7
# fused.c's coefficients (float32): P's of y^2, y^4, y^6, y^8 and Q's of y^2, y^4, y^6
P = np.array([-6.248553230392417e-09, 7.220610768854385e-06, 2.7040583081543446e-03, 1.2719808518886566e-01, 1.0],
             dtype=np.float32)  # highest power first
Q = np.array([1.9773245730903e-04, 2.288278378546238e-02, 4.6053004264831543e-01, 1.0], dtype=np.float32)


def fit(p_degree: int = 4, q_degree: int = 3, rounds: int = 200, points: int = 40_000) -> tuple[np.ndarray, np.ndarray, float]:
    """P and Q (highest power first, constant terms 1) and the largest error on the grid."""
    y = np.linspace(0.0, float(CLAMP), points + 1)[1:]
    t, y2 = np.tanh(y), y * y
    design = np.concatenate([np.stack([y * y2 ** i for i in range(1, p_degree + 1)], 1),
                             np.stack([-t * y2 ** j for j in range(1, q_degree + 1)], 1)], 1)
    weights, q, best = np.ones_like(y), np.ones_like(y), None
    for _ in range(rounds):
        w = weights / q  # Sanathanan-Koerner: the linearised residual divided by the last Q
        solution, *_ = np.linalg.lstsq(design * w[:, None], (t - y) * w, rcond=None)
        p_coef = np.concatenate([solution[:p_degree][::-1], [1.0]])
        q_coef = np.concatenate([solution[p_degree:][::-1], [1.0]])
        q = np.polyval(q_coef, y2)
        error = np.abs(y * np.polyval(p_coef, y2) / q - t)
        if best is None or error.max() < best[2]:
            best = (p_coef, q_coef, float(error.max()))
        weights = weights * np.sqrt(error / error.max() + 0.05)  # more weight where the error is largest
        weights /= weights.mean()
    return best


def horner(coef: np.ndarray, x: np.ndarray, fma: bool = False) -> np.ndarray:
    """sum coef[k] x^(n-k) in float32, each step out * x + c rounded twice, or once with `fma`."""
    out = np.full_like(x, coef[0])
    for c in coef[1:]:
        out = (out.astype(np.float64) * x + np.float64(c)).astype(np.float32) if fma else out * x + c
    return out


def rational_tanh(x: np.ndarray, p: np.ndarray = P, q: np.ndarray = Q, fma: bool = False) -> np.ndarray:
    """fused.c's tanh_r in float32 arithmetic (x float32), its multiply-adds fused or not."""
    y = np.clip(x, -CLAMP, CLAMP)
    y2 = y * y
    return y * horner(p, y2, fma) / horner(q, y2, fma)


def check(p: np.ndarray = P, q: np.ndarray = Q, top: float = 12.0, chunk: int = 1 << 24, fma: bool = False) -> dict[str, float]:
    """Every float32 in [0, top] and its negative: the largest error, the largest value, oddness."""
    last = int(np.array([top], dtype=np.float32).view(np.uint32)[0])
    worst, at, largest, odd = 0.0, 0.0, 0.0, True
    for start in range(0, last + 1, chunk):
        x = np.arange(start, min(start + chunk, last + 1), dtype=np.uint32).view(np.float32)
        r = rational_tanh(x, p, q, fma)
        error = np.abs(r.astype(np.float64) - np.tanh(x.astype(np.float64)))
        k = int(error.argmax())
        if error[k] > worst:
            worst, at = float(error[k]), float(x[k])
        largest = max(largest, float(r.max()))
        odd = odd and bool(np.array_equal(rational_tanh(-x, p, q, fma), -r))
    return {"max_error": worst, "at": at, "max_value": largest, "odd": odd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check-only", action="store_true", help="check fused.c's coefficients without fitting")
    args = parser.parse_args()
    if not args.check_only:
        p, q, grid = fit()
        print(f"fitted: largest error {grid:.3e} on the grid (float64)")
        print("  P:", ", ".join(f"{float(np.float32(c))!r}" for c in p))
        print("  Q:", ", ".join(f"{float(np.float32(c))!r}" for c in q))
    for fma in (False, True):
        result = check(fma=fma)
        print(f"fused.c's coefficients on every float32 in [-12, 12], float32 arithmetic, "
              f"{'fused multiply-adds' if fma else 'multiply then add'}: largest error {result['max_error']:.3e} "
              f"(at {result['at']:.6g}), largest value {result['max_value']:.9g}, odd: {result['odd']}")


if __name__ == "__main__":
    main()
