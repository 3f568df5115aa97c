"""Every registered family has one spec in ``tests/family_specs.py``, complete for the tables derived from it."""
import dataclasses
import typing

import pytest

from genmix.distributions import REGISTRY

from .family_specs import BY_NAME, SPECS, spec

#: The parts of a spec every family fills in, and the test module each one feeds.
PARTS = {"malformed": "tests/reliability/test_malformed_inputs.py", "round_trip": "tests/reliability/test_properties.py",
         "fits": "tests/reliability/test_valid_data_never_nan.py"}


def _unset(part):
    """The fields of a part that are None but not typed ``Optional`` (which marks a fact that may not apply)."""
    return [f.name for f in dataclasses.fields(part) if getattr(part, f.name) is None
            and not (typing.get_origin(f.type) is typing.Union and type(None) in typing.get_args(f.type))]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_family_has_a_complete_spec(name):
    assert name in BY_NAME, f"{name} is registered but has no FamilySpec in tests/family_specs.py: add one to SPECS"
    s = BY_NAME[name]
    assert s.cls is REGISTRY[name]
    for attribute, module in PARTS.items():
        part = getattr(s, attribute)
        assert part is not None and not _unset(part), \
            f"the spec of {name} in tests/family_specs.py lacks {attribute} {_unset(part) if part else ''} ({module})"
    if s.contract is not None:  # (a family without one has its own test file: test_registry.py checks)
        assert not _unset(s.contract), f"the contract of {name} in tests/family_specs.py lacks {_unset(s.contract)}"
        assert s.contract.cls is s.cls
    example = s.malformed.example()
    assert type(example) is s.cls and s.malformed.constructors
    # a univariate family also enters the random products and mixtures of test_properties.py
    assert s.round_trip.column == (example.d == 1), f"set round_trip.column={example.d == 1} for {name}"
    components = s.fits.components()
    assert len(components) == 3 and all(type(c) is s.cls for c in components)
    assert s.fits.far is None or type(s.fits.far) is s.cls


def test_every_spec_is_of_a_registered_family_once():
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names))
    assert set(names) <= set(REGISTRY)


def test_a_family_without_a_spec_is_told_where_to_add_one():
    with pytest.raises(LookupError, match="tests/family_specs.py"):
        spec("NoSuchDistribution")
