"""Every example runs in Triton's interpreter and matches the torch reference it declares.

No tritonlift here: this checks the examples themselves (and the test contract they declare), so that the
end-to-end and mutation tests compare the lifter against kernels known to be right.
"""

from __future__ import annotations

import inspect
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import interp

EXAMPLES = interp.example_paths()
HOSTS = interp.host_cases()


def test_examples_exist():
    assert len(EXAMPLES) >= 10, "examples/ lost its files"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_contract_declared(path: Path):
    """INPUTS names exactly the hosts (functions that launch kernels); each has a matching reference."""
    assert interp.CONTRACT_MARKER in path.read_text(), f"{path.name}: no '{interp.CONTRACT_MARKER}' section"
    hosts = interp.launches_by_host(path)
    assert hosts, f"{path.name}: no host function launches a kernel"
    module = interp.load_module(path)
    assert set(module.INPUTS) == set(hosts), f"{path.name}: INPUTS keys {sorted(module.INPUTS)} != hosts"
    for host in hosts:
        params = interp.function_params(path, host)
        assert list(module.INPUTS[host]) == params, (
            f"{path.name}: INPUTS[{host!r}] must list {params} in order"
        )
        for text in module.INPUTS[host].values():
            interp.parse_spec(text)
        ref = interp.reference(module, host)
        assert list(inspect.signature(ref).parameters) == params, f"reference_{host} must take {params}"


@pytest.mark.parametrize(("path", "host"), HOSTS, ids=[interp.case_id(p, h) for p, h in HOSTS])
@settings(max_examples=8, deadline=None, phases=interp.PHASES)
@given(data=st.data())
def test_host_matches_reference(path: Path, host: str, data: st.DataObject):
    module = interp.load_module(path)
    args = interp.make_inputs(interp.input_specs(module, host), interp.HypothesisChooser(data))
    result, launches = interp.run_host(module, host, args)
    assert launches, f"{host} launched no kernel"
    interp.assert_same(result, interp.run_reference(module, host, args), f"{host}({interp.describe(args)})")


@pytest.mark.parametrize(("path", "host"), HOSTS, ids=[interp.case_id(p, h) for p, h in HOSTS])
def test_host_matches_reference_on_block_multiples(path: Path, host: str):
    """Sizes that are exact multiples of the block sizes (unmasked fast paths), contiguous and strided."""
    module = interp.load_module(path)
    specs = interp.input_specs(module, host)
    for strided in (False, True):
        fixed = interp.block_multiple_sizes(specs)
        args = interp.make_inputs(specs, interp.RandomChooser(random.Random(7)), fixed, strided=strided)
        result, _ = interp.run_host(module, host, args)
        interp.assert_same(
            result, interp.run_reference(module, host, args), f"{host}({interp.describe(args)})"
        )
