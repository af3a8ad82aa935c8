"""Which stage stores keep their network state: those a later stage of the run continues from."""

from __future__ import annotations

import pytest

from homeoplastic.assemblies.stages import STAGES, chain_of, keeps_state

SECTION = {"short_chain_rules": ["voltage_no_istdp"], "control_chain_rules": ["triplet"],
           "probe": {"enabled": True}}


@pytest.mark.parametrize(("rule", "kept"), [
    # full chain: perturbations continue from the spontaneous phases, remap and the trained
    # probes from the intact one, the remap set's trained probe from remap, the spontaneous
    # phases and the untrained probe from simulate and train; nothing continues from the ends
    ("voltage", {"simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent",
                 "remap"}),
    # control chain: the non-recurrent phase reads the intact phase's spikes, not its state
    ("triplet", {"simulate", "train"}),
    ("voltage_no_istdp", {"simulate", "train"}),  # short chain: nothing after the intact phase
])
def test_a_store_keeps_its_state_only_where_a_later_stage_continues_from_it(rule, kept):
    stages = chain_of(SECTION, rule)
    assert {stage for stage in stages if keeps_state(SECTION, stage, rule)} == kept
    # and every stage a later stage continues from is among them
    for stage in stages:
        for name, source in STAGES[stage].inputs:
            if name == "previous":
                assert source in kept, (stage, source)


def test_record_keep_state_keeps_every_store_state():
    section = {**SECTION, "record": {"keep_state": True}}
    assert all(keeps_state(section, stage, "voltage") for stage in chain_of(section, "voltage"))
