"""Sphinx configuration of genmix's documentation (user guide and API reference).

Build it with warnings as errors (as CI does, through ``tests/test_docs.py``)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Everything is offline: no intersphinx, no remote images, the bundled ``alabaster`` theme.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # autodoc imports genmix.plotting; never open a window
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's genmix, installed or not

import genmix  # noqa: E402

project = "genmix"
author = "the genmix developers"
copyright = "the genmix developers"
release = genmix.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]

# The API pages (docs/api/*.rst) are written by hand with autodoc directives; autosummary only draws the
# summary tables of docs/api.rst, so nothing is generated into the source tree during a build.
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # genmix has no annotations; numpydoc's sections carry the types

# numpydoc lists each class's methods and properties in a table that links to their entries, which
# the API pages document with ``:members:``; no toctree of per-method pages (there are none).
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# A family's page documents only what it adds to Distribution (documented once, on the same page), so its
# table lists only those members: a table of the inherited ones would repeat Distribution's.
_FAMILIES = ["NormalDistribution", "LogNormalDistribution", "ExponentialDistribution", "GammaDistribution",
             "BetaDistribution", "UniformDistribution", "PoissonDistribution", "BernoulliDistribution",
             "DiscreteDistribution", "MultivariateGaussianDistribution", "DirichletDistribution",
             "IndependentComponentsDistribution", "KernelDensity", "GaussianKernelDensity",
             "UniformKernelDensity", "TriangleKernelDensity"]
numpydoc_show_inherited_class_members = {f"genmix.{name}": False for name in _FAMILIES}

# Only the .rst pages are sources: architecture.md and extending.md stay Markdown pages of the repository
# (the guide links to them), so the build needs no Markdown parser.
exclude_patterns = ["_build"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
language = "en"
pygments_style = "sphinx"

html_theme = "alabaster"
html_title = f"genmix {release}"
html_theme_options = {
    "description": "General mixture models fitted by EM, with pomegranate 0.x's API",
    "fixed_sidebar": False,
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
