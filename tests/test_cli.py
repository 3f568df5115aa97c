"""The ``genmix`` command line and the bundled Old Faithful data.

References: R's ``datasets::faithful`` (``summary``, ``mean``, ``sd``) and scikit-learn's GaussianMixture.
"""
import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from genmix.cli import main
from genmix.datasets import load_old_faithful


def test_demo_leaves_numpy_printoptions_alone(capsys):
    saved = np.get_printoptions()
    assert main(["demo"]) == 0
    assert np.get_printoptions() == saved


# ---------------------------------------------------------------------------------------------------------
# the data set
# ---------------------------------------------------------------------------------------------------------

def test_old_faithful_shape_and_columns():
    X, columns = load_old_faithful()
    assert isinstance(X, np.ndarray) and X.dtype == np.float64
    assert X.shape == (272, 2)
    assert columns == ["eruptions", "waiting"]
    assert np.all(np.isfinite(X))


def test_old_faithful_known_values():
    X, _ = load_old_faithful()
    # head(faithful) in R
    assert_array_equal(X[0], [3.6, 79.0])
    assert_array_equal(X[1], [1.8, 54.0])
    assert_array_equal(X[2], [3.333, 74.0])
    # mean(faithful$eruptions), mean(faithful$waiting)
    assert_allclose(X.mean(axis=0), [3.487783, 70.897059], atol=1e-6)
    # sd(faithful$eruptions), sd(faithful$waiting)
    assert_allclose(X.std(axis=0, ddof=1), [1.141371, 13.594974], atol=1e-6)
    # summary(faithful): min, max, median
    assert_array_equal(X.min(axis=0), [1.6, 43.0])
    assert_array_equal(X.max(axis=0), [5.1, 96.0])
    assert_array_equal(np.median(X, axis=0), [4.0, 76.0])


def test_old_faithful_returns_fresh_arrays():
    X, columns = load_old_faithful()
    X[0, 0] = -1.0
    columns.append("x")
    X2, columns2 = load_old_faithful()
    assert X2[0, 0] == 3.6 and columns2 == ["eruptions", "waiting"]


# ---------------------------------------------------------------------------------------------------------
# genmix demo
# ---------------------------------------------------------------------------------------------------------

def _loglik(out):
    m = re.search(r"log-likelihood:\s*(-?\d+(?:\.\d+)?)", out)
    assert m, out
    return float(m.group(1))


def _sklearn_fit():
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    X, _ = load_old_faithful()
    gm = sklearn_mixture.GaussianMixture(n_components=2, covariance_type="full", reg_covar=0, tol=1e-10,
                                         max_iter=1000, random_state=0).fit(X)
    assert gm.converged_
    return gm, X


def test_demo_output(capsys):
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    for word in ("log-likelihood", "EM iterations", "time", "weight"):
        assert word in out
    assert captured.err == ""
    m = re.search(r"EM iterations:\s*(\d+)", out)
    assert m and int(m.group(1)) >= 1
    assert re.search(r"time:\s*\d+(\.\d+)?\s*s", out)


def test_demo_reaches_the_sklearn_optimum(capsys):
    gm, X = _sklearn_fit()
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    ref = gm.score(X) * X.shape[0]  # total log-likelihood at sklearn's optimum (about -1130.264)
    assert_allclose(_loglik(out), ref, rtol=1e-5)
    # per-sample value printed beside it
    m = re.search(r"\((-?\d+\.\d+) per sample\)", out)
    assert m and abs(float(m.group(1)) - gm.score(X)) < 2e-6
    # component weights, printed in order of the mean eruption time
    weights = [float(w) for w in re.findall(r"component \d+: weight (\d+\.\d+)", out)]
    order = np.argsort(gm.means_[:, 0])
    assert_allclose(weights, gm.weights_[order], atol=1e-4)
    means = [np.array(s.split(), dtype=float) for s in re.findall(r"mean\s+\[\s*([^\]]+)\]", out)]
    assert_allclose(means, gm.means_[order], atol=2e-3)


def test_demo_more_components(capsys):
    assert main(["demo", "--components", "3", "--seed", "1", "--stop-threshold", "1e-3"]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"component \d+: weight", out)) == 3
    assert np.isfinite(_loglik(out))


def test_demo_invalid_components(capsys):
    assert main(["demo", "--components", "0"]) == 2
    captured = capsys.readouterr()
    assert "genmix: error:" in captured.err
    assert "n_components" in captured.err
    assert "log-likelihood" not in captured.out


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_python_dash_m_genmix_demo():
    proc = subprocess.run([sys.executable, "-m", "genmix", "demo"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "log-likelihood" in proc.stdout and "EM iterations" in proc.stdout
    gm, X = _sklearn_fit()
    assert_allclose(_loglik(proc.stdout), gm.score(X) * X.shape[0], rtol=1e-5)


def test_python_dash_m_genmix_error_exit_status():
    proc = subprocess.run([sys.executable, "-m", "genmix", "demo", "--components", "0"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "genmix: error:" in proc.stderr


def test_version_prints_the_version_and_exits_0():
    import genmix

    command = shutil.which("genmix", path=sysconfig.get_path("scripts"))
    assert command, "the genmix command is not installed next to this Python (pip install -e .)"
    version = importlib.metadata.version("genmix")  # the installed package's metadata (pyproject.toml)
    assert genmix.__version__ == version
    for argv in ([command, "--version"], [sys.executable, "-m", "genmix", "--version"]):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == f"genmix {version}\n" and proc.stderr == ""
