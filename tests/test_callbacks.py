"""Callbacks: checkpoints, CSV logs, lambdas, progress bar, early stopping on held-out data."""
import csv
import importlib.metadata
import io
import re
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import logsumexp
from scipy.stats import norm

from genmix import GeneralMixtureModel, NormalDistribution
from genmix.callbacks import CSVLogger, EarlyStopping, LambdaCallback, ModelCheckpoint, ProgressBar

X = [[1], [5], [7], [8], [2]]


def model():
    return GeneralMixtureModel([NormalDistribution(5, 2), NormalDistribution(1, 1)])


def test_model_checkpoint_honours_its_name_and_files_load_back(tmp_path, capsys):
    prefix = tmp_path / "gmm"
    fitted, history = model().fit(X, callbacks=[ModelCheckpoint(name=prefix)], return_history=True)
    for epoch in history.epochs:
        assert (tmp_path / f"gmm.{epoch}.json").exists()
    last = GeneralMixtureModel.from_json(str(tmp_path / f"gmm.{history.epochs[-1]}.json"))
    assert last.to_dict() == fitted.to_dict()
    first = GeneralMixtureModel.from_json(str(tmp_path / "gmm.1.json"))
    assert_allclose(first.log_probability(X).sum(), history.log_probabilities[0], rtol=1e-12)
    assert "[1] Saving checkpoint to" in capsys.readouterr().out


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    _, history = model().fit(X, callbacks=[CSVLogger(path)], return_history=True)
    rows = read_rows(path)
    assert list(rows[0]) == ["epoch", "duration", "total_improvement", "improvement", "log_probability",
                             "last_log_probability", "epoch_start_time", "epoch_end_time", "n_seen_batches",
                             "learning_rate"]
    assert [int(r["epoch"]) for r in rows] == history.epochs
    assert_allclose([float(r["improvement"]) for r in rows], history.improvements, rtol=1e-15)
    model().fit(X, callbacks=[CSVLogger(path, append=True)])
    assert len(read_rows(path)) == 2 * len(rows)


def test_lambda_callback():
    events = []
    cb = LambdaCallback(on_training_begin=lambda: events.append("begin"),
                        on_epoch_end=lambda logs: events.append(logs["epoch"]),
                        on_training_end=lambda logs: events.append("end"))
    model().fit(X, callbacks=[cb])
    assert events == ["begin", 1, 2, 3, "end"]


def test_progress_bar_writes_one_step_per_epoch():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    model().fit(X, callbacks=[ProgressBar(total=3, file=out, mininterval=0)])
    assert "3/3" in out.getvalue()


X10 = np.array([0.5, 6.0, 1.2, 4.4, 9.1, -0.7, 5.5, 2.2, 7.3, 3.0])[:, None]


def reference_log_probability(x):
    """The starting model() (weights 1/2, N(5, 2), N(1, 1)) by scipy.stats."""
    x = np.ravel(x)
    return logsumexp(np.log(0.5) + np.stack([norm.logpdf(x, 5, 2), norm.logpdf(x, 1, 1)]), axis=0)


class BatchRecorder:
    """A callback with only the per-batch hook."""

    def __init__(self):
        self.calls = []

    def on_batch_end(self, logs):
        self.calls.append(dict(logs))


def test_driver_calls_on_batch_end_after_each_batch_e_step():
    recorder = BatchRecorder()
    _, history = model().fit(X10, batch_size=4, max_iterations=2, callbacks=[recorder], return_history=True)
    sizes = [4, 4, 2]  # ceil(10 / 4) batches per pass
    epochs = [0] + history.epochs  # epoch 0 is the initial E-step
    assert [(c["epoch"], c["batch"], c["n_batches"], c["n_samples"]) for c in recorder.calls] == \
        [(e, b + 1, 3, sizes[b]) for e in epochs for b in range(3)]
    # the initial E-step scores each batch under the starting parameters
    lp = reference_log_probability(X10)
    assert_allclose([c["log_probability"] for c in recorder.calls[:3]],
                    [lp[:4].sum(), lp[4:8].sum(), lp[8:].sum()], rtol=1e-12)
    # streaming: batches_per_epoch batches per epoch; a lambda callback takes the hook too
    seen = []
    model().fit(X10, batch_size=4, batches_per_epoch=2, max_iterations=2,
                callbacks=[LambdaCallback(on_batch_end=lambda logs: seen.append((logs["epoch"], logs["batch"],
                                                                                 logs["n_batches"],
                                                                                 logs["n_samples"])))])
    assert seen == [(0, 1, 2, 4), (0, 2, 2, 4), (1, 1, 2, 2), (1, 2, 2, 4), (2, 1, 2, 4), (2, 2, 2, 2)]


@pytest.fixture
def tqdm_bars(monkeypatch):
    """Every tqdm bar that ProgressBar opens."""
    tqdm = pytest.importorskip("tqdm")
    bars = []

    class Recorded(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(tqdm, "tqdm", Recorded)
    return bars


def test_progress_bar_has_an_inner_bar_over_the_batches_of_each_epoch(tqdm_bars):
    out = io.StringIO()
    _, history = model().fit(X10, batch_size=4, max_iterations=3, return_history=True,
                             callbacks=[ProgressBar(total=3, file=out, mininterval=0)])
    outer, *inner = tqdm_bars
    assert (outer.unit, outer.total, outer.n) == ("epoch", 3, len(history.epochs))
    assert len(inner) == 1 + len(history.epochs)  # the initial E-step and every epoch
    assert [(b.unit, b.total, b.n, b.disable) for b in inner] == [("batch", 3, 3, True)] * len(inner)  # closed
    assert "3/3 [" in out.getvalue() and "batch" in out.getvalue()
    # streaming: the inner bar counts the epoch's batches
    tqdm_bars.clear()
    model().fit(X10, batch_size=2, batches_per_epoch=3, max_iterations=2,
                callbacks=[ProgressBar(file=io.StringIO())])
    assert [(b.total, b.n) for b in tqdm_bars[1:]] == [(3, 3)] * 3


def test_progress_bar_has_no_inner_bar_for_one_batch(tqdm_bars):
    model().fit(X10, max_iterations=3, callbacks=[ProgressBar(file=io.StringIO())])
    assert [b.unit for b in tqdm_bars] == ["epoch"]


def test_progress_bar_without_tqdm_names_an_installable_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    with pytest.raises(ImportError) as exc:
        ProgressBar()
    extra = re.search(r'pip install "genmix\[(\w+)\]"', str(exc.value))  # quoted: zsh globs [...]
    assert extra, str(exc.value)
    meta = importlib.metadata.metadata("genmix")
    assert extra.group(1) in meta.get_all("Provides-Extra")
    assert any(req.startswith("tqdm") and f'extra == "{extra.group(1)}"' in req for req in meta.get_all("Requires-Dist"))


def test_early_stopping_restores_the_best_held_out_parameters(rng):
    train = rng.normal(0, 1, 300)[:, None]
    held_out = rng.normal(3, 1, 300)[:, None]
    start = GeneralMixtureModel([NormalDistribution(3, 1), NormalDistribution(2.5, 1)])
    stopper = EarlyStopping(held_out, patience=2)
    fitted, history = start.copy().fit(train, callbacks=[stopper], return_history=True, stop_threshold=0.0)
    assert stopper.best_epoch == 0 and stopper.stopped_epoch == 2 and history.epochs == [1, 2]
    assert fitted.to_dict() == start.to_dict()  # the starting parameters scored best on held-out data
    assert_allclose(stopper.best_log_probability, start.log_probability(held_out).sum(), rtol=1e-12)
    # with a held-out set like the training data, training runs to convergence
    same = EarlyStopping(rng.normal(0, 1, 300)[:, None], patience=3)
    model_ = start.copy().fit(train, callbacks=[same])
    assert same.stopped_epoch is None and abs(model_.distributions[0].parameters[0]) < 1


def test_a_callback_stops_training_through_its_own_flag():
    from genmix import GeneralMixtureModel, NormalDistribution
    from genmix.callbacks import Callback

    class StopAtThree(Callback):
        def on_epoch_end(self, logs):
            if logs["epoch"] == 3:
                self.stop_training = True

    cb = StopAtThree()
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(5, 1)])
    X = [0.1, 0.3, 4.9, 5.2, 5.1, 0.0, 2.5]
    _, history = model.fit(X, callbacks=[cb], stop_threshold=-np.inf, max_iterations=10, return_history=True)
    assert history.epochs == [1, 2, 3] and not hasattr(model, "_stop_training")
    _, history = model.fit(X, callbacks=[cb], stop_threshold=-np.inf, max_iterations=10, return_history=True)
    assert history.epochs == [1, 2, 3]  # the flag is reset when training begins
