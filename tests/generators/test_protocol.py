"""The generator protocol every registered generator implements (``interactions.types.GeneratorProtocol``)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import generators
from generators.base import SPLITS
from interactions.types import GeneratorProtocol

CHEAP = ("xor", "gaussian")  # Trifeature's own tests cover its splits (they render images)


@pytest.mark.parametrize("name", list(generators.GENERATORS))
def test_every_generator_implements_the_protocol(name):
    cls = generators.GENERATORS[name]
    for method in ("sample", "views", "ground_truth", "unbiased"):
        assert method in cls.__dict__ or any(
            method in base.__dict__ and not getattr(base.__dict__[method], "__isabstractmethod__", False)
            for base in cls.__mro__[1:]
        ), f"{name} does not implement {method}"
    gen = generators.make(name)
    assert isinstance(gen, GeneratorProtocol)
    assert "split" in inspect.signature(gen.ground_truth).parameters


@pytest.mark.parametrize("name", CHEAP)
def test_ground_truth_of_a_split_is_the_spec_of_its_samples(name):
    gen = generators.make(name)
    for split in SPLITS:
        assert gen.sample(8, seed=0, split=split).spec == gen.ground_truth(split)
    with pytest.raises(ValueError, match="split"):
        gen.ground_truth("validation")


def test_unbiased_is_explicit():
    biased = generators.make("xor", synergy=2, bias=0.5)
    unbiased = biased.unbiased()
    assert unbiased.bias == 0.0 and dataclasses.replace(biased, bias=0.0) == unbiased
    assert unbiased.ground_truth().synergy == pytest.approx(2.0)
    assert biased.ground_truth().synergy < 2.0
    plain = generators.make("xor")
    assert plain.unbiased() is plain
    gauss = generators.make("gaussian")
    assert gauss.unbiased() is gauss
