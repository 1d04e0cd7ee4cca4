"""Reading the SDNN's outputs: the likeliest string over all its paths, the vote of the offsets, the best path."""

import numpy as np
import pytest
import torch

from lenet5.read.classes import CLASSES, NONE
from lenet5.read.decode import align, likeliest_string, read_columns, string_log_probs


def scores(labels: list[int], p: float = 0.9) -> torch.Tensor:
    out = torch.full((len(labels), CLASSES), float(np.log((1 - p) / (CLASSES - 1))))
    out[torch.arange(len(labels)), torch.tensor(labels)] = float(np.log(p))
    return out


def test_a_clear_line_reads_its_runs_with_between_before_a_repeated_digit():
    spikes, log_p = read_columns(scores([NONE, 3, 3, NONE, 3, NONE, NONE, 5, 5, 7, NONE]))
    assert [s.digit for s in spikes] == [3, 3, 5, 7]
    assert [(s.t0, s.t1) for s in spikes] == [(1, 3), (4, 5), (7, 9), (9, 10)]
    assert 11 * np.log(0.9) < log_p < 0  # the string's probability: more than its best path's alone
    spikes, log_p = read_columns(scores([NONE] * 5))
    assert spikes == [] and log_p == pytest.approx(5 * np.log(0.9), abs=1e-5)  # one path spells nothing


def probabilities(rows: list[dict[int, float]]) -> torch.Tensor:
    out = torch.full((len(rows), CLASSES), 1e-9)
    for t, row in enumerate(rows):
        for c, p in row.items():
            out[t, c] = p
    return out.log()


def test_the_likeliest_string_sums_its_paths_where_the_best_path_reads_nothing():
    # "between" is the likeliest label at every output (best path: nothing), but the paths that
    # spell "3" together are likelier (0.309) than "between" three times (0.064)
    lp = probabilities([{NONE: 0.4, 3: 0.35, 5: 0.25}] * 3)
    string, log_p = likeliest_string(lp)
    paths_of_3 = 0.35 * 0.4 * 0.4 * 3 + 0.35 * 0.35 * 0.4 * 2 + 0.35 ** 3  # 3bb b3b bb3, 33b b33, 333
    assert string == (3,) and log_p == pytest.approx(np.log(paths_of_3), rel=1e-4)
    assert [(s.digit, s.t0, s.t1) for s in align(lp, string)] == [(3, 0, 1)]  # its best path: 3, between, between
    both = torch.stack([lp, probabilities([{NONE: 0.9, 3: 0.1}] * 3)], dim=1)  # (T, 2 readings, 11)
    got = string_log_probs(both, [(3,), (), (3, 3, 3, 3)])
    assert got[0, 0] == pytest.approx(np.log(paths_of_3), rel=1e-6)
    assert got[1, 0] == pytest.approx(3 * np.log(0.4), rel=1e-6) and got[1, 1] == pytest.approx(3 * np.log(0.9), rel=1e-6)
    assert got[2].isinf().all()  # four 3s need seven outputs (between the repeats): three cannot spell them


def test_the_search_finds_the_likeliest_string_and_scores_no_more_than_its_paths():
    # digits 0 and 1 only, 7 outputs: every string that fits can be scored by the forward algorithm
    g = torch.Generator().manual_seed(3)
    strings = [()] + [tuple(int(b) for b in f"{k:0{n}b}") for n in range(1, 8) for k in range(2 ** n)]
    found = 0
    for _ in range(100):
        logits = torch.randn(7, CLASSES, generator=g) * 3
        logits[:, 2:NONE] -= 30
        lp = logits.log_softmax(-1)
        string, log_p = likeliest_string(lp)
        exact = string_log_probs(lp[:, None], strings)[:, 0]
        assert log_p <= float(exact[strings.index(string)]) + 1e-9  # the beam only ever drops paths
        found += strings[int(exact.argmax())] == string
    assert found >= 97  # a beam of 8 misses the best string rarely (2 in 400 of these)


def plain_search(log_probs: torch.Tensor, beam: int = 8) -> tuple[tuple[int, ...], float]:
    """The prefix search written plainly on numpy's values, as it was first written: the reference."""
    import math

    from lenet5.read.decode import SURE_NOT

    p = log_probs.double().exp().numpy()
    strings, log_scale = {(): (1.0, 0.0)}, 0.0
    for t in range(p.shape[0]):
        grown = {}
        digits = [c for c in range(NONE) if p[t, c] > SURE_NOT]
        for string, (p_between, p_digit) in strings.items():
            grown.setdefault(string, [0.0, 0.0])[0] += (p_between + p_digit) * p[t, NONE]
            for c in digits:
                if string and string[-1] == c:
                    grown[string][1] += p_digit * p[t, c]
                    grown.setdefault(string + (c,), [0.0, 0.0])[1] += p_between * p[t, c]
                else:
                    grown.setdefault(string + (c,), [0.0, 0.0])[1] += (p_between + p_digit) * p[t, c]
        kept = sorted(grown.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:beam]
        top = kept[0][1][0] + kept[0][1][1]
        log_scale += math.log(top)
        strings = {k: (v[0] / top, v[1] / top) for k, v in kept}
    string, (p_between, p_digit) = max(strings.items(), key=lambda kv: kv[1][0] + kv[1][1])
    return string, log_scale + math.log(p_between + p_digit)


def test_the_search_gives_the_plain_searchs_strings_and_scores_bit_for_bit():
    g = torch.Generator().manual_seed(11)
    for _ in range(200):
        steps = int(torch.randint(3, 60, (1,), generator=g))
        logits = torch.randn(steps, CLASSES, generator=g) * float(torch.rand(1, generator=g)) * 10
        logits[:, NONE] += float(torch.rand(1, generator=g)) * 5
        lp = logits.log_softmax(-1)
        assert likeliest_string(lp) == plain_search(lp)  # the same string, and the same float to the last bit


def test_the_readings_at_each_offset_vote_with_their_probabilities():
    # offset 0 reads "7" (barely), offsets 1-3 read "71": "71" has the higher mean probability
    weak = probabilities([{7: 0.9, NONE: 0.1}, {NONE: 0.55, 1: 0.45}])
    strong = probabilities([{7: 0.9, NONE: 0.1}, {1: 0.8, NONE: 0.2}])
    spikes, log_p = read_columns(torch.stack([weak, strong, strong, strong], dim=1))
    assert [(s.digit, s.t0, s.t1) for s in spikes] == [(7, 0, 1), (1, 1, 2)]  # placed by offset 0's best path for "71"
    assert log_p == pytest.approx(np.log((0.9 * 0.45 + 3 * 0.9 * 0.8) / 4), rel=1e-5)
    assert [s.digit for s in read_columns(weak)[0]] == [7]  # offset 0 alone


def test_alignment_puts_each_digit_where_it_is_likeliest_and_repeats_need_between():
    lp = probabilities([{NONE: 0.9, 7: 0.1}, {7: 0.8, NONE: 0.2}, {7: 0.6, NONE: 0.4}, {7: 0.9, NONE: 0.1},
                        {NONE: 0.9, 1: 0.1}, {1: 0.7, NONE: 0.3}])
    assert [(s.digit, s.t0, s.t1) for s in align(lp, (7, 1))] == [(7, 1, 4), (1, 5, 6)]
    assert [(s.digit, s.t0, s.t1) for s in align(lp, (7, 7, 1))] == [(7, 1, 2), (7, 3, 4), (1, 5, 6)]
    assert likeliest_string(lp)[0] == (7, 1)
    assert align(lp, ()) == []


def test_a_string_offset_0_cannot_spell_is_placed_where_another_offset_reads_it():
    nothing = torch.full((3, CLASSES), -float("inf"))
    nothing[:, NONE] = 0.0  # offset 0: certainly no digit
    five = probabilities([{NONE: 0.9, 5: 0.1}, {5: 0.99, NONE: 0.01}, {NONE: 0.9, 5: 0.1}])
    spikes, log_p = read_columns(torch.stack([nothing, five, five, five], dim=1))
    assert [(s.digit, s.t0, s.t1, s.shift) for s in spikes] == [(5, 1, 2, 1)]  # offset 1's outputs, 1 px right
    assert np.isfinite(log_p)


def test_a_committees_reading_is_placed_at_its_own_pixel_offset():
    nothing = torch.full((3, CLASSES), -float("inf"))
    nothing[:, NONE] = 0.0  # certainly no digit: this reading cannot spell "5"
    five = probabilities([{NONE: 0.9, 5: 0.1}, {5: 0.99, NONE: 0.01}, {NONE: 0.9, 5: 0.1}])
    surest = probabilities([{NONE: 0.95, 5: 0.05}, {5: 0.999, NONE: 0.001}, {NONE: 0.95, 5: 0.05}])
    readings = torch.stack([nothing, five, five, five, five, surest, five, five], dim=1)
    spikes, _ = read_columns(readings, offsets=4)  # two networks at 4 offsets: reading 5 is the second one's at 1 px
    assert [(s.digit, s.shift) for s in spikes] == [(5, 1)]
    spikes, _ = read_columns(readings)  # one network at 8 offsets: reading 5 is 5 px
    assert [(s.digit, s.shift) for s in spikes] == [(5, 5)]
