"""The rows of the paper's comparison (Sec. III-C/D, Fig. 9-12) and of Fig. 6, with the paper's
figures beside each (../PAPER facts: Fig. 9 test error %, Fig. 10 % rejected to reach 0.5%
error, Fig. 11 thousands of multiply-adds, Fig. 12 thousands of variables; None: not in that
figure).

A row is trained by this package (`network`: LeNet-1, LeNet-4, LeNet-5, the fully connected
nets, by our default training, AdamW, or with the `paper-distort` training for [dist] rows), or
computed by a classical method (lenet5/compare/classical.py, tangent.py, boosting.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from lenet5.errors import Lenet5Error


@dataclass(frozen=True)
class Paper:
    """A row's figures in the paper."""

    error: float | None  # Fig. 9, %
    reject: float | None = None  # Fig. 10, % of test digits rejected to reach 0.5% error
    multiply_adds: float | None = None  # Fig. 11, thousands
    variables: float | None = None  # Fig. 12, thousands


@dataclass(frozen=True)
class Row:
    name: str  # as given to --only
    label: str  # the paper's label in Fig. 9
    method: str  # "network" or a classical method (lenet5/compare/study.py's METHODS)
    paper: Paper
    architecture: str = ""  # network rows: lenet5/architectures.py's name
    distort: bool = False  # [dist]: trained on distorted digits (the paper-distort training)
    train_limit: int = 0  # Fig. 6: the first N training digits only (0: all)
    group: str = "fig9"  # "fig9" (Fig. 9-12) or "fig6"
    not_run: str = ""  # why this row is not run here


ROWS = [
    Row("linear", "Linear", "network", Paper(12.0, None, 4, 4), "linear"),
    Row("deslant-linear", "[deslant] Linear", "network", Paper(8.4), "linear-20"),
    Row("pairwise", "Pairwise", "pairwise", Paper(7.6, None, 36, 35)),
    Row("knn", "K-NN Euclidean", "knn", Paper(5.0)),
    Row("deslant-knn", "[deslant] K-NN Euclidean", "deslant-knn", Paper(2.4, 8.1, 24_000, 24_000)),
    Row("pca-quadratic", "40 PCA + quadratic", "pca-quadratic", Paper(3.3, None, 39, 40)),
    Row("rbf", "1000 RBF + linear", "rbf", Paper(3.6, None, 794, 794)),
    Row("tangent-distance", "[16x16] Tangent Distance", "tangent", Paper(1.1, 1.9, 20_000, 25_000)),
    Row("svm-poly4", "SVM poly 4", "svm", Paper(1.1, 1.8, 14_000, 14_000)),
    Row("rs-svm-poly5", "RS-SVM poly 5", "svm", Paper(1.0, None, 650, 650),
        not_run="the reduced-set method (Burges) has no maintained library; its support vectors are not published"),
    Row("v-svm-poly9", "[dist] V-SVM poly 9", "svm", Paper(0.8, None, 28_000, 28_000),
        not_run="virtual support vectors on 60,000 distorted digits with a degree-9 kernel: days on 2 cores"),
    Row("mlp-300", "28x28-300-10", "network", Paper(4.7), "mlp-300"),
    Row("dist-mlp-300", "[dist] 28x28-300-10", "network", Paper(3.6), "mlp-300", distort=True),
    Row("deslant-mlp-300", "[deslant] 20x20-300-10", "network", Paper(1.6, 3.2, 123, 123), "mlp-20-300"),
    Row("mlp-1000", "28x28-1000-10", "network", Paper(4.5, None, 795, 795), "mlp-1000"),
    Row("dist-mlp-1000", "[dist] 28x28-1000-10", "network", Paper(3.8, None, 795, 795), "mlp-1000", distort=True),
    Row("mlp-300-100", "28x28-300-100-10", "network", Paper(3.05, None, 267, 267), "mlp-300-100"),
    Row("dist-mlp-300-100", "[dist] 28x28-300-100-10", "network", Paper(2.5, None, 267, 267), "mlp-300-100", distort=True),
    Row("mlp-500-150", "28x28-500-150-10", "network", Paper(2.95, None, 469, 469), "mlp-500-150"),
    Row("dist-mlp-500-150", "[dist] 28x28-500-150-10", "network", Paper(2.45, None, 469, 469), "mlp-500-150", distort=True),
    Row("lenet1", "[16x16] LeNet-1", "network", Paper(1.7, 3.7, 100, 3), "lenet1"),
    Row("lenet4", "LeNet-4", "network", Paper(1.1, 1.8, 260, 17), "lenet4"),
    Row("lenet4-knn", "LeNet-4 / K-NN", "lenet4-knn", Paper(1.1, 1.6, 10_000, 24_000)),
    Row("lenet4-local", "LeNet-4 / Local", "lenet4-local", Paper(1.1, 1.4, 20_000, 24_000)),
    Row("lenet5", "LeNet-5", "network", Paper(0.95, None, 401, 60), "lenet5"),
    Row("dist-lenet5", "[dist] LeNet-5", "network", Paper(0.8), "lenet5", distort=True),
    Row("boosted-lenet4", "[dist] Boosted LeNet-4", "boosted", Paper(0.7, 0.5, 460, 51)),
    # Fig. 6: LeNet-5 on the first 15,000 and 30,000 training digits (60,000: the rows above)
    Row("lenet5-15000", "LeNet-5, 15,000 digits", "network", Paper(None), "lenet5", train_limit=15_000, group="fig6"),
    Row("lenet5-30000", "LeNet-5, 30,000 digits", "network", Paper(None), "lenet5", train_limit=30_000, group="fig6"),
    Row("dist-lenet5-15000", "[dist] LeNet-5, 15,000 digits", "network", Paper(None), "lenet5", True, 15_000, "fig6"),
    Row("dist-lenet5-30000", "[dist] LeNet-5, 30,000 digits", "network", Paper(None), "lenet5", True, 30_000, "fig6"),
]
BY_NAME = {r.name: r for r in ROWS}
GROUPS = ("fig9", "fig6")
FIG6_FULL = ("lenet5", "dist-lenet5")  # Fig. 6's 60,000 points are these rows


def select(names: list[str] | None) -> list[Row]:
    """The rows named (a row's name, or a group: fig9, fig6), in table order; all without names."""
    if not names:
        return ROWS
    unknown = [n for n in names if n not in BY_NAME and n not in GROUPS]
    if unknown:
        raise Lenet5Error(f"unknown row {unknown[0]!r}; choose from: {', '.join(GROUPS)}, {', '.join(BY_NAME)}")
    chosen = {n for n in names if n in BY_NAME} | {r.name for r in ROWS if r.group in names}
    return [r for r in ROWS if r.name in chosen]
