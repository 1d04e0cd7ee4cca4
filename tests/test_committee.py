import math

import numpy as np
import pytest
import torch

from lenet5.calibration import Platt
from lenet5.read import load_reader, read_number, reader_network
from lenet5.read.committee import Committee, join
from lenet5.read.line import Line
from lenet5.read.sdnn import PAPER_MAPS, SDNN, band, read_line, windows
from lenet5.read.weights import save_reader
from tests.conftest import Spiky


def line_of_two_bars() -> Line:
    ink = np.zeros((24, 60), np.float32)
    ink[2:22, 10:13] = ink[2:22, 40:43] = 1.0
    return Line(ink, 1.0, (0.0, 0.0))


def test_members_read_the_same_band_one_after_the_other():
    a, b = SDNN(PAPER_MAPS, seed=0), SDNN(PAPER_MAPS, seed=1)
    x = torch.randn(3, 1, 32, 72)
    out = Committee([a, b])(x)
    assert out.shape == (6, 11, 1, windows(72))
    assert torch.equal(out[:3], a(x)) and torch.equal(out[3:], b(x))


def test_two_members_that_place_a_string_at_other_columns_still_agree_on_it():
    # Column averaging would blur the two spikes; at the level of strings both read "3" surely.
    line = line_of_two_bars()
    t = windows(band(line).shape[1])
    early, late = Spiky({3: [2]}), Spiky({3: [t - 3]})
    found, log_p = read_line(Committee([early, late]), line)
    alone, log_alone = read_line(early, line)
    assert [f.digit for f in found] == [f.digit for f in alone] == [3]
    assert log_p == pytest.approx(log_alone, abs=1e-6)
    averaged = torch.logsumexp(torch.stack([early(torch.zeros(1, 1, 32, band(line).shape[1])),
                                            late(torch.zeros(1, 1, 32, band(line).shape[1]))]), 0)
    assert averaged.argmax(1).eq(3).sum() == 2  # the columns of both, each at half the probability


def test_members_that_disagree_halve_the_probability_of_each_string():
    line = line_of_two_bars()
    found, log_p = read_line(Committee([Spiky({3: [2]}), Spiky({5: [2]})]), line)
    _, log_alone = read_line(Spiky({3: [2]}), line)
    assert len(found) == 1 and log_p == pytest.approx(log_alone + math.log(0.5), abs=1e-3)


def test_join_flattens_committees_and_refuses_the_segment_recognizer():
    a, b, c = (SDNN(PAPER_MAPS, seed=s) for s in range(3))
    joined = join([Committee([a, b]), c])
    assert isinstance(joined, Committee) and list(joined.members) == [a, b, c]
    assert join([a]) is a
    with pytest.raises(ValueError, match="only SDNNs"):
        join([a, reader_network()])


def test_a_calibrated_committee_round_trips_through_its_file(tmp_path):
    model = Committee([SDNN(PAPER_MAPS, seed=0), SDNN(PAPER_MAPS, seed=1)])
    save_reader(model, tmp_path / "c.safetensors", {"calibration": {"method": "platt", "a": 0.5, "b": 1.0}})
    loaded, meta = load_reader(tmp_path / "c.safetensors")
    assert isinstance(loaded, Committee) and meta["members"] == [list(PAPER_MAPS)] * 2
    assert loaded.calibration == Platt(0.5, 1.0)
    x = torch.randn(1, 1, 32, 64)
    assert torch.equal(loaded(x), model(x))
    image = np.ones((60, 200), np.float32)
    image[15:45, 50:56] = image[15:45, 120:126] = 0.0
    raw = read_number(model, image)  # no calibration attached: the probability itself
    assert read_number(loaded, image).confidence == pytest.approx(Platt(0.5, 1.0)(raw.confidence), rel=1e-5)


def test_a_file_with_an_unknown_calibration_is_one_clear_error(tmp_path):
    from lenet5.errors import Lenet5Error

    save_reader(SDNN(PAPER_MAPS), tmp_path / "r.safetensors", {"calibration": {"method": "platt", "a": -1, "b": 0}})
    with pytest.raises(Lenet5Error, match="damaged reader file"):
        load_reader(tmp_path / "r.safetensors")


def test_held_out_bands_are_read_by_the_whole_committee_not_its_first_member():
    from lenet5.read.train_sdnn import read_bands

    strip = (band(line_of_two_bars()) * 255).astype(np.uint8)
    outvoted = Committee([Spiky({5: [2]}), Spiky({3: [2]}), Spiky({3: [2]})])
    assert read_bands(outvoted, [(strip, "3"), (strip, "3")], batch_size=1) == ["3", "3"]
    assert read_bands(Spiky({5: [2]}), [(strip, "5")]) == ["5"]


def test_member_records_follow_a_committee_joined_whole_and_give_none_where_unrecorded():
    from lenet5.read.weights import member_records

    two = {"members": [[1], [2]], "members_made_by": [{"seed": 1}, {"seed": 2}]}
    meta = {"members": [[1], [2], [3]], "members_made_by": [{**two, "seed": None}, {"seed": 7, "members": None}]}
    assert [r["seed"] for r in member_records(meta)] == [1, 2, 7]
    unrecorded = {"members": [[1], [2]], "members_made_by": None}
    assert member_records({"members": [[1], [2], [3]], "members_made_by": [unrecorded, {"seed": 7}]}) == [None, None, {"seed": 7}]
    assert member_records({"members": [[1], [2]]}) == [None, None]
    broken_nest = {"members": [[1], [2]], "members_made_by": "zz"}  # that committee's members unrecorded, the rest kept
    assert member_records({"members": [[1], [2], [3]], "members_made_by": [broken_nest, {"seed": 7}]}) == [None, None, {"seed": 7}]
    for damaged in ({"seed": 1}, "x", 3, [None, None], ["x", "y"], [[1], [2]], [{"members": 2}, {"seed": 2}]):
        assert member_records({"members": [[1], [2]], "members_made_by": damaged}) == [None, None]


def test_take_member_writes_one_sdnn_with_its_training_record(tmp_path, capsys):
    from lenet5.cli import main

    a, b = SDNN(PAPER_MAPS, seed=0), SDNN(PAPER_MAPS, seed=1, depth=2)
    records = [{"source": "a.safetensors", "command": "lenet5 train-reader --seed 0", "seed": 0},
               {"source": "b.safetensors", "command": "lenet5 train-reader --seed 1 --depth 2", "seed": 1,
                "taken_from": {"source": "older.safetensors", "member": 3}}]
    save_reader(Committee([a, b]), tmp_path / "c.safetensors",
                {"members_made_by": records, "calibration": {"method": "platt", "a": 0.5, "b": 1.0}, "heights": [20, 21]})
    assert load_reader(tmp_path / "c.safetensors")[0].heights == (20, 21)
    assert main(["take-member", "--model", str(tmp_path / "c.safetensors"), "--member", "2",
                 "--out", str(tmp_path / "b.safetensors")]) == 0
    assert "--seed 1 --depth 2" in capsys.readouterr().out
    member, meta = load_reader(tmp_path / "b.safetensors")
    assert isinstance(member, SDNN) and member.depth == 2 and member.calibration == Platt()  # its own probability
    assert member.heights == (20,) and "heights" not in meta  # the committee's heights stay with it
    assert all(torch.equal(x, y) for x, y in zip(member.state_dict().values(), b.state_dict().values()))
    assert meta["command"] == records[1]["command"] and meta["seed"] == 1
    assert meta["taken_from"] == {"source": str(tmp_path / "c.safetensors"), "member": 2, "member_source": "b.safetensors",
                                  "before": {"source": "older.safetensors", "member": 3}}  # the chain kept
    assert main(["take-member", "--model", str(tmp_path / "c.safetensors"), "--member", "1",
                 "--out", str(tmp_path / "c.safetensors")]) == 1 and "committee's own file" in capsys.readouterr().err
    assert isinstance(load_reader(tmp_path / "c.safetensors")[0], Committee)  # not overwritten
    for argv, said in ((["--member", "3"], "members 1 to 2, not 3"), (["--model", str(tmp_path / "b.safetensors"),
                                                                       "--member", "1"], "not a committee")):
        argv = ["take-member", "--model", str(tmp_path / "c.safetensors"), *argv, "--out", str(tmp_path / "x.safetensors")]
        assert main(argv) == 1 and said in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_readings_of_other_lengths_are_padded_without_changing_any_string():
    from lenet5.read.decode import joined, string_log_probs

    torch.manual_seed(0)
    short, long = (torch.log_softmax(torch.randn(t, 3, 11, dtype=torch.float64), dim=-1) for t in (6, 9))
    both = joined([short, long])
    assert both.shape == (9, 6, 11) and torch.equal(both[:, 3:], long) and torch.equal(joined([short]), short)
    strings = [(1,), (2, 2), (3, 4, 5)]
    assert torch.allclose(string_log_probs(both[:, :3], strings), string_log_probs(short, strings), atol=1e-9)


def test_the_line_at_another_height_votes_and_the_first_places_the_digits():
    line = line_of_two_bars()
    wide = Line(np.repeat(line.ink, 2, axis=1), 0.5, (0.0, 0.0))  # the line twice as wide: more outputs
    found, log_p = read_line(Spiky({3: [2]}), line, [wide])
    alone, log_alone = read_line(Spiky({3: [2]}), line)
    assert found == alone and log_p == pytest.approx(log_alone, abs=0.01)  # both agree (the wider line's extra outputs: P(between) 0.9995 each)
    _, log_both = read_line(Committee([Spiky({3: [2]}), Spiky({5: [2]})]), line, [wide])
    assert log_both == pytest.approx(log_p + math.log(0.5), abs=1e-3)  # half the readings disagree at each height


def test_a_reader_file_says_at_which_heights_it_reads(tmp_path):
    from lenet5.errors import Lenet5Error

    model = Committee([SDNN(PAPER_MAPS, seed=0), SDNN(PAPER_MAPS, seed=1)])
    save_reader(model, tmp_path / "c.safetensors", {"heights": [20, 22.5]})
    assert load_reader(tmp_path / "c.safetensors")[0].heights == (20.0, 22.5)
    save_reader(SDNN(PAPER_MAPS), tmp_path / "one.safetensors", {})
    assert load_reader(tmp_path / "one.safetensors")[0].heights == (20.0,)
    for bad in ([20, 20], [3], [], "20", [True], [float("inf")]):
        save_reader(model, tmp_path / "bad.safetensors", {"heights": bad})
        with pytest.raises(Lenet5Error, match="damaged reader file.*heights"):
            load_reader(tmp_path / "bad.safetensors")
    image = np.ones((60, 200), np.float32)
    image[15:45, 50:56] = image[15:45, 120:126] = 0.0
    loaded = load_reader(tmp_path / "c.safetensors")[0]
    both = read_number(loaded, image)
    loaded.heights = (20.0,)
    assert read_number(loaded, image).digits[0].x0 == both.digits[0].x0  # the 20 px line places the digits


def test_a_string_the_first_line_cannot_spell_is_placed_by_its_own_readings_first():
    from lenet5.read.decode import place, string_log_probs

    torch.manual_seed(1)
    log_probs = torch.log_softmax(torch.randn(8, 3, 11, dtype=torch.float64), dim=-1)
    log_probs[:, 0, 4] = -math.inf  # reading 0 cannot spell a 4
    log_probs[:, 2, 4] = 0.0  # reading 2 spells it surest
    each = string_log_probs(log_probs, [(4,)])[0]
    assert not torch.isfinite(each[0]) and each[2] > each[1] > -math.inf
    assert {s.reading for s in place(log_probs, (4,), each, offsets=1, placing=2)} == {1}  # the first line's readings: 0 and 1
    assert {s.reading for s in place(log_probs, (4,), each, offsets=1)} == {2}
    each[1] = -math.inf  # none of the first line's: the likeliest of all
    assert {s.reading for s in place(log_probs, (4,), each, offsets=1, placing=2)} == {2}


def test_readers_of_other_heights_are_joined_only_at_heights_asked_for_and_never_boost(tmp_path, capsys):
    from lenet5.cli import main

    save_reader(SDNN(PAPER_MAPS, seed=0), tmp_path / "two.safetensors", {"heights": [20, 21]})
    save_reader(SDNN(PAPER_MAPS, seed=1), tmp_path / "one.safetensors", {})
    both = [str(tmp_path / "two.safetensors"), str(tmp_path / "one.safetensors")]
    assert main(["calibrate-reader", "--model", *both, "--out", str(tmp_path / "c.safetensors")]) == 1
    assert "different digit heights (20; 20, 21 px): say which with --heights" in capsys.readouterr().err
    assert main(["train-reader", "--start-from", both[1], "--boost-from", both[0], "--out", str(tmp_path / "b.safetensors")]) == 1
    assert "reads at several digit heights" in capsys.readouterr().err
    assert not any((tmp_path / f).exists() for f in ("c.safetensors", "b.safetensors"))
