"""Config loading, overrides, TOML round trip and validation errors that name the offending key."""

from __future__ import annotations

import re

import pytest

from interactions import config as C
from interactions.configs import description, names

TINY = {
    "seed": 3,
    "generator": {"name": "xor", "params": {"redundancy": 1, "unique_1": 1, "unique_2": 1, "synergy": 1}},
    "objective": {"name": "comm"},
    "model": {"width": 16, "hidden": 16, "n_tokens": 2, "heads": 2},
    "train": {"n_train": 64, "epochs": 1, "batch_size": 32},
    "probe": {"n_train": 64, "n_test": 64},
}


# ----------------------------------------------------------------------------------------------- overrides
@pytest.mark.parametrize(
    ("text", "keys", "value"),
    [
        ("train.epochs=3", ["train", "epochs"], 3),
        ("train.lr=1e-3", ["train", "lr"], 1e-3),
        ("train.amp=false", ["train", "amp"], False),
        ("model.cnn_channels=[32, 64]", ["model", "cnn_channels"], [32, 64]),
        ('objective.name="cross"', ["objective", "name"], "cross"),
        ("train.augment_params={ noise_std = 0.1 }", ["train", "augment_params"], {"noise_std": 0.1}),
        ("objective.name=cross", ["objective", "name"], "cross"),
        ("objective.name='cross'", ["objective", "name"], "cross"),
        ("probe.Cs=[0.1, 1.0]", ["probe", "Cs"], [0.1, 1.0]),
        ("generator.params.bias = 0.5", ["generator", "params", "bias"], 0.5),
        ("model.encoder=a=b", ["model", "encoder"], "a=b"),
    ],
)
def test_parse_override(text, keys, value):
    got_keys, got_value = C.parse_override(text)
    assert got_keys == keys
    assert got_value == value
    assert type(got_value) is type(value) or isinstance(got_value, C.BareWord)  # bare words are text


@pytest.mark.parametrize("bad", ["train.epochs", "=3", "train..epochs=3", "train.=1"])
def test_parse_override_rejects_malformed(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        C.parse_override(bad)


def test_apply_overrides_creates_sections_and_copies():
    base = {"train": {"epochs": 1}}
    out = C.apply_overrides(base, ["train.epochs=4", "generator.params.synergy=2"])
    assert out == {"train": {"epochs": 4}, "generator": {"params": {"synergy": 2}}}
    assert base == {"train": {"epochs": 1}}  # the input is not modified
    with pytest.raises(ValueError, match="'train.epochs' is not a section"):
        C.apply_overrides(out, ["train.epochs.x=1"])
    with pytest.raises(TypeError, match="list of 'key=value'"):
        C.apply_overrides(base, "train.epochs=2")


# ------------------------------------------------------------------------------------------ load / resolve
def test_shipped_configs_resolve_and_round_trip():
    assert {"xor", "trifeature_cpu", "trifeature_paper"} <= set(names())
    for name in names():
        assert description(name)  # each shipped file starts with a one-line description
        cfg = C.resolve(name).config
        assert cfg["name"] == name
        again = C.resolve(C.tomllib.loads(C.to_toml(cfg))).config
        assert again == cfg  # the resolved config is a fixed point and survives TOML


def test_paper_config_has_the_paper_protocol():
    cfg = C.resolve("trifeature_paper").config
    train = cfg["train"]
    assert (train["epochs"], train["batch_size"], train["lr"], train["weight_decay"]) == (100, 64, 3e-4, 1e-4)
    assert cfg["seed"] == 42 and cfg["model"]["encoder"] == "alexnet" and cfg["model"]["width"] == 512
    assert (cfg["probe"]["n_train"], cfg["probe"]["n_test"]) == (10_000, 4094)


def test_resolve_fills_defaults_and_applies_seed_and_device(tmp_path):
    cfg = C.resolve(TINY, ["train.epochs=2"], seed=7, device="cpu").config
    assert cfg["seed"] == 7 and cfg["train"]["epochs"] == 2 and cfg["train"]["device"] == "cpu"
    assert cfg["objective"]["params"] == {"temperature": 0.1}  # the objective's signature default
    assert cfg["train"]["augment"] == "views" and cfg["probe"]["n_test"] == 64
    path = tmp_path / "tiny.toml"
    path.write_text(C.to_toml(cfg))
    assert C.resolve(path).config == {**cfg, "name": cfg["name"]}


def test_supervised_gets_n_classes_from_the_generator():
    cfg = C.resolve(
        TINY, ["objective.name=supervised", "objective.params.target=synergy", "generator.params.synergy=2"]
    ).config
    assert cfg["objective"]["params"] == {"target": "synergy", "n_classes": 4}


def test_eval_epochs():
    assert C.TrainSettings(epochs=10, eval_every=4).eval_epochs() == [0, 4, 8, 10]
    assert C.TrainSettings(epochs=3, eval_every=0).eval_epochs() == [0, 3]


# ------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("override", "error", "pattern"),
    [
        ("epochz=3", ValueError, r"unknown key 'config.epochz'"),
        ("train.epochz=3", ValueError, r"unknown key 'train.epochz' \(did you mean 'epochs'\?\)"),
        ("probe.n_tset=10", ValueError, r"unknown key 'probe.n_tset' \(did you mean 'n_test'\?\)"),
        ("model.widht=8", ValueError, r"unknown key 'model.widht' \(did you mean 'width'\?\)"),
        ("generator.params.synergyy=1", ValueError, r"unknown key 'generator.params.synergyy'"),
        ("objective.params.temperatur=0.2", ValueError, r"unknown key 'objective.params.temperature"[:-1]),
        ("objective.nme=comm", ValueError, r"unknown key 'objective.nme'"),
        ("train.epochs='ten'", TypeError, r"train.epochs must be int"),
        ("train.lr='fast'", TypeError, r"train.lr must be float"),
        ("train.lr_schedule='step'", ValueError, r"train.lr_schedule must be one of .*got 'step'"),
        ("train.amp=1", TypeError, r"train.amp must be bool"),
        ("model.width=16.0", TypeError, r"model.width must be int"),
        ("objective.params.temperature='hot'", TypeError, r"objective.params.temperature must be float"),
        ("generator.params.synergy=1.5", TypeError, r"generator.params.synergy must be int"),
        ("probe.n_test=1.5", TypeError, r"probe.n_test must be int"),
        ("seed=-1", TypeError, r"seed must be a non-negative int"),
        ("train.epochs=0", ValueError, r"train.epochs must be >= 1"),
        ("train.batch_size=1000", ValueError, r"train.batch_size \(1000\) must be <= train.n_train"),
        ("train.augment=crop", ValueError, r"train.augment must be one of"),
        ("objective.name=comn", ValueError, r"unknown objective 'comn' \(did you mean 'comm'\?\)"),
        ("generator.name=xr", ValueError, r"unknown generator 'xr' \(did you mean 'xor'\?\)"),
        ("objective.name=supervised", ValueError, r"set 'objective.params.target'"),
        ("model.architecture=late", ValueError, r"'model.architecture' is set by the objective"),
        ("model.encoder=cnn", ValueError, r"model.encoder = 'cnn' .* gives vectors"),
        ("train.augment_params={noise_std = 0.1}", ValueError, r"train.augment_params is only used"),
        ("train.amp=True", TypeError, r"train.amp must be bool .*not a TOML value"),
        ("train.lr=fast", TypeError, r"train.lr must be float .*got 'fast' \(str\)"),
        ("estimators=[{name = 'pdi'}]", ValueError, r"unknown estimator 'pdi' \(did you mean 'pid'\?\)"),
        (
            "estimators=[{name = 'pid', n_clusterz = 4}]",
            ValueError,
            r"unknown key 'estimators.pid.n_clusterz'",
        ),
        ("estimators=[{name = 'pid', n_clusters = 1}]", ValueError, r"estimators.pid \('pid'\): n_clusters"),
        ("estimators=[{name = 'probe'}]", ValueError, r"the probe always runs"),
        ("estimators=[{name = 'ksg'}, {name = 'ksg'}]", ValueError, r"each estimator may appear once"),
    ],
)
def test_bad_config_names_the_key(override, error, pattern):
    with pytest.raises(error, match=pattern):
        C.resolve(TINY, [override])


def test_supervised_with_unknown_target_suggests():
    with pytest.raises(ValueError, match=r"objective.params.target .* \(did you mean 'synergy'\?\)"):
        C.resolve(TINY, ["objective.name=supervised", "objective.params.target=synergi"])


def test_image_generator_with_mlp_encoder_is_rejected():
    with pytest.raises(ValueError, match=r"model.encoder = 'mlp' .* cannot encode the images"):
        C.resolve("trifeature_cpu", ["model.encoder=mlp"])


def test_generic_augment_params_are_checked():
    exp = C.resolve(TINY, ["train.augment=generic"])
    assert exp.train.augment == "generic" and exp.config["train"]["augment"] == "generic"
    with pytest.raises(ValueError, match=r"unknown key 'train.augment_params.nois'"):
        C.resolve(TINY, ["train.augment=generic", "train.augment_params={nois = 0.1}"])
    jitter = ['train.augment="views+generic"', "train.augment_params={blur_prob = 0.0}"]
    both = C.resolve("trifeature_cpu", jitter)
    assert both.train.augment == "views+generic" and both.train.augment_params == {"blur_prob": 0.0}
    with pytest.raises(ValueError, match=r"unknown key 'train.augment_params.blur'"):
        C.resolve("trifeature_cpu", ['train.augment="views+generic"', "train.augment_params={blur = 0.0}"])


def test_generator_value_errors_are_prefixed():
    with pytest.raises(ValueError, match=r"generator.params \('xor'\): .*bias"):
        C.resolve(TINY, ["generator.params.bias=1.5"])


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match=r"unknown config 'xr' \(did you mean 'xor'\?\)"):
        C.load("xr")
    with pytest.raises(ValueError, match="does not exist"):
        C.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 1\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        C.load(bad)
    with pytest.raises(TypeError, match="shipped name, a TOML path or a dict"):
        C.load(3)


def test_to_toml_writes_nested_tables_and_escapes():
    cfg = {
        "name": 'a "q"',
        "seed": 1,
        "train": {"lr": 0.5, "flags": [1, 2], "opts": {}},
        "generator": {"name": "xor", "params": {"bias": 0.25}},
    }
    assert C.tomllib.loads(C.to_toml(cfg)) == cfg


# ----------------------------------------------------------------------------------------- resolve once
def test_resolve_returns_the_built_experiment():
    import generators
    from estimators import Probe, RepresentationPID
    from interactions.objectives import Cross

    exp = C.resolve(TINY, ["objective.name=cross", "estimators=[{name = 'pid', n_clusters = 4}]"])
    assert isinstance(exp.generator, generators.GENERATORS["xor"]) and exp.generator.synergy == 1
    assert exp.objective.cls is Cross and exp.objective.params == exp.config["objective"]["params"]
    assert isinstance(exp.train, C.TrainSettings) and exp.train.n_train == 64
    assert [type(e) for e in exp.estimators] == [Probe, RepresentationPID]
    assert exp.estimators[1].n_clusters == 4
    assert exp.config["estimators"] == [
        {
            "name": "pid",
            "n_clusters": 4,
            "measure": "broja",
            "terms": ["redundancy", "unique_1", "unique_2", "synergy"],
        }
    ]
    # the resolved config is a fixed point (estimators included)
    assert C.resolve(C.tomllib.loads(C.to_toml(exp.config))).config == exp.config


def test_the_same_typo_reads_the_same_everywhere():
    import generators
    import interactions

    with pytest.raises(ValueError) as made:
        generators.make("xor", synergyy=1)
    with pytest.raises(ValueError) as resolved:
        C.resolve(TINY, ["generator.params.synergyy=1"])
    with pytest.raises(ValueError) as ran:
        interactions.run(TINY, ["generator.params.synergyy=1"], progress=False)
    assert str(made.value) == str(resolved.value) == str(ran.value)
    assert "unknown key 'generator.params.synergyy' (did you mean 'synergy'?)" in str(made.value)
    with pytest.raises(ValueError) as made:
        generators.make("xor", bias=1.5)
    with pytest.raises(ValueError) as resolved:
        C.resolve(TINY, ["generator.params.bias=1.5"])
    assert str(made.value) == str(resolved.value)


def test_overrides_follow_toml():
    exp = C.resolve(
        TINY,
        [
            "train.amp=false",
            "train.lr=1e-3",
            "probe.Cs=[0.5, 2.0]",
            'objective.name="cross"',
            "train.device=cpu",
        ],
    )
    assert exp.train.amp is False and exp.train.lr == 1e-3 and exp.train.device == "cpu"
    assert exp.probe.options["Cs"] == [0.5, 2.0] and exp.objective.name == "cross"
    # bare words become plain strings in the resolved config (TOML and JSON friendly)
    assert type(exp.config["train"]["device"]) is str
    assert C.parse_value("1e-3") == 1e-3 and C.parse_value("true") is True
    assert C.parse_value("a\nb = 1") == "a\nb = 1"  # only one TOML value is read


def test_run_uses_the_experiment_without_looking_anything_up(monkeypatch):
    import generators
    import interactions.objectives as objectives
    from interactions import experiment, registry

    exp = C.resolve(TINY, ["train.epochs=1", "train.device=cpu"])

    def no_lookup(*args, **kwargs):
        raise AssertionError("looked up again")

    monkeypatch.setattr(generators, "make", no_lookup)
    monkeypatch.setattr(objectives, "get_objective", no_lookup)
    monkeypatch.setattr(registry, "lookup", no_lookup)
    monkeypatch.setattr(C, "resolve", no_lookup)
    result = experiment.run(exp, progress=False)
    assert result.config == exp.config and list(result.capture["term"]) == list(C.TERMS)
    with pytest.raises(ValueError, match="run as resolved"):
        experiment.run(exp, ["train.epochs=2"], progress=False)
