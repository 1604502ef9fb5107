"""Every mi_ref module's `Config` and CLI refuse impossible settings with a clear message.

Modules are found by scanning `mi_ref/*.py`, so a new module is covered without editing this file.
For each one:

1. the default `Config()` is accepted;
2. every int/float field is given impossible values chosen by a small rule table keyed on the
   field's name and type (negative or zero counts, steps and sizes; non-positive learning rates and
   scales; probabilities outside [0, 1]; NaN and infinity; more samples than the digits world
   holds), and `Config(...)` must raise ValueError whose message names the field;
3. string fields are either comma-separated number lists (garbage, empty and out-of-range lists are
   refused) or choices among options (an unknown value is refused and the message lists the
   allowed values);
4. `module.main([flag, value])` with an impossible value exits with code 2, one line on stderr
   naming the field, and no traceback.

`run()` is never called (it is replaced by a function that fails the test), so the whole file takes
a few seconds.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import re
import typing
from pathlib import Path

import pytest

from mi_ref.harness import digits_split

MI_REF = Path(__file__).resolve().parent.parent / "mi_ref"

# Not method families: package marker, shared plumbing, metric functions, and the bench driver
# (an attack x defense matrix with its own two flags and no Config).
NOT_FAMILIES = {"__init__", "harness", "metrics", "bench"}
MODULES = sorted(p.stem for p in MI_REF.glob("*.py") if p.stem not in NOT_FAMILIES)

# Fields that count samples drawn from the digits: none can exceed the largest split (private).
SAMPLE_FIELDS = {"n_targets", "max_batch", "n_single", "batch_size"}
LARGEST_SPLIT = max(len(x) for x, _ in digits_split(0).values())

# Integer fields for which 0 is a meaningful setting (negative values are still refused).
ZERO_OK = {
    ("deepinversion", "steps"): "0 steps keeps the random initial images: the no-optimisation baseline",
    ("generative_prior", "steps"): "0 steps keeps the first latent draws: the prior-sampling baseline",
    ("label_only", "iterations"): "0 iterations stops after the initial points are found",
    ("regularisers", "short_steps"): "0 short steps means only the full-budget attack is run",
    ("gradient_generative", "weight_steps"): "0 weight steps skips GIAS's second stage: GGL's latent search alone",
    ("label_leakage", "positive"): "the digit 0 is a class like any other (and the default positive class)",
    ("llm_inversion", "restarts"): "0 restarts searches from the inverter's best guess and the nearest neighbour only",
    ("llm_inversion", "steps"): "0 steps keeps the lowest-KL start: the inverter / nearest-neighbour baseline",
}

# Float fields by what they are; anything not listed must be >= 0 (a weight, noise level or effect).
POSITIVE_FLOATS = {"lr", "step_size", "temperature", "max_grad_norm", "radius", "max_radius", "step", "recovered_db"}
PROBABILITY_FLOATS = {"p_in", "p_out"}
ABOVE_ONE_FLOATS = {"growth"}  # a radius growth factor: at or below 1 the search never widens

# Explicit exceptions where a negative float is legitimate: (module, field) -> why. None today;
# e.g. a signed effect size would go here.
NEGATIVE_OK: dict[tuple[str, str], str] = {}

NUMBER_LIST = re.compile(r"[-+0-9.eE:, ]+")


def load(name: str):
    return importlib.import_module(f"mi_ref.{name}")


def config_fields(mod) -> list[tuple[str, type, object]]:
    hints = typing.get_type_hints(mod.Config)
    return [(f.name, hints[f.name], f.default) for f in dataclasses.fields(mod.Config)]


def impossible_values(module: str, name: str, kind: type, default: object) -> list[object]:
    """The rule table: impossible values for one field, from its name and type."""
    if kind is bool:
        return []
    if kind is int:
        if name == "seed":
            return [-1]  # numpy refuses negative seeds
        bad: list[object] = [-1]
        if (module, name) not in ZERO_OK:
            bad.append(0)
        if name in SAMPLE_FIELDS and (hasattr(load(module), "digits_split") or hasattr(load(module), "digits_world")):
            bad.append(LARGEST_SPLIT + 1)
        return bad
    if kind is float:
        bad = [math.nan, math.inf]
        if name in POSITIVE_FLOATS or name.endswith("_scale"):
            bad += [0.0, -1.0]
        elif name in PROBABILITY_FLOATS or name.endswith("_ratio"):
            bad += [-0.1, 1.5]
        elif name in ABOVE_ONE_FLOATS:
            bad += [1.0, 0.5]
        elif (module, name) not in NEGATIVE_OK:
            bad += [-1.0]
        return bad
    if kind is str and NUMBER_LIST.fullmatch(str(default)):
        # Not numbers, nothing, far out of range, NaN: no list field takes any of them. Some lists
        # legitimately hold negatives (regularisers.nls_alphas: negative label smoothing), so the
        # out-of-range probe is -1e9, outside every list's range rather than merely below zero.
        return ["x", "", "-1e9", "nan"]
    if kind is str:
        return ["no-such-option"]
    raise AssertionError(f"mi_ref.{module}.Config.{name}: add a rule for fields of type {kind}")


CASES = [
    pytest.param(m, name, value, id=f"{m}.{name}={value!r}")
    for m in MODULES
    for name, kind, default in config_fields(load(m))
    for value in impossible_values(m, name, kind, default)
]


def option_sets(mod, default: str) -> list[tuple[str, ...]]:
    """Module-level tuples of strings that hold the field's default: the allowed values."""
    return [
        v
        for v in vars(mod).values()
        if isinstance(v, tuple) and v and all(isinstance(s, str) for s in v) and default in v and len(v) > 1
    ]


def test_every_module_has_a_config_and_a_main():
    assert len(MODULES) >= 19
    for m in MODULES:
        mod = load(m)
        assert dataclasses.is_dataclass(mod.Config), f"mi_ref.{m}: Config must be a dataclass"
        assert mod.Config.__dataclass_params__.frozen, f"mi_ref.{m}: Config must be frozen"
        assert callable(mod.main), f"mi_ref.{m}: needs main(argv)"


@pytest.mark.parametrize("module", MODULES)
def test_default_config_is_accepted(module):
    mod = load(module)
    cfg = mod.Config()
    assert dataclasses.asdict(cfg) == {name: default for name, _, default in config_fields(mod)}


@pytest.mark.parametrize(("module", "name", "value"), CASES)
def test_config_refuses_impossible_value(module, name, value):
    mod = load(module)
    with pytest.raises(ValueError) as err:
        mod.Config(**{name: value})
    assert name in str(err.value), f"message does not name {name!r}: {err.value}"


@pytest.mark.parametrize("module", MODULES)
def test_option_fields_list_the_allowed_values(module):
    mod = load(module)
    for name, kind, default in config_fields(mod):
        if kind is not str or NUMBER_LIST.fullmatch(default):
            continue
        sets = option_sets(mod, default)
        assert sets, f"mi_ref.{module}.Config.{name}: keep its allowed values in a module-level tuple"
        allowed = sets[0]
        for value in allowed:
            mod.Config(**{name: value})  # every listed option is accepted
        with pytest.raises(ValueError) as err:
            mod.Config(**{name: "no-such-option"})
        message = str(err.value)
        assert name in message and all(v in message for v in allowed), message


def test_option_rule_finds_a_known_option_field():
    """Guards the detection above: optimisation's target_arch is an option field."""
    mod = load("optimisation")
    assert not NUMBER_LIST.fullmatch(mod.Config().target_arch)
    assert option_sets(mod, mod.Config().target_arch) == [mod.TARGETS]


@pytest.mark.parametrize(("module", "name", "value"), CASES)
def test_cli_refuses_impossible_value(module, name, value, monkeypatch, capsys):
    mod = load(module)

    def never(cfg):
        raise AssertionError(f"run() called with an impossible setting {name}={value!r}")

    monkeypatch.setattr(mod, "run", never)
    # "--flag=value": argparse would take a lone "-1e9" for an option
    code = mod.main([f"--{name.replace('_', '-')}={value}"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert name in lines[0] and "Traceback" not in captured.err


@pytest.mark.parametrize("text", ["nan:1", "1:inf", "-1:2"])
def test_bido_weight_pairs_must_be_finite_and_non_negative(text: str) -> None:
    from mi_ref.regularisers import parse_bido

    with pytest.raises(ValueError, match="bido_weights"):
        parse_bido(text)
