import csv
import json
import sys

import numpy as np
import pytest
import torch

from conftest import synthetic_digits
from lenet5.cli import main
from lenet5.compare import classical, run_compare, select
from lenet5.compare.boosting import filtered
from lenet5.compare.rows import BY_NAME, ROWS
from lenet5.compare.study import local_learning, scored
from lenet5.compare.tangent import pair_distances, tangents
from lenet5.errors import Lenet5Error
from lenet5.train import Split


def blob(shift_x: float = 0.0, side: int = 16) -> torch.Tensor:
    """A smooth bright blob (side, side) off centre, moved right by shift_x px."""
    ys, xs = torch.meshgrid(torch.arange(side, dtype=torch.float64), torch.arange(side, dtype=torch.float64), indexing="ij")
    return torch.exp(-((xs - 6 - shift_x) ** 2 + (ys - 9) ** 2) / 6) + 0.6 * torch.exp(-((xs - 10 - shift_x) ** 2 + (ys - 5) ** 2) / 4)


def test_the_x_translation_tangent_is_the_derivative_of_a_shift():
    t = tangents(blob()[None])[0, 0]
    finite = (blob(-0.05) - blob(0.05)).flatten() / 0.1  # moving the content right by dx lowers x's gradient side
    assert torch.corrcoef(torch.stack([t, finite]))[0, 1] > 0.95


def test_tangent_distance_forgives_a_small_shift_that_euclid_does_not():
    x, y = blob().flatten()[None], blob(0.7).flatten()[None]
    tx, ty = tangents(blob()[None]), tangents(blob(0.7)[None])
    euclid = ((x - y) ** 2).sum().item()
    assert pair_distances(x, tx, y, ty).item() < 0.1 * euclid
    assert pair_distances(x, tx, x, tx).item() == pytest.approx(0.0, abs=1e-9)
    other = torch.zeros(16, 16, dtype=torch.float64)
    other[2:14, 7:9] = 1.0  # a bar: no small transformation makes it the blob
    assert pair_distances(x, tx, other.flatten()[None], tangents(other[None])).item() > 0.3 * ((x - other.flatten()) ** 2).sum()


def test_knn_votes_and_breaks_ties_toward_the_nearest():
    train = torch.tensor([[0.0], [0.1], [5.0], [5.1], [5.2]])
    labels = torch.tensor([0, 0, 1, 1, 1])
    scores = classical.knn(train, labels, torch.tensor([[0.05], [4.0], [2.4]])).scores
    assert scores.argmax(1).tolist() == [0, 1, 0]  # 2.4: votes 2 (class 0) to 1, and class 0 is nearer
    assert (scores[0, 0] - scores[0, 1]) > 1  # all three near 0.05 vote... two of class 0, one of class 1


def test_ridge_read_out_and_local_learning_fit_separable_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 5, generator=g, dtype=torch.float64)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()  # four classes by quadrant
    w = classical.ridge(x.numpy(), y.numpy())
    assert (classical.read_out(x.numpy(), w).argmax(1) == y).float().mean() > 0.9
    assert (local_learning(x, y, x[:100]).argmax(1) == y[:100]).float().mean() > 0.9


def test_scored_gives_the_error_and_the_rejection_for_half_a_percent():
    labels = torch.arange(1000) % 10
    scores = torch.nn.functional.one_hot(labels, 10).double()
    margins = (0.5 - 0.01 * torch.arange(20)).double().unsqueeze(1)
    scores[:20] = torch.nn.functional.one_hot((labels[:20] + 1) % 10, 10).double() * margins  # 20 wrong, all doubtful
    result = scored(classical.Outcome(scores, 1, 1), labels)
    assert result["test_error"] == 0.02 and result["wrong"] == 20
    assert result["reject"] == pytest.approx(0.016)  # 16 of the 20 doubtful out: 4 wrong in 984 = 0.41% <= 0.5%; 15 out: 0.51%
    scores[:20] = torch.nn.functional.one_hot((labels[:20] + 1) % 10, 10).double() * 0.5  # the 20 equally doubtful
    assert scored(classical.Outcome(scores, 1, 1), labels)["reject"] == pytest.approx(0.02)  # no threshold takes 16 of them


def test_filtered_fills_its_bins_equally():
    images, labels = synthetic_digits(100, 0)
    train = Split(torch.from_numpy(images), torch.from_numpy(labels).long())
    keep = lambda x, y: [y < 3, y >= 3]  # noqa: E731
    patterns, drawn = filtered(train, keep, 2, torch.Generator().manual_seed(0), patterns=2_000, max_draws=60_000)
    assert len(patterns.labels) == 2_000 and drawn == 20_000
    assert int((patterns.labels < 3).sum()) == 1_000
    assert patterns.images.dtype == torch.uint8 and patterns.images.shape == (2_000, 28, 28)


def test_rows_carry_the_papers_figures_and_select_by_name_and_group():
    assert BY_NAME["lenet5"].paper.error == 0.95 and BY_NAME["boosted-lenet4"].paper.reject == 0.5
    assert BY_NAME["deslant-knn"].paper.multiply_adds == 24_000
    assert [r.name for r in select(["fig6"])] == [r.name for r in ROWS if r.group == "fig6"]
    assert [r.name for r in select(["lenet5", "knn"])] == ["knn", "lenet5"]  # table order
    with pytest.raises(Lenet5Error, match="unknown row 'lenet6'.*fig9"):
        select(["lenet6"])


def test_compare_runs_reuses_and_reports(tiny_data_dir, tmp_path, capsys):
    out = tmp_path / "study"
    args = ["compare", "--only", "knn", "deslant-mlp-300", "lenet4-knn", "lenet1", "rs-svm-poly5", "--epochs", "1",
            "--out", str(out), "--data-dir", str(tiny_data_dir)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "5 runs made, 0 reused" in printed  # lenet4 comes along for lenet4-knn; the RS-SVM is not run
    rows = {r["row"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert set(rows) == {"knn", "deslant-mlp-300", "lenet1", "lenet4", "lenet4-knn"}
    assert float(rows["knn"]["test_error"]) < 0.2  # the synthetic digits are easy for K-NN
    assert int(rows["lenet1"]["variables"]) == 2_578
    table = (out / "compare.md").read_text()
    assert "| [16x16] LeNet-1 | 1.70 |" in table and "not run" in table and "reduced-set" in table
    assert (out / "fig9.png").stat().st_size > 0 and (out / "fig10.png").stat().st_size > 0
    assert main(args) == 0
    assert "0 runs made, 5 reused" in capsys.readouterr().out
    config = out / "runs" / "knn-seed0" / "config.json"
    saved = json.loads(config.read_text())
    config.write_text(json.dumps({**saved, "test_limit": 7}))
    (out / "runs" / "knn-seed0" / "row.json").unlink()
    with pytest.raises(Lenet5Error, match="holds a run with other settings"):
        run_compare(select(["knn"]), 1, 1, out, data_dir=str(tiny_data_dir))


def test_fig6_rows_give_their_table_and_plot(tiny_data_dir, tmp_path):
    out = tmp_path / "study"
    _, summary = run_compare(select(["lenet5-15000", "lenet5"]), 1, 1, out, data_dir=str(tiny_data_dir), train_limit=100)
    assert {e["train_digits"] for e in summary} == {100}  # the study's limit, smaller than the row's, wins
    assert "| 100 | no |" in (out / "fig6.md").read_text() and (out / "fig6.png").exists()


def test_without_scikit_learn_a_classical_row_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(Lenet5Error, match=r"scikit-learn.*pip install -e \"\.\[sklearn\]\""):
        run_compare(select(["pca-quadratic"]), 1, 1, tmp_path)


@pytest.mark.parametrize("method", ["pca-quadratic", "rbf", "pairwise", "svm", "deslant-knn", "tangent"])
def test_each_classical_method_reads_easy_digits(method):
    pytest.importorskip("sklearn")
    from lenet5.compare.study import CLASSICAL

    train_x, train_y = synthetic_digits(400, 0)
    test_x, test_y = synthetic_digits(100, 1)
    outcome = CLASSICAL[method](torch.from_numpy(train_x), torch.from_numpy(train_y).long(), torch.from_numpy(test_x), 0)
    assert outcome.scores.shape == (100, 10) and outcome.variables > 0 and outcome.multiply_adds > 0
    assert (outcome.scores.argmax(1) == torch.from_numpy(test_y).long()).float().mean() > 0.9


def test_summed_margins_count_for_the_favoured_class_and_against_the_other():
    margins = np.zeros((1, 45))
    margins[0, 0] = 2.0  # the unit of the pair (0, 1)
    first = classical.summed_margins(margins, first_wins_when_positive=True)[0]
    assert first[0] == 2.0 and first[1] == -2.0 and first[2:].abs().sum() == 0
    second = classical.summed_margins(margins, first_wins_when_positive=False)[0]
    assert second[0] == -2.0 and second[1] == 2.0
    margins[0, 44] = -1.0  # the pair (8, 9), favouring 9 when the first class wins on positive margins
    assert classical.summed_margins(margins, first_wins_when_positive=True)[0, 9] == 1.0


def test_pairwise_scores_let_votes_decide_and_margins_break_ties():
    margins = np.full((2, 45), 0.1)  # every unit favours the pair's first class a little: class 0 wins all 9
    margins[1, :9] = -5.0  # digit 1: class 0 loses its 9 units by far
    scores = classical.pairwise_scores(margins, first_wins_when_positive=True)
    assert scores[0].argmax() == 0 and scores[0, 0].floor() == 9
    assert scores[1].argmax() == 1  # now class 1 has 9 votes (8 won plus the one against class 0)
    assert ((scores - (scores + 0.5).floor()).abs() < 0.5).all()  # the margins never move a class by half a vote
