"""The rules between the network's fields are a declared list, and each is enforced by key.

A value valid alone can be invalid with another (a reset above the threshold, a size and an E
fraction that leave no E cell); before these rules such a config passed and crashed inside the job
(``ValueError: high - low < 0``, ``ZeroDivisionError``). The test walks
``homeoplastic.assemblies.params.CONSTRAINTS``, so a rule added there is tested by its example.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from homeoplastic.assemblies.params import (
    CONSTRAINTS,
    MAX_LEARNING_SPEED,
    MAX_NEURONS,
    NetworkParams,
    ParameterError,
    network_with,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_defaults_meet_every_rule():
    p = NetworkParams()
    for constraint in CONSTRAINTS:
        assert constraint.holds(p), constraint.key


@pytest.mark.parametrize("constraint", CONSTRAINTS,
                         ids=[f"{i}-{c.key}" for i, c in enumerate(CONSTRAINTS)])
def test_each_declared_rule_refuses_its_example_naming_the_key(constraint):
    with pytest.raises(ParameterError) as err:
        NetworkParams.from_dict(constraint.example, where="assemblies.network")
    assert err.value.key == f"assemblies.network.{constraint.key}"
    assert str(err.value).startswith(f"assemblies.network.{constraint.key} = ")
    assert "allowed: " in str(err.value)


@pytest.mark.parametrize("constraint", CONSTRAINTS,
                         ids=[f"{i}-{c.key}" for i, c in enumerate(CONSTRAINTS)])
def test_each_example_breaks_only_its_own_rule(constraint, monkeypatch):
    """So that the walk above tests each rule, not the first one its example happens to break."""
    import homeoplastic.assemblies.params as params

    monkeypatch.setattr(params, "CONSTRAINTS", ())  # build the example without the rules
    p = NetworkParams.from_dict(constraint.example)
    broken = [other.key for other in CONSTRAINTS if not other.holds(p)]
    assert broken == [constraint.key]


def test_the_issue_examples_fail_with_a_clear_message():
    with pytest.raises(ParameterError, match=r"assemblies\.network\.exc\.v_reset_mv = -50 is "
                       r"invalid; allowed: < exc\.v_thresh_rest_mv = -52"):
        network_with({"exc": {"v_reset_mv": -50}}, n_neurons=500, where="assemblies.network")
    with pytest.raises(ParameterError, match=r"assemblies\.network\.connectivity\.exc_fraction = "
                       r"0\.0001 is invalid; allowed: at least one E cell.*n_neurons = 500 "
                       r"\(here 0\)"):
        network_with({"connectivity": {"exc_fraction": 0.0001}}, n_neurons=500,
                     where="assemblies.network")


def test_max_neurons_is_the_bound_everywhere():
    schema = yaml.safe_load((ROOT / "workflow/schemas/assemblies.schema.yaml").read_text())
    assert schema["properties"]["sweep"]["properties"]["n_neurons"]["items"]["maximum"] == MAX_NEURONS
    connectivity = schema["properties"]["network"]["properties"]["connectivity"]["properties"]
    assert connectivity["n_neurons"]["maximum"] == MAX_NEURONS
    with pytest.raises(ParameterError, match=r"network\.connectivity\.n_neurons = 10000000"):
        network_with({}, n_neurons=10_000_000)


def test_max_learning_speed_is_the_bound_everywhere():
    schema = yaml.safe_load((ROOT / "workflow/schemas/assemblies.schema.yaml").read_text())
    sweep_speed = schema["properties"]["sweep"]["properties"]["learning_speed"]["items"]
    assert sweep_speed["maximum"] == MAX_LEARNING_SPEED
    plasticity = schema["properties"]["network"]["properties"]["plasticity"]["properties"]
    assert plasticity["learning_speed"]["maximum"] == MAX_LEARNING_SPEED
    with pytest.raises(ParameterError, match=r"network\.plasticity\.learning_speed = 1e\+300"):
        network_with({}, plasticity={"learning_speed": 1e300})
