"""Callbacks: checkpoints, CSV logs, lambdas, progress bar, early stopping on held-out data."""
import csv
import io

import pytest
from numpy.testing import assert_allclose

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
