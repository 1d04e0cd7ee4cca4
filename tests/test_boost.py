"""String-level boosting (lenet5/read/boost.py): the strips a reader misreads weigh more in the SDNN's loss."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from lenet5.cli import main
from lenet5.errors import Lenet5Error
from lenet5.read.bands import Band
from lenet5.read.boost import PAPER_SHARE, boost_weights, misread
from lenet5.read.sdnn import SDNN
from lenet5.read.train_sdnn import SDNNTraining, train_sdnn
from tests.test_sdnn import body_digits, same_weights

TINY = functools.partial(SDNNTraining, strips=48, val_strips=4, holdout=50, epochs=1, batch_size=16,
                         maps=(6, 16, 60, 42), workers=1)


@pytest.mark.parametrize("share", [0.5, 0.2, 0.9, PAPER_SHARE])
def test_the_misread_strips_carry_the_share_asked_and_the_mean_weight_is_one(share):
    wrong = np.array([True, False, False, False, True, False, False, False, False, False])
    w = boost_weights(wrong, share)
    assert w.dtype == np.float32 and w.shape == (10,)
    assert w.mean() == pytest.approx(1.0)
    assert w[wrong].sum() / w.sum() == pytest.approx(share)
    assert len(set(w[wrong].tolist())) == 1 and len(set(w[~wrong].tolist())) == 1  # equal within each kind


def test_nothing_to_weigh_against_leaves_every_strip_at_one_and_bad_shares_are_refused():
    assert (boost_weights(np.zeros(5, dtype=bool), 0.5) == 1).all()
    assert (boost_weights(np.ones(5, dtype=bool), 0.5) == 1).all()
    assert (boost_weights(np.array([True, False]), 0.0) == np.array([0, 2])).all()  # 0: the misread ones weigh nothing
    for share in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="boost must be a share"):
            boost_weights(np.array([True, False]), share)


def test_misread_marks_each_band_in_its_own_place_whatever_order_it_was_read_in():
    widths = [90, 40, 160, 40, 120]
    bands = [Band(np.zeros((32, w), dtype=np.uint8), str(k) * (k + 1), np.zeros(k + 1, dtype=np.float32))
             for k, w in enumerate(widths)]
    seen = []

    def read(chunk):  # reads right every band but the 160 px and the second 40 px one
        seen.append([b.ink.shape[1] for b in chunk])
        return [b.number if b.ink.shape[1] != 160 and b.number != "3333" else "7" for b in chunk]

    assert misread(read, bands).tolist() == [False, False, True, True, False]
    assert seen == [[40, 40, 90, 120, 160]]  # by width: batches pad little


def reading(wrong_every: int):
    """A stand-in for read_bands: every `wrong_every`-th band (in the order read) misread, the rest read right."""
    def read(model, bands, batch_size=16):
        return [b.number + "1" if wrong_every and k % wrong_every == 0 else b.number for k, b in enumerate(bands)]
    return read


def test_a_boosting_reader_that_misreads_nothing_changes_no_weight_and_one_that_does_changes_them(monkeypatch):
    import lenet5.read.train_sdnn

    digits, labels = body_digits(200, 2)
    plain, _ = train_sdnn(digits, labels, TINY(), seed=3, log=lambda s: None)
    said = []
    monkeypatch.setattr(lenet5.read.train_sdnn, "read_bands", reading(0))
    boosted_by_none, _ = train_sdnn(digits, labels, TINY(boost=0.5), seed=3, log=said.append, boost_from=SDNN((6, 16, 60, 42)))
    assert same_weights(plain, boosted_by_none)  # all weigh 1: the weighed mean is ctc_loss's own, to the bit
    assert any("misreads 0 of the training strips (0.0%)" in s for s in said)
    said.clear()
    monkeypatch.setattr(lenet5.read.train_sdnn, "read_bands", reading(4))
    boosted, _ = train_sdnn(digits, labels, TINY(boost=0.5), seed=3, log=said.append, boost_from=SDNN((6, 16, 60, 42)))
    assert not same_weights(plain, boosted)
    line = next(s for s in said if "misreads" in s)
    assert "misreads 12 of the training strips (25.0%): each of them weighs 2.00 in the loss, each other 0.67" in line


def test_a_real_sdnn_boosts_and_the_settings_that_cannot_go_together_are_refused():
    digits, labels = body_digits(200, 2)
    said = []
    model, history = train_sdnn(digits, labels, TINY(boost=0.3), seed=3, log=said.append, boost_from=SDNN((6, 16, 60, 42)))
    assert len(history) == 1 and any("the boosting reader misreads" in s for s in said)
    for config, boost_from, message in ((TINY(boost=0.5), None, "boost needs a boosting reader"),
                                        (TINY(), SDNN((6, 16, 60, 42)), "a boosting reader a boost above 0"),
                                        (TINY(boost=0.5, fresh=0.5), SDNN((6, 16, 60, 42)), "cannot go with fresh strips"),
                                        (TINY(boost=1.0), SDNN((6, 16, 60, 42)), "boost must be a share")):
        with pytest.raises(Lenet5Error, match=message):
            train_sdnn(digits, labels, config, seed=3, log=lambda s: None, boost_from=boost_from)


def test_train_reader_boosts_from_a_reader_and_records_it(tiny_data_dir, tmp_path, capsys, monkeypatch):
    import lenet5.read.train_sdnn
    from lenet5.pretrained import read_safetensors

    monkeypatch.setattr(lenet5.read.train_sdnn, "SDNNTraining",
                        functools.partial(SDNNTraining, holdout=56, val_strips=4, batch_size=16, maps=(6, 16, 60, 42)))

    def argv(name, *more):
        return ["train-reader", "--strips", "40", "--epochs", "1", "--seed", "3", "--threads", "1",
                "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / name), *more]

    assert main(argv("first.safetensors")) == 0
    assert main(argv("second.safetensors", "--boost-from", str(tmp_path / "first.safetensors"))) == 0
    out = capsys.readouterr().out
    assert "the boosting reader misreads" in out
    meta = read_safetensors(tmp_path / "second.safetensors")[1]
    assert meta["training"]["boost"] == PAPER_SHARE
    boosted_by = meta["boosted_by"]
    assert boosted_by["seed"] == 3 and boosted_by["source"].endswith("first.safetensors") and "members_made_by" in boosted_by
    assert json.loads((tmp_path / "second.json").read_text())["boosted_by"] == boosted_by


@pytest.mark.parametrize("more, message", [
    (["--boost", "0.5"], "--boost is for --boost-from"),
    (["--boost-from", "amounts", "--boost", "1"], "--boost must be a share from 0 up to (not including) 1, not 1.0"),
    (["--boost-from", "amounts", "--boost", "0"], "--boost must be above 0 with --boost-from"),
    (["--boost-from", "amounts", "--fresh", "0.5"], "cannot go with fresh strips"),
    (["--boost-from", "amounts-hos"], "only an SDNN or a committee of them boosts"),
    (["--boost-from", "/tmp/no-such-reader.safetensors"], "no such file"),
    (["--method", "hos", "--boost-from", "amounts"], "--boost-from is for --method sdnn"),
])
def test_boosting_flags_out_of_place_are_one_line_errors(capsys, more, message):
    code = main(["train-reader", *more, "--out", "/tmp/never.safetensors"])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err and err.count("\n") == 1, err
