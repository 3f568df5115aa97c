"""The family table of the generic contract tests: the ``contract`` of every spec in ``tests/family_specs.py``.

A univariate family with a scipy equivalent fills in its spec's ``contract`` (class parameters, scipy reference,
data, MLE) and is then checked by every test in ``test_contract.py``.
"""
from ..family_specs import SPECS

FAMILIES = [s.contract for s in SPECS if s.contract is not None]
