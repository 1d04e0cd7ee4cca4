"""The presets: the paper's network as printed, its three trainings, and the names users guess."""

import dataclasses

import pytest

from lenet5.errors import Lenet5Error
from lenet5.model import ModelConfig
from lenet5.presets import ALIASES, PRESETS, get_preset


def test_paper_is_the_network_as_printed_with_one_departure_the_optimizer():
    paper = PRESETS["paper"]
    assert paper.model == ModelConfig()  # Table I, bitmaps, eq. 9, the literal init U(+-2.4/F_in)
    assert paper.model.init == "paper" and paper.model.c3 == "table" and paper.model.head == "rbf"
    assert (paper.train.optimizer, paper.train.epochs, paper.train.distort) == ("adam", 20, "none")


def test_paper_distort_differs_from_paper_by_distortions_and_their_weight_decay():
    paper, distort = PRESETS["paper"], PRESETS["paper-distort"]
    assert distort.model == paper.model
    assert dataclasses.replace(distort.train, distort="none", weight_decay=paper.train.weight_decay) == paper.train
    assert distort.train.distort == "fresh" and distort.train.weight_decay < paper.train.weight_decay


def test_paper_sdlm_is_the_papers_algorithm():
    sdlm = PRESETS["paper-sdlm"]
    assert sdlm.train.optimizer == "sdlm" and sdlm.train.schedule == "paper"
    assert dataclasses.replace(sdlm.model, init="paper") == ModelConfig()  # only the init departs


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_name_presets(alias):
    assert get_preset(alias) is PRESETS[ALIASES[alias]]


def test_unknown_preset_lists_the_names():
    with pytest.raises(Lenet5Error, match="paper, paper-distort, paper-pens, paper-sdlm, blog, modern"):
        get_preset("lenet")
