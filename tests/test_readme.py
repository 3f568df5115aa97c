"""The README's Python example runs and shows the documented numbers."""
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    code = re.search(r"## Example\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    clf = namespace["clf"]
    assert np.isclose(clf.weights[0], 0.6012087742535696, rtol=1e-9)
    assert '"class" : "GeneralMixtureModel"' in capsys.readouterr().out
    assert namespace["fitted"].n == 2


def test_readme_model_selection_snippet_runs(faithful_selection, monkeypatch):
    """The "Choosing a model" snippet runs and picks what its comment says. Its Old Faithful call is the
    session's ``faithful_selection`` (the same call, made once); every other call runs as written."""
    import matplotlib

    import genmix

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faithful, computed = faithful_selection
    real = genmix.select

    def select(X, n_components=range(1, 10), **options):
        if options == {"random_state": 0} and list(n_components) == list(range(1, 10)) \
                and np.array_equal(X, faithful):
            return computed
        return real(X, n_components, **options)

    monkeypatch.setattr(genmix, "select", select)
    code = re.search(r"## Choosing a model\n.*?```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    selection = namespace["selection"]
    assert (selection.best_params_["model"], selection.best_params_["n_components"]) == ("tied", 3)
    assert namespace["by_family"].best_params_["n_components"] in (1, 2, 3)
    plt.close("all")


def _snippet(heading, language="python"):
    """The first code block of a README section."""
    text = README.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def test_readme_pomegranate_snippet_runs():
    namespace = {}
    exec(compile(_snippet("Coming from pomegranate 0.x"), str(README), "exec"), namespace)
    model, restored = namespace["model"], namespace["restored"]
    assert restored.to_dict() == model.to_dict()
    # 300 draws of N(0, 1) and 700 of N(5, 2): the fit recovers them within a few standard errors
    order = np.argsort([c.parameters[0] for c in model.distributions])
    (m0, s0), (m1, s1) = (model.distributions[i].parameters for i in order)
    assert abs(m0) < 0.25 and abs(m1 - 5) < 0.3 and abs(s0 - 1) < 0.2 and abs(s1 - 2) < 0.2
    assert abs(model.weights[order[0]] - 0.3) < 0.05


def test_readme_scikit_learn_snippet_runs_and_is_scikit_learns_fit():
    mixture = __import__("pytest").importorskip("sklearn.mixture")
    namespace = {}
    exec(compile(_snippet("Coming from scikit-learn"), str(README), "exec"), namespace)
    gm, X = namespace["gm"], namespace["X"]
    ref = mixture.GaussianMixture(n_components=3, covariance_type="diag", random_state=0).fit(X)
    np.testing.assert_allclose(gm.means_, ref.means_, rtol=1e-6)
    np.testing.assert_allclose(gm.score(X), ref.score(X), rtol=1e-8)


def test_readme_command_line_snippet_runs(tmp_path):
    """Each line of the "Command line" block, run by the installed genmix command in an empty directory."""
    import os
    import shlex
    import shutil
    import subprocess
    import sysconfig

    command = shutil.which("genmix", path=sysconfig.get_path("scripts"))
    assert command
    outputs = []
    for line in _snippet("Command line", "bash").splitlines():
        argv = shlex.split(line, comments=True)
        assert argv[0] == "genmix"
        proc = subprocess.run([command, *argv[1:]], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        assert proc.returncode == 0, (line, proc.stderr)
        outputs.append(proc.stdout)
    # mclust's choice on Old Faithful among its full (VVV) and tied (EEE) models with 1-4 components: EEE, 3
    assert "selected by BIC among 8 candidates: tied with 3 components" in outputs[1]
    for name in ("faithful.csv", "faithful.json", "posteriors.csv", "faithful.png", "bic.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert len(outputs[5].splitlines()) == 6  # sample -n 5: a header and five rows


def test_readme_plots_snippet_runs(tmp_path, monkeypatch):
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    exec(compile(_snippet("Plots"), str(README), "exec"), {})
    for name in ("faithful_uncertainty.png", "faithful_convergence.png"):
        pixels = mpimg.imread(tmp_path / name)
        assert pixels.shape[0] > 100 and pixels[..., :3].std() > 0.05
    plt.close("all")
    # the README shows what docs/make_figures.py draws
    root = README.parent
    assert "docs/images/faithful_uncertainty.png" in README.read_text()
    assert (root / "docs" / "images" / "faithful_uncertainty.png").exists()
    assert (root / "docs" / "images" / "mixed_columns.png").exists()


def test_readme_out_of_core_snippet_runs():
    namespace = {}
    exec(compile(_snippet("Data bigger than memory"), str(README), "exec"), namespace)
    model = namespace["model"]
    # blocks alternate between N(0, I) and N(4, I) in 3-D: the fit finds both, with half the weight each
    means = sorted(np.asarray(c.parameters[0]).mean() for c in model.distributions)
    assert abs(means[0]) < 0.2 and abs(means[1] - 4) < 0.2
    np.testing.assert_allclose(model.weights, [0.5, 0.5], atol=0.02)
