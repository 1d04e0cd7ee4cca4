"""The comparison's report: per row, the mean over seeds beside the paper's four figures
(compare.md, compare.json), figures in the style of Fig. 9 (test error) and Fig. 10 (rejection
for 0.5% error), and Fig. 6 (error against the training set's size)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lenet5.atomic import write_atomic  # noqa: E402
from lenet5.checkpoint import save_csv, save_json  # noqa: E402
from lenet5.compare.rows import BY_NAME, FIG6_FULL, ROWS, Row  # noqa: E402
from lenet5.evaluate import wilson_interval  # noqa: E402
from lenet5.plots import _save  # noqa: E402

PAPER_NOISE = 0.1  # % : "the uncertainty of these figures" (Sec. III-C)


def mean(values: list[float | None]) -> float | None:
    done = [v for v in values if v is not None]
    return statistics.mean(done) if done else None


def summarize(results: list[dict[str, Any]], rows: list[Row]) -> list[dict[str, Any]]:
    """Per row, in table order: the mean over seeds of each figure (errors and rejections in %,
    sizes in thousands), the pooled 95% interval of the error, and whether ours and the
    paper's differ by more than both uncertainties."""
    by_row: dict[str, list[dict]] = {}
    for r in results:
        by_row.setdefault(r["row"], []).append(r)
    out = []
    for row in rows:
        runs = by_row.get(row.name, [])
        done = [r for r in runs if r["test_error"] is not None]
        entry: dict[str, Any] = {"row": row.name, "label": row.label, "group": row.group, "not_run": row.not_run,
                                 "paper": vars(row.paper), "seeds": len(runs), "diverged": len(runs) - len(done),
                                 "train_digits": runs[0]["train_digits"] if runs else None}
        if done:
            wrong, n = sum(r["wrong"] for r in done), sum(r["digits"] for r in done)
            low, high = wilson_interval(wrong, n)
            errors = [100 * r["test_error"] for r in done]
            entry.update(error=statistics.mean(errors), per_seed=errors, std=statistics.stdev(errors) if len(errors) > 1 else 0.0,
                         interval=(100 * low, 100 * high), reject=mean([100 * r["reject"] for r in done]),
                         train_error=mean([None if r["train_error"] is None else 100 * r["train_error"] for r in done]),
                         multiply_adds=done[0]["multiply_adds"] / 1000, variables=done[0]["variables"] / 1000,
                         seconds=statistics.median(r["seconds"] for r in done), note=done[0]["note"])
            paper = row.paper.error
            entry["differs"] = None if paper is None else (
                paper < entry["interval"][0] - PAPER_NOISE or paper > entry["interval"][1] + PAPER_NOISE)
        out.append(entry)
    return out


def _figure(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if value < 100 else f"{value:,.0f}"


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.0f} min"


def markdown(summary: list[dict[str, Any]]) -> str:
    """The Fig. 9-12 table: paper / ours for each figure, then time here and notes."""
    lines = ["| classifier (Fig. 9) | error % paper | error % ours (95% interval) | reject % paper | reject % ours | "
             "mult-adds (k) paper | ours | variables (k) paper | ours | time here | notes |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in (s for s in summary if s["group"] == "fig9"):
        p = e["paper"]
        if e["not_run"]:
            ours = ("not run", "-", "-", "-", "-", e["not_run"])
        elif "error" not in e:
            ours = ("diverged" if e["diverged"] else "-", "-", "-", "-", "-", "")
        else:
            flag = " **differs**" if e["differs"] else ""
            seeds = f", {e['seeds']} seeds ± {e['std']:.2f}" if e["seeds"] > 1 else ""
            ours = (f"{e['error']:.2f} ({e['interval'][0]:.2f}-{e['interval'][1]:.2f}{seeds}){flag}", _figure(e["reject"]),
                    _figure(e["multiply_adds"], 0), _figure(e["variables"], 1), duration(e["seconds"]), e["note"])
        lines.append(f"| {e['label']} | {_figure(p['error'], 2)} | {ours[0]} | {_figure(p['reject'])} | {ours[1]} | "
                     f"{_figure(p['multiply_adds'], 0)} | {ours[2]} | {_figure(p['variables'], 0)} | {ours[3]} | {ours[4]} | {ours[5]} |")
    return "\n".join(lines) + "\n"


def fig6_points(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fig. 6's points: (training digits, distorted?, train error %, test error %), by size."""
    wanted = {r.name for r in ROWS if r.group == "fig6"} | set(FIG6_FULL)
    points = [{"train_digits": e["train_digits"], "distorted": BY_NAME[e["row"]].distort, "train_error": e["train_error"],
               "test_error": e["error"], "row": e["row"]} for e in summary if e["row"] in wanted and "error" in e]
    return sorted(points, key=lambda p: (p["distorted"], p["train_digits"]))


def fig6_markdown(points: list[dict[str, Any]]) -> str:
    lines = ["| training digits | distortions | training error % (last pass) | test error % |", "|---|---|---|---|"]
    for p in points:
        train = "-" if p["train_error"] is None else f"{p['train_error']:.2f}"
        lines.append(f"| {p['train_digits']:,} | {'yes' if p['distorted'] else 'no'} | {train} | {p['test_error']:.2f} |")
    return "\n".join(lines) + "\n"


def plot_bars(summary: list[dict[str, Any]], key: str, xlabel: str, path: Path) -> None:
    """Fig. 9 (key "error") or Fig. 10 (key "reject") in its style: one bar per classifier, ours
    beside the paper's."""
    shown = [e for e in summary if e["group"] == "fig9" and (e.get(key) is not None or e["paper"][key] is not None)]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(shown) + 1.2), dpi=120)
    y = list(range(len(shown)))[::-1]
    ours = [e.get(key) or 0 for e in shown]
    paper = [e["paper"][key] or 0 for e in shown]
    ax.barh([k + 0.2 for k in y], paper, 0.4, color="tab:grey", label="paper")
    ax.barh([k - 0.2 for k in y], ours, 0.4, color="tab:blue", label="ours (mean over seeds)")
    ax.set_yticks(y)
    ax.set_yticklabels([e["label"] for e in shown], fontsize=7)
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def plot_fig6(points: list[dict[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for distorted, colour in ((False, "tab:blue"), (True, "tab:orange")):
        ps = [p for p in points if p["distorted"] == distorted]
        if not ps:
            continue
        what = "with distortions" if distorted else "no distortions"
        ax.plot([p["train_digits"] for p in ps], [p["test_error"] for p in ps], "o-", color=colour, label=f"test, {what}")
        train = [p for p in ps if p["train_error"] is not None]
        ax.plot([p["train_digits"] for p in train], [p["train_error"] for p in train], "s--", color=colour, alpha=0.6,
                label=f"training (last pass, digits as presented), {what}")
    ax.set_xlim(0, 100_000)
    ax.set_xlabel("training set size")
    ax.set_ylabel("error (%)")
    ax.set_title("LeNet-5's error against training set size (Fig. 6)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def write_report(results: list[dict[str, Any]], rows: list[Row], out: Path) -> list[dict[str, Any]]:
    """OUT/results.csv (one row per run), compare.md, compare.json, fig9.png, fig10.png, and with
    Fig. 6's rows fig6.md and fig6.png."""
    out.mkdir(parents=True, exist_ok=True)
    save_csv(out / "results.csv", [{k: v for k, v in r.items() if k != "ran"} for r in results])
    summary = summarize(results, rows)
    save_json(out / "compare.json", summary)
    write_atomic(out / "compare.md", lambda tmp: tmp.write_text(markdown(summary)))
    plot_bars(summary, "error", "MNIST test error (%)", out / "fig9.png")
    plot_bars(summary, "reject", "test digits rejected to reach 0.5% error (%)", out / "fig10.png")
    points = fig6_points(summary)
    if any(BY_NAME[p["row"]].group == "fig6" for p in points):
        write_atomic(out / "fig6.md", lambda tmp: tmp.write_text(fig6_markdown(points)))
        plot_fig6(points, out / "fig6.png")
    return summary
