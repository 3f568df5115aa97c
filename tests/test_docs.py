"""The Sphinx documentation builds without a warning, and every Python snippet of the user guide runs.

The build is the one the README gives (``python -m sphinx -W --keep-going -b html docs docs/_build/html``),
into a temporary directory: warnings are errors, so a docstring that numpydoc or docutils cannot read, a
broken cross-reference to a document or an autodoc target that no longer imports fails here.
"""
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDE = sorted((DOCS / "guide").glob("*.rst"))
#: the pages whose Python snippets are executed: the guide's and the front page's
PAGES = [DOCS / "index.rst"] + GUIDE

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block::[ \t]+python3?[ \t]*$")


def python_blocks(path):
    """The ``.. code-block:: python`` blocks of an reStructuredText file, dedented, in file order.

    Each block is returned as ``(line, source)``, ``line`` being the 1-based line of its directive.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if not match:
            i += 1
            continue
        start, depth, i = i + 1, len(match.group("indent")), i + 1
        while i < len(lines) and re.match(r"^\s+:[\w-]+:", lines[i]):  # the directive's options
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > depth):
            body.append(lines[i])
            i += 1
        blocks.append((start, textwrap.dedent("\n".join(body)).strip("\n") + "\n"))
    return blocks


def run_page(path, workdir):
    """Execute a page's Python blocks in order, in one namespace, from ``workdir`` (files they write land
    there); matplotlib draws off screen and every figure is closed afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": f"docs_{Path(path).stem}"}
    here = os.getcwd()
    os.chdir(workdir)
    try:
        for line, source in python_blocks(path):
            code = compile(source, f"{path}:{line}", "exec")
            exec(code, namespace)  # noqa: S102 - the documentation's own snippets
    finally:
        os.chdir(here)
        plt.close("all")
    return namespace


def test_guide_pages_have_snippets():
    """The extraction finds the guide's code (a page without any is listed here on purpose, or a bug)."""
    assert len(GUIDE) >= 15
    without = sorted(p.name for p in GUIDE if not python_blocks(p))
    assert without == ["cli.rst", "index.rst"]  # the command line's page has console blocks instead


@pytest.mark.usefixtures("restore_registry")  # the extending page registers a family of its own
@pytest.mark.parametrize("path", [p for p in PAGES if python_blocks(p)],
                         ids=lambda p: str(p.relative_to(DOCS)))
def test_guide_snippets_run(path, tmp_path):
    run_page(path, tmp_path)


def console_commands(path, program="genmix"):
    """The ``$ genmix ...`` command lines of an reStructuredText file (continuation lines joined,
    comments dropped), as argument lists without the program name."""
    commands, pending = [], None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if pending is not None:
            text, pending = pending + " " + text, None
        elif not text.startswith(f"$ {program} ") and text != f"$ {program}":
            continue
        if text.endswith("\\"):
            pending = text[:-1]
            continue
        commands.append(shlex.split(text[2:], comments=True)[1:])
    return commands


def _cli_page_files(where):
    """The data files the command-line page's examples read (it describes them in words)."""
    import numpy as np

    from genmix.datasets import load_old_faithful

    X, columns = load_old_faithful()
    header = ",".join(columns)
    np.savetxt(where / "faithful.csv", X, delimiter=",", header=header, comments="", fmt="%g")
    rows = [",".join("" if (i + j) % 7 == 0 else f"{v:g}" for j, v in enumerate(row)) for i, row in enumerate(X)]
    (where / "incomplete.csv").write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    group = rng.random(300) < 0.4
    lines = ["colour,visits,spend"] + [
        f"{'red' if g else 'blue'},{rng.poisson(2 if g else 9)},{rng.gamma(2, 10) if g else rng.gamma(5, 20):.2f}"
        for g in group]
    (where / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_cli_page_commands_run(tmp_path, capsys, monkeypatch):
    """Every ``$ genmix ...`` line of the command line's page runs, in order, in one directory: exit
    status 0, except the page's example of an error (a missing file), which is 2."""
    import matplotlib

    matplotlib.use("Agg")
    from genmix.cli import main

    commands = console_commands(DOCS / "guide" / "cli.rst")
    assert len(commands) >= 10 and ["fit", "missing.csv"] in commands
    _cli_page_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    for argv in commands:
        try:
            status = main(argv)
        except SystemExit as exc:  # --version and --help exit through argparse
            status = exc.code
        captured = capsys.readouterr()
        expected = 2 if argv == ["fit", "missing.csv"] else 0
        assert status == expected, f"genmix {shlex.join(argv)} -> {status}\n{captured.out}{captured.err}"
    for written in ["model.json", "draws.csv", "completed.csv", "faithful.png", "customers.json", "best.yaml",
                    "bic.png"]:
        assert (tmp_path / written).is_file(), written


def test_sphinx_build_has_no_warnings(tmp_path):
    out = tmp_path / "html"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS),
                           str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not proc.stderr.strip(), proc.stderr  # -q: only warnings and errors are printed
    for page in ["index", "api", "api/mixture", "api/distributions", "api/plotting", "api/sklearn",
                 "guide/quickstart", "guide/families", "guide/streaming", "guide/extending"]:
        assert (out / f"{page}.html").is_file(), page
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in ["GeneralMixtureModel.from_samples", "plot_mixture", "MultivariateGaussianDistribution",
                 "EarlyStopping", "CSVGenerator", "GaussianMixture"]:
        assert name in api, name
    mixture = (out / "api" / "mixture.html").read_text(encoding="utf-8")
    assert 'id="genmix.GeneralMixtureModel.from_samples"' in mixture
    assert "{em_parameters}" not in mixture  # the shared docstring sections were filled in
