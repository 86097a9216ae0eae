"""Tests of the generator registry: names, construction, did-you-mean errors."""

from __future__ import annotations

import json

import pytest

import generators
from generators.base import Generator
from generators.gaussian import GaussianGenerator
from generators.xor import XORGenerator


def test_names_list_the_registered_generators_in_order():
    names = generators.names()
    assert names == list(generators.GENERATORS)
    assert names[:2] == ["xor", "gaussian"]
    assert all(issubclass(cls, Generator) and cls.name == key for key, cls in generators.GENERATORS.items())


@pytest.mark.parametrize("name, cls", [("xor", XORGenerator), ("gaussian", GaussianGenerator)])
def test_make_builds_with_defaults_and_params(name, cls):
    gen = generators.make(name)
    assert type(gen) is cls and gen == cls()
    json.dumps(gen.params())  # JSON-serialisable
    assert generators.make(name, **gen.params()) == gen  # params() round-trips through make


def test_make_passes_parameters():
    gen = generators.make("xor", synergy=2, bias=0.25)
    assert gen.synergy == 2 and gen.bias == 0.25 and gen.unbiased().bias == 0.0


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown generator 'xorr' \(did you mean 'xor'\?\)"):
        generators.make("xorr")
    with pytest.raises(ValueError, match="did you mean 'gaussian'"):
        generators.make("gausian")


def test_unknown_parameter_is_named_with_a_suggestion():
    with pytest.raises(ValueError, match=r"unknown key 'generator.params.synergyy' \(did you mean 'synergy'"):
        generators.make("xor", synergyy=1)
    with pytest.raises(ValueError, match="unknown key 'generator.params.bitz'"):
        generators.make("gaussian", bitz=3)


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("xor", {"bias": 2.0}, "bias"),
        ("xor", {"synergy": -1}, "synergy"),
        ("gaussian", {"n_bins": 0}, "n_bins"),
    ],
)
def test_invalid_values_raise(name, params, match):
    with pytest.raises(ValueError, match=match):
        generators.make(name, **params)
