"""The paper's Section III, reproduced: every classifier of Fig. 9-12 that can be built here,
measured beside the paper's figures, and Fig. 6 (`lenet5 compare`).

    rows.py       the rows and the paper's figures
    classical.py  K-NN, PCA + quadratic, RBF network, pairwise linear, SVM
    tangent.py    tangent distance
    boosting.py   boosted LeNet-4
    study.py      one (row, seed) as a run of lenet5/study.py
    report.py     the table and the figures
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lenet5.compare.report import write_report
from lenet5.compare.rows import ROWS, Row, select
from lenet5.runtime import DEFAULT_THREADS
from lenet5.study import Job, run_jobs

NEEDS_SKLEARN = {"pairwise", "pca-quadratic", "rbf", "svm"}
AFTER = {"lenet4-knn", "lenet4-local"}  # read the LeNet-4 run: run once it has finished


def run_compare(rows: list[Row], seeds: int, epochs: int, out: Path, workers: int = 1, data_dir: str | None = None,
                train_limit: int = 0, test_limit: int = 0, threads: int = DEFAULT_THREADS, device: str = "cpu",
                ray_address: str | None = None, storage: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every (row, seed) that can run here, then the report in `out`: (results, summary)."""
    if any(r.method in NEEDS_SKLEARN and not r.not_run for r in rows):
        from lenet5.compare.classical import sklearn

        sklearn()
    runnable = [r for r in rows if not r.not_run]
    if any(r.method in AFTER for r in runnable) and not any(r.name == "lenet4" for r in runnable):
        runnable = [r for r in ROWS if r.name == "lenet4"] + runnable  # what they are built on
    jobs = {phase: [Job("compare", r.name, s, epochs, out, data_dir, train_limit, test_limit, device)
                    for r in runnable if (r.method in AFTER) == phase for s in range(seeds)] for phase in (False, True)}
    results = run_jobs(jobs[False], workers, threads, ray_address, storage)
    results += run_jobs(jobs[True], workers, threads, ray_address, storage)
    return results, write_report(results, rows, out)


__all__ = ["ROWS", "run_compare", "select"]
