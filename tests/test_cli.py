"""The ``genmix`` command line and the bundled Old Faithful data.

References: R's ``datasets::faithful`` (``summary``, ``mean``, ``sd``) and scikit-learn's GaussianMixture.
"""
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

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


# ---------------------------------------------------------------------------------------------------------
# genmix fit / predict / score / sample / impute / info / select / plot on files written here
# ---------------------------------------------------------------------------------------------------------

def genmix(*argv, cwd=None, check=True):
    """Run the installed ``genmix`` command in a subprocess."""
    command = shutil.which("genmix", path=sysconfig.get_path("scripts"))
    assert command, "the genmix command is not installed next to this Python (pip install -e .)"
    proc = subprocess.run([command, *map(str, argv)], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    if check:
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    return proc


def fails(*argv, match):
    """The command exits with status 2 and one line on stderr matching ``match``, no traceback."""
    proc = genmix(*argv, check=False)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("genmix"), proc.stderr
    assert re.search(match, lines[0]), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Old Faithful as CSV (with a header), headerless CSV, TSV, .npy and Parquet; a model fitted to it."""
    root = tmp_path_factory.mktemp("cli")
    X, columns = load_old_faithful()
    np.savetxt(root / "faithful.csv", X, delimiter=",", header=",".join(columns), comments="", fmt="%.17g")
    np.savetxt(root / "plain.csv", X, delimiter=",", fmt="%.17g")
    np.savetxt(root / "faithful.tsv", X, delimiter="\t", header="\t".join(columns), comments="", fmt="%.17g")
    np.save(root / "faithful.npy", X)
    pd = pytest.importorskip("pandas")
    pd.DataFrame(X, columns=columns).to_parquet(root / "faithful.parquet")
    genmix("fit", root / "faithful.csv", "--components", 2, "--random-state", 0, "--stop-threshold", 1e-10,
           "-o", root / "model.json")
    return root, X, columns


def sklearn_twin(model_json):
    """A scikit-learn GaussianMixture holding a saved full-covariance model's parameters."""
    mixture = pytest.importorskip("sklearn.mixture")
    doc = json.loads(model_json.read_text())
    means = np.array([c["parameters"][0] for c in doc["distributions"]])
    covs = np.array([c["parameters"][1] for c in doc["distributions"]])
    gm = mixture.GaussianMixture(n_components=len(means), covariance_type="full")
    gm.weights_, gm.means_, gm.covariances_ = np.array(doc["weights"]), means, covs
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(covs))
    return gm


def test_fit_reaches_the_sklearn_optimum_and_prints_the_summary(files, tmp_path):
    root, X, columns = files
    gm, _ = _sklearn_fit()
    proc = genmix("fit", root / "faithful.csv", "--random-state", 0, "--stop-threshold", 1e-10, "-o",
                  tmp_path / "m.json")
    out = proc.stdout
    assert "2-component mixture over 2 columns (eruptions, waiting), 272 rows, 11 free parameters" in out
    loglik = gm.score(X) * X.shape[0]
    assert_allclose(_loglik(out), loglik, rtol=1e-8)
    bic = float(re.search(r"BIC: (-?\d+\.\d+)", out).group(1))
    # scikit-learn's BIC and AIC (same sign, 11 parameters), printed to 4 decimals
    assert_allclose(bic, gm.bic(X), rtol=0, atol=1e-4)
    assert_allclose(float(re.search(r"AIC: (-?\d+\.\d+)", out).group(1)), gm.aic(X), rtol=0, atol=1e-4)
    assert re.search(r"EM iterations: \d+", out) and re.search(r"time: \d+\.\d+ s", out)
    weights = sorted(float(w) for w in re.findall(r"weight (\d\.\d+)", out))
    assert_allclose(weights, sorted(gm.weights_), atol=1e-4)
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["class"] == "GeneralMixtureModel" and doc["feature_names"] == columns
    order = np.argsort([c["parameters"][0][0] for c in doc["distributions"]])
    assert_allclose(np.array([doc["distributions"][i]["parameters"][0] for i in order]),
                    gm.means_[np.argsort(gm.means_[:, 0])], rtol=1e-5)


def test_fit_in_float32_reaches_the_sklearn_optimum(files, tmp_path):
    root, X, _ = files
    gm, _ = _sklearn_fit()
    out = genmix("fit", root / "faithful.csv", "--random-state", 0, "--dtype", "float32", "-o",
                 tmp_path / "m32.json").stdout
    assert_allclose(_loglik(out), gm.score(X) * X.shape[0], rtol=1e-6)
    # the option reached the fit: the same fit in float64 lands on other digits, within float32's rounding
    genmix("fit", root / "faithful.csv", "--random-state", 0, "-o", tmp_path / "m64.json")
    p32, p64 = ([np.concatenate([np.ravel(c["parameters"][0]), np.ravel(c["parameters"][1])])
                 for c in json.loads((tmp_path / name).read_text())["distributions"]]
                for name in ("m32.json", "m64.json"))
    assert not all(np.array_equal(a, b) for a, b in zip(p32, p64))
    for a, b in zip(p32, p64):
        assert_allclose(a, b, rtol=1e-4)
    fails("fit", root / "faithful.csv", "--components", "1-3", "--dtype", "float32",
          match="--dtype float32 applies to one fit")
    fails("fit", root / "faithful.csv", "--dtype", "float16", match="invalid choice: 'float16'")


@pytest.mark.parametrize("name", ["plain.csv", "faithful.tsv", "faithful.npy", "faithful.parquet"])
def test_fit_reads_every_format(files, tmp_path, name):
    root, X, _ = files
    gm, _ = _sklearn_fit()
    out = genmix("fit", root / name, "--random-state", 0, "--stop-threshold", 1e-10).stdout
    assert_allclose(_loglik(out), gm.score(X) * X.shape[0], rtol=1e-8)
    named = "(eruptions, waiting)" if name.endswith(("tsv", "parquet")) else "(0, 1)"
    assert named in out


def test_predict_and_proba_are_the_posteriors_of_the_saved_model(files, tmp_path):
    root, X, _ = files
    gm = sklearn_twin(root / "model.json")
    genmix("predict", root / "model.json", root / "faithful.csv", "-o", tmp_path / "labels.csv")
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert lines[0] == "component" and len(lines) == X.shape[0] + 1
    assert_array_equal(np.array(lines[1:], dtype=int), gm.predict(X))
    # posteriors, streamed in batches of 50 rows (the same output as one batch)
    genmix("predict", root / "model.json", root / "faithful.csv", "--proba", "--batch-size", 50,
           "-o", tmp_path / "proba.csv")
    P = np.loadtxt(tmp_path / "proba.csv", delimiter=",", skiprows=1)
    assert (tmp_path / "proba.csv").read_text().splitlines()[0] == "p0,p1"
    assert_allclose(P, gm.predict_proba(X), rtol=1e-9, atol=1e-15)
    # to standard output by default; a headerless file is matched by position
    out = genmix("predict", root / "model.json", root / "plain.csv").stdout.splitlines()
    assert out == lines


def test_score_is_the_log_likelihood_and_criteria_of_the_file(files):
    root, X, _ = files
    gm = sklearn_twin(root / "model.json")
    out = genmix("score", root / "model.json", root / "faithful.npy", "--batch-size", 100).stdout
    assert "rows: 272" in out
    assert_allclose(_loglik(out), gm.score(X) * X.shape[0], rtol=0, atol=1e-6)  # printed to 6 decimals
    assert_allclose(float(re.search(r"BIC: (-?\d+\.\d+)", out).group(1)), gm.bic(X), rtol=0, atol=1e-4)
    # ICL = BIC - 2 sum log max_k P(k | x), with scikit-learn's posteriors
    icl = gm.bic(X) - 2 * np.sum(np.log(gm.predict_proba(X).max(axis=1)))
    assert_allclose(float(re.search(r"ICL: (-?\d+\.\d+)", out).group(1)), icl, rtol=0, atol=1e-4)


def test_sample_draws_from_the_model(files, tmp_path):
    root, _, columns = files
    gm = sklearn_twin(root / "model.json")
    genmix("sample", root / "model.json", "-n", 20000, "--random-state", 3, "-o", tmp_path / "s.csv")
    text = (tmp_path / "s.csv").read_text()
    assert text.splitlines()[0] == ",".join(columns)
    S = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    assert S.shape == (20000, 2)
    mean = gm.weights_ @ gm.means_  # the mixture's mean, in closed form
    cov = sum(w * (c + np.outer(m - mean, m - mean)) for w, m, c in zip(gm.weights_, gm.means_, gm.covariances_))
    se = np.sqrt(np.diag(cov) / S.shape[0])
    assert np.all(np.abs(S.mean(axis=0) - mean) < 5 * se)
    again = genmix("sample", root / "model.json", "-n", 20000, "--random-state", 3).stdout
    assert again == text  # the same seed, the same samples


def test_impute_fills_missing_values_with_their_conditional_expectation(files, tmp_path):
    root, X, columns = files
    gm = sklearn_twin(root / "model.json")
    rows = [[np.nan, 80.0], [2.0, np.nan], [3.1, 70.0]]
    (tmp_path / "holes.csv").write_text("waiting,eruptions\n" + "".join(
        f"{'' if np.isnan(b) else b},{'' if np.isnan(a) else a}\n" for a, b in rows))  # columns swapped: by name
    genmix("impute", root / "model.json", tmp_path / "holes.csv", "-o", tmp_path / "filled.csv")
    filled = (tmp_path / "filled.csv").read_text().splitlines()
    assert filled[0] == "eruptions,waiting"
    got = np.array([line.split(",") for line in filled[1:]], dtype=float)

    def expected(x):  # E[x_m | x_o] under the mixture, by scipy
        o = ~np.isnan(x)
        m = ~o
        post = np.array([w * stats.multivariate_normal(mu[o], S[np.ix_(o, o)]).pdf(x[o])
                         for w, mu, S in zip(gm.weights_, gm.means_, gm.covariances_)])
        post /= post.sum()
        cond = [mu[m] + S[np.ix_(m, o)] @ np.linalg.solve(S[np.ix_(o, o)], x[o] - mu[o])
                for mu, S in zip(gm.means_, gm.covariances_)]
        out = x.copy()
        out[m] = post @ np.array(cond)
        return out

    assert_allclose(got, [expected(np.array(r)) for r in rows], rtol=1e-10)


def test_info_describes_the_model(files):
    root, _, _ = files
    out = genmix("info", root / "model.json").stdout
    assert "2-component GeneralMixtureModel of MultivariateGaussianDistribution" in out
    assert "columns (2): eruptions, waiting" in out and "free parameters: 11" in out
    assert out.count("mean ") == 2 and out.count("covariance ") == 2


def test_mixed_csv_with_categories_and_missing_values(tmp_path):
    """Two well-separated groups: EM's fit is each group's closed-form MLE (the posteriors are 0 or 1)."""
    rng = np.random.default_rng(0)
    n = 400
    group = np.arange(n) % 2
    age = np.where(group, rng.normal(60, 2, n), rng.normal(25, 2, n))
    colour = np.where(group, rng.choice(["red", "blue"], n, p=[0.8, 0.2]), rng.choice(["red", "blue", "green"], n))
    visits = rng.poisson(np.where(group, 9.0, 2.0))
    missing = rng.random(n) < 0.1
    with open(tmp_path / "people.csv", "w") as fh:
        fh.write("id,age,colour,visits\n")
        for i in range(n):
            fh.write(f"{i},{age[i]:.6f},{'' if missing[i] else colour[i]},{visits[i]}\n")
    out = genmix("fit", tmp_path / "people.csv", "--per-column", "age=normal,colour=categorical,visits=poisson",
                 "--random-state", 0, "-o", tmp_path / "people.json").stdout
    assert "over 3 columns (age, colour, visits), 400 rows" in out
    doc = json.loads((tmp_path / "people.json").read_text())
    # pomegranate's layout: a product's parameters are [its columns' distributions, their weights]
    old = int(np.argmax([c["parameters"][0][0]["parameters"][0] for c in doc["distributions"]]))
    for g, comp in ((1, doc["distributions"][old]), (0, doc["distributions"][1 - old])):
        rows = group == g
        a = np.round(age[rows], 6)
        normal, discrete, poisson = comp["parameters"][0]
        assert_allclose(normal["parameters"], [a.mean(), a.std()], rtol=1e-9)
        assert_allclose(poisson["parameters"], [visits[rows].mean()], rtol=1e-9)
        seen = colour[rows & ~missing]
        table = discrete["parameters"][0]
        for key in set(seen):
            assert_allclose(table[key], np.mean(seen == key), rtol=1e-9)
    assert_allclose(doc["weights"], [0.5, 0.5], rtol=1e-9)
    # predict matches columns by name (id is ignored), impute fills the missing colours with a category
    labels = np.array(genmix("predict", tmp_path / "people.json", tmp_path / "people.csv").stdout.split()[1:], int)
    assert_array_equal(labels == old, group == 1)
    filled = genmix("impute", tmp_path / "people.json", tmp_path / "people.csv").stdout.splitlines()
    assert filled[0] == "age,colour,visits"
    colours = [line.split(",")[1] for line in filled[1:]]
    assert all(c in ("red", "blue", "green") for c in colours)
    # the missing colour of an old person is the old group's mode (red)
    assert all(colours[i] == "red" for i in np.flatnonzero(missing & (group == 1)))
    out = genmix("fit", tmp_path / "people.csv", "--columns", "age,colour", "--random-state", 0).stdout
    assert "NormalDistribution" in out and "DiscreteDistribution" in out  # auto: one family per column kind


def test_a_range_of_components_selects_by_the_criterion(files, tmp_path):
    root, X, _ = files
    gm, _ = _sklearn_fit()
    proc = genmix("select", root / "faithful.csv", "--components", "1-3", "--covariance-types", "full,diag",
                  "--random-state", 0, "--plot", tmp_path / "bic.png", "-o", tmp_path / "best.json")
    out = proc.stdout
    assert "best by BIC: full with 2 components (6 candidates" in out
    best_row = [line for line in out.splitlines() if line.endswith("best")][0].split()
    assert_allclose(float(best_row[4]), gm.bic(X), rtol=0, atol=1e-3)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(tmp_path / "bic.png")
    assert pixels.shape[0] > 100 and pixels[..., :3].std() > 0.05
    assert json.loads((tmp_path / "best.json").read_text())["feature_names"] == ["eruptions", "waiting"]
    fit = genmix("fit", root / "faithful.csv", "--components", "1-3", "--covariance-type", "full",
                 "--random-state", 0).stdout
    assert "selected by BIC among 3 candidates: full with 2 components" in fit
    assert_allclose(_loglik(fit), gm.score(X) * X.shape[0], rtol=1e-7)


@pytest.mark.parametrize("kind", ["auto", "density", "classification"])
def test_plot_writes_a_figure(files, tmp_path, kind):
    import matplotlib.image as mpimg

    root, _, _ = files
    extra = ["--show", "waiting"] if kind == "density" else []
    genmix("plot", root / "model.json", root / "faithful.csv", "--kind", kind, *extra, "-o", tmp_path / "f.png")
    pixels = mpimg.imread(tmp_path / "f.png")
    assert pixels.shape[0] > 100 and pixels[..., :3].std() > 0.05


def test_progress_bar_on_a_terminal(files):
    """On a terminal (a pseudo-terminal here) fit shows tqdm's bar on stderr; through a pipe it does not."""
    pytest.importorskip("tqdm")
    import fcntl
    import pty
    import struct
    import termios

    root, _, _ = files
    command = shutil.which("genmix", path=sysconfig.get_path("scripts"))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    try:
        proc = subprocess.run([command, "fit", str(root / "faithful.csv"), "--random-state", "0",
                               "--stop-threshold", "1e-10"], stdout=subprocess.PIPE, stderr=follower, timeout=300)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    assert proc.returncode == 0
    err = b"".join(chunks).decode(errors="replace")
    assert re.search(r"EM: .*\d+epoch", err), err
    assert genmix("fit", root / "faithful.csv", "--random-state", 0).stderr == ""


def test_bad_input_exits_2_with_one_line(files, tmp_path):
    root, _, _ = files
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,x\n4,5\n")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3\n")
    (tmp_path / "inf.csv").write_text("a,b\n1,2\n3,inf\n")
    (tmp_path / "three.csv").write_text("1,2,3\n4,5,6\n")
    (tmp_path / "model.txt.json").write_text("this is not json\n")
    (tmp_path / "other.json").write_text('{"class": "Distribution", "name": "NormalDistribution", '
                                         '"parameters": [0, 1], "frozen": false}')
    fails("fit", tmp_path / "nope.csv", match=r"nope\.csv: no such file")
    fails("fit", tmp_path / "bad.csv", "--distribution", "normal",
          match=r"bad\.csv, line 3, column 'b': 'x' is not a number")
    fails("fit", tmp_path / "ragged.csv", match=r"line 3: 1 fields, expected 2")
    fails("fit", tmp_path / "inf.csv", match=r"line 3, column 'b': the value is infinite")
    fails("fit", root / "faithful.csv", "--columns", "eruptions,speed", match=r"unknown column 'speed'")
    fails("fit", root / "faithful.csv", "--components", "0", match=r"--components: component counts must be positive")
    fails("fit", root / "faithful.csv", "--distribution", "weibull", match=r"invalid choice: 'weibull'")
    fails("fit", root / "faithful.csv", "--stop-threshold", "-1", match=r"finite number >= 0")
    fails("fit", root / "faithful.csv", "--distribution", "poisson", match=r"faithful\.csv: .*support of Poisson")
    fails("fit", root / "faithful.csv", "--distribution", "normal", "--covariance-type", "diag",
          match=r"--covariance-type applies to --distribution mvn only")
    fails("fit", root / "faithful.csv", "--per-column", "eruptions=normal", "--distribution", "normal",
          match=r"--distribution or --per-column, not both")
    fails("fit", root / "faithful.csv", "--per-column", "eruptions=normal", "--columns", "eruptions,waiting",
          match=r"'waiting' is in --columns but has no family")
    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    fails("fit", tmp_path / "data.bin", match=r"unknown data format '\.bin'")
    fails("predict", root / "model.json", tmp_path / "three.csv", match=r"3 columns selected, but the model has 2")
    fails("predict", root / "model.json", tmp_path / "bad.csv", match=r"lacks the model's column 'eruptions'")
    fails("predict", tmp_path / "model.txt.json", root / "faithful.csv",
          match=r"is not a genmix or pomegranate model file \(not valid JSON")
    fails("predict", tmp_path / "other.json", root / "faithful.csv",
          match=r"holds a NormalDistribution, not a GeneralMixtureModel")
    fails("info", tmp_path / "missing.json", match=r"no such model file")
    fails("sample", root / "model.json", "-n", "0", match=r"-n: expected a positive integer")
    fails("plot", root / "model.json", root / "faithful.csv", "--kind", "density", "--show", "eruptions,waiting",
          "-o", tmp_path / "x.png", match=r"--kind density draws one column; --show gives 2")
    fails("plot", root / "model.json", root / "faithful.csv", "--show", "speed", "-o", tmp_path / "x.png",
          match=r"--show: unknown column 'speed'")
    line = fails("predict", root / "model.json", root / "faithful.csv", "-o", tmp_path / "no" / "dir.csv",
                 match=r"cannot write")
    assert "Traceback" not in line


def test_verbose_shows_the_traceback(files):
    root, _, _ = files
    proc = genmix("fit", root / "nope.csv", "--verbose", check=False)
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"genmix: error: {root / 'nope.csv'}: no such file."


def test_a_pomegranate_model_file_works(tmp_path):
    """pomegranate 0.x's JSON (as its to_json writes it, reference/ layout) is read by every command."""
    doc = {"class": "GeneralMixtureModel", "distributions": [
        {"class": "Distribution", "name": "NormalDistribution", "parameters": [0.0, 1.0], "frozen": False},
        {"class": "Distribution", "name": "NormalDistribution", "parameters": [5.0, 2.0], "frozen": False}],
        "weights": [0.25, 0.75]}
    (tmp_path / "pom.json").write_text(json.dumps(doc, indent=4, separators=(",", " : ")))
    (tmp_path / "x.csv").write_text("x\n-1\n0.5\n6\n\n")
    P = np.loadtxt(genmix("predict", tmp_path / "pom.json", tmp_path / "x.csv", "--proba").stdout.splitlines()[1:],
                   delimiter=",")
    x = np.array([-1.0, 0.5, 6.0])
    joint = np.column_stack([0.25 * stats.norm(0, 1).pdf(x), 0.75 * stats.norm(5, 2).pdf(x)])
    assert_allclose(P, joint / joint.sum(axis=1, keepdims=True), rtol=1e-12)
    out = genmix("score", tmp_path / "pom.json", tmp_path / "x.csv").stdout
    assert_allclose(_loglik(out), np.sum(np.log(joint.sum(axis=1))), rtol=0, atol=1e-6)


def test_predict_streams_a_file_in_batches_within_a_memory_bound(files, tmp_path, monkeypatch):
    """A 200,000-row CSV predicted in 2,000-row batches: the peak of Python allocations stays a small
    fraction of what reading the file whole takes, and the output is the same as the unbatched one."""
    import tracemalloc

    root, X, _ = files
    rng = np.random.default_rng(0)
    big = X[rng.integers(0, X.shape[0], 200_000)] + rng.normal(0, 0.01, (200_000, 2))
    np.savetxt(tmp_path / "big.csv", big, delimiter=",", header="eruptions,waiting", comments="", fmt="%.6f")
    tracemalloc.start()
    try:
        assert main(["predict", str(root / "model.json"), str(tmp_path / "big.csv"), "--batch-size", "2000",
                     "-o", str(tmp_path / "labels.csv")]) == 0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        from genmix._files import Source

        source = Source(tmp_path / "big.csv")
        whole = source.read([0, 1], ["numeric", "numeric"])  # the file read at once, for comparison
        _, peak_whole = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_array_equal(np.column_stack(whole), np.round(big, 6))
    assert peak < peak_whole / 8, (peak, peak_whole)
    gm = sklearn_twin(root / "model.json")
    labels = np.loadtxt(tmp_path / "labels.csv", skiprows=1, dtype=int)
    assert_array_equal(labels, gm.predict(np.round(big, 6)))


@pytest.mark.parametrize("missing, argv, message", [
    ("matplotlib", ["plot", "{root}/model.json", "{root}/faithful.csv", "-o", "{tmp}/f.png"],
     'genmix.plotting needs matplotlib: pip install "genmix[plot]"'),
    ("pyarrow", ["fit", "{root}/faithful.parquet"], 'reading Parquet needs pyarrow: pip install "genmix[parquet]"'),
])
def test_a_missing_extra_is_named_with_its_install_command(files, tmp_path, missing, argv, message):
    """Without the optional package (blocked in the subprocess), the command says which extra to install."""
    root, _, _ = files
    argv = [a.format(root=root, tmp=tmp_path) for a in argv]
    code = (f"import sys; sys.modules[{missing!r}] = None; from genmix.cli import main; "
            f"sys.exit(main({argv!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("genmix: error: ") and line.endswith(message), line


def test_plot_draws_a_uniform_sample_of_a_large_file(files, tmp_path):
    """--max-rows keeps a seeded uniform sample of the rows (in file order), read batch by batch."""
    from genmix.cli import _sample_rows

    X = np.arange(10_000, dtype=float).reshape(-1, 1)
    batches = [(i, X[i:i + 700]) for i in range(0, 10_000, 700)]
    sample = _sample_rows(iter(batches), 1000)
    assert sample.shape == (1000, 1)
    assert np.all(np.diff(sample[:, 0]) > 0)  # file order, no row twice
    # uniform: each tenth of the file holds about a tenth of the sample (binomial sd ~ 9.5)
    counts = np.bincount((sample[:, 0] // 1000).astype(int), minlength=10)
    assert np.all(np.abs(counts - 100) < 40), counts
    assert_array_equal(_sample_rows(iter(batches), 1000), sample)  # seeded: the same sample again
    assert_array_equal(_sample_rows(iter(batches), 20_000), X)  # fewer rows than the limit: all of them
    root, _, _ = files
    genmix("plot", root / "model.json", root / "faithful.csv", "--max-rows", 50, "-o", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
