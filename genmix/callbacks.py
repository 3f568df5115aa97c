"""Training callbacks, with pomegranate 0.x's hooks and log keys.

A callback is any object with ``on_training_begin()``, ``on_epoch_end(logs)`` and
``on_training_end(logs)`` (missing hooks are skipped). ``fit`` sets ``callback.model`` to the model
being trained before ``on_training_begin``. ``logs`` holds ``learning_rate``, ``n_seen_batches``,
``epoch`` (1-based), ``improvement``, ``total_improvement``, ``log_probability``,
``last_log_probability``, ``initial_log_probability``, ``epoch_start_time``, ``epoch_end_time`` and
``duration``.

genmix adds a per-batch hook, ``on_batch_end(batch_logs)``, called after each batch's E-step, with
``epoch`` (0 for the initial E-step, then as above), ``batch`` (1-based within the epoch),
``n_batches`` (the batches of this epoch: all of them, or ``batches_per_epoch`` when streaming),
``n_samples`` (the batch's rows) and ``log_probability`` (the batch's weighted log-likelihood).
"""

import numpy as np

from ._state import restore, snapshot

__all__ = ["Callback", "History", "ModelCheckpoint", "CSVLogger", "LambdaCallback", "ProgressBar", "EarlyStopping"]


class Callback:
    """Base class of callbacks; every hook does nothing.

    A callback ends training by setting ``self.stop_training = True`` in a hook: the EM driver stops after
    the current epoch (it resets the flag when training begins)."""

    def __init__(self):
        self.model = None

    def on_training_begin(self):
        """Called once before the first E-step."""

    def on_epoch_end(self, logs):
        """Called after every epoch (an M-step followed by an E-step).

        Parameters
        ----------
        logs : dict
            The epoch's log entries (see the module docstring for the keys).
        """

    def on_batch_end(self, logs):
        """Called after each batch's E-step (genmix's own hook).

        Parameters
        ----------
        logs : dict
            ``epoch``, ``batch``, ``n_batches``, ``n_samples`` and ``log_probability`` (see the module
            docstring).
        """

    def on_training_end(self, logs):
        """Called once when training stops.

        Parameters
        ----------
        logs : dict
            The last epoch's log entries (the initial E-step's if no epoch ran).
        """


class History(Callback):
    """Records every epoch's logs; ``fit(..., return_history=True)`` returns it.

    Attributes
    ----------
    total_improvement, improvements, log_probabilities, epoch_start_times, epoch_end_times,
    epoch_durations, epochs, learning_rates, n_seen_batches : list
        One entry per epoch.
    initial_log_probability : float or None
        The log-likelihood of the starting parameters.
    """

    def on_training_begin(self):
        self.total_improvement = []
        self.improvements = []
        self.log_probabilities = []
        self.epoch_start_times = []
        self.epoch_end_times = []
        self.epoch_durations = []
        self.epochs = []
        self.learning_rates = []
        self.n_seen_batches = []
        self.initial_log_probability = None

    def on_epoch_end(self, logs):
        self.total_improvement.append(logs["total_improvement"])
        self.improvements.append(logs["improvement"])
        self.log_probabilities.append(logs["log_probability"])
        self.epoch_start_times.append(logs["epoch_start_time"])
        self.epoch_end_times.append(logs["epoch_end_time"])
        self.epoch_durations.append(logs["duration"])
        self.epochs.append(logs["epoch"])
        self.learning_rates.append(logs["learning_rate"])
        self.n_seen_batches.append(logs["n_seen_batches"])
        self.initial_log_probability = logs["initial_log_probability"]

    def on_training_end(self, logs):
        if logs is not None:
            self.initial_log_probability = logs["initial_log_probability"]


History.on_training_begin.__doc__ = """Reset every record."""
History.on_epoch_end.__doc__ = Callback.on_epoch_end.__doc__
History.on_training_end.__doc__ = Callback.on_training_end.__doc__


class ModelCheckpoint(Callback):
    """Save the model as JSON after every epoch to ``'{name}.{epoch}.json'``.

    Parameters
    ----------
    name : str or path-like, default=None
        The file name prefix (a path prefix is allowed); None uses the model's class name.
        (pomegranate 0.x ignored this argument.)
    verbose : bool, default=True
        Print ``"[epoch] Saving checkpoint to file"`` for each save.
    """

    def __init__(self, name=None, verbose=True):
        super().__init__()
        self.name = None if name is None else str(name)
        self.verbose = verbose

    def on_epoch_end(self, logs):
        """Write the checkpoint of this epoch.

        Parameters
        ----------
        logs : dict
            The epoch's log entries.
        """
        name = self.name if self.name is not None else type(self.model).__name__
        path = f"{name}.{logs['epoch']}.json"
        if self.verbose:
            print(f"[{logs['epoch']}] Saving checkpoint to {path}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.model.to_json())


_CSV_COLUMNS = ("epoch", "duration", "total_improvement", "improvement", "log_probability",
                "last_log_probability", "epoch_start_time", "epoch_end_time", "n_seen_batches", "learning_rate")


class CSVLogger(Callback):
    """Write one row of logs per epoch to a CSV file (pomegranate 0.x's columns).

    Parameters
    ----------
    filename : str or path-like
        The file to write.
    separator : str, default=','
        The column separator.
    append : bool, default=False
        Append to an existing file instead of overwriting it (no header is written then).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = filename, separator, append

    def on_training_begin(self):
        """Write the header (unless appending)."""
        if not self.append:
            with open(self.filename, "w", encoding="utf-8") as fh:
                fh.write(self.separator.join(_CSV_COLUMNS) + "\n")

    def on_epoch_end(self, logs):
        """Write this epoch's row.

        Parameters
        ----------
        logs : dict
            The epoch's log entries.
        """
        with open(self.filename, "a", encoding="utf-8") as fh:  # never left open, even if training fails
            fh.write(self.separator.join(str(logs[c]) for c in _CSV_COLUMNS) + "\n")


class LambdaCallback(Callback):
    """A callback from plain functions (pomegranate 0.x's docs called it ``LambdaCheckpoint``).

    Parameters
    ----------
    on_training_begin : callable, default=None
        Called with no argument.
    on_training_end : callable, default=None
        Called with the logs.
    on_epoch_end : callable, default=None
        Called with the logs.
    on_batch_end : callable, default=None
        Called with each batch's logs (genmix's own hook, keyword-only).
    """

    def __init__(self, on_training_begin=None, on_training_end=None, on_epoch_end=None, *, on_batch_end=None):
        super().__init__()
        self._begin, self._end, self._epoch = on_training_begin, on_training_end, on_epoch_end
        self._batch = on_batch_end

    def on_training_begin(self):
        """Call the ``on_training_begin`` function, if any."""
        if self._begin is not None:
            self._begin()

    def on_epoch_end(self, logs):
        """Call the ``on_epoch_end`` function, if any.

        Parameters
        ----------
        logs : dict
            The epoch's log entries.
        """
        if self._epoch is not None:
            self._epoch(logs)

    def on_batch_end(self, logs):
        """Call the ``on_batch_end`` function, if any.

        Parameters
        ----------
        logs : dict
            The batch's log entries.
        """
        if self._batch is not None:
            self._batch(logs)

    def on_training_end(self, logs):
        """Call the ``on_training_end`` function, if any.

        Parameters
        ----------
        logs : dict
            The last epoch's log entries.
        """
        if self._end is not None:
            self._end(logs)


class ProgressBar(Callback):
    """A tqdm progress bar over epochs, showing the log-likelihood and the improvement.

    When an epoch has more than one batch (``batch_size`` or a data generator), an inner bar counts the
    epoch's batches (the initial E-step's too) and is removed when the epoch ends.

    Requires the optional ``tqdm`` package (``pip install "genmix[progress]"``).

    Parameters
    ----------
    total : int, default=None
        The expected number of epochs (None: an open-ended counter).
    **tqdm_kwargs
        Passed to ``tqdm.tqdm`` for the epoch bar; the inner bar takes the same options except its own
        ``total``, ``unit``, ``desc``, ``leave``, ``position``, ``initial`` and ``postfix``.
    """

    _INNER_OWN = ("total", "unit", "desc", "leave", "position", "initial", "postfix")

    def __init__(self, total=None, **tqdm_kwargs):
        super().__init__()
        try:
            import tqdm  # noqa: F401
        except ImportError as exc:
            raise ImportError('ProgressBar needs the optional \'tqdm\' package: pip install "genmix[progress]"'
                              ) from exc
        self.total, self.tqdm_kwargs, self._bar, self._inner = total, tqdm_kwargs, None, None

    def on_training_begin(self):
        """Open the bar."""
        from tqdm import tqdm

        self._bar = tqdm(total=self.total, unit="epoch", **self.tqdm_kwargs)

    def on_batch_end(self, logs):
        """Advance the inner bar over the epoch's batches (none when an epoch is one batch).

        Parameters
        ----------
        logs : dict
            The batch's log entries.
        """
        if logs["n_batches"] < 2:
            return
        if logs["batch"] == 1:
            from tqdm import tqdm

            kwargs = {k: v for k, v in self.tqdm_kwargs.items() if k not in self._INNER_OWN}
            if "position" in self.tqdm_kwargs:
                kwargs["position"] = self.tqdm_kwargs["position"] + 1
            self._inner = tqdm(total=logs["n_batches"], unit="batch", desc=f"epoch {logs['epoch']}", leave=False,
                               **kwargs)
        self._inner.update(1)
        if logs["batch"] == logs["n_batches"]:
            self._close_inner()

    def _close_inner(self):
        if self._inner is not None:
            self._inner.close()
            self._inner = None

    def on_epoch_end(self, logs):
        """Advance the bar.

        Parameters
        ----------
        logs : dict
            The epoch's log entries.
        """
        self._bar.set_postfix(log_probability=f"{logs['log_probability']:.6g}",
                              improvement=f"{logs['improvement']:.3g}")
        self._bar.update(1)

    def on_training_end(self, logs):
        """Close the bars.

        Parameters
        ----------
        logs : dict
            The last epoch's log entries.
        """
        self._close_inner()
        if self._bar is not None:
            self._bar.close()


class EarlyStopping(Callback):
    """Stop training when the log-likelihood of held-out data stops improving.

    After each epoch the held-out log-likelihood is computed; when it has not improved by more than
    ``min_delta`` for ``patience`` epochs, training stops and (with ``restore_best``) the model returns
    to the parameters of its best held-out epoch.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
        Held-out data.
    weights : array-like of shape (n_samples,), default=None
        Their sample weights.
    patience : int, default=1
        Epochs without improvement tolerated before stopping.
    min_delta : float, default=0.0
        The smallest change that counts as an improvement.
    restore_best : bool, default=True
        Return to the best epoch's parameters when stopping (and at the end of training).

    Attributes
    ----------
    best_log_probability : float
        The best held-out log-likelihood seen.
    best_epoch : int
        The epoch that reached it (0: the starting parameters).
    stopped_epoch : int or None
        The epoch after which training was stopped.
    """

    def __init__(self, X, weights=None, patience=1, min_delta=0.0, restore_best=True):
        super().__init__()
        self.X, self.weights = X, weights
        self.patience, self.min_delta, self.restore_best = patience, min_delta, restore_best

    def _score(self):
        lp = self.model.log_probability(self.X)
        return float(np.sum(lp if self.weights is None else np.asarray(self.weights) * lp))

    def on_training_begin(self):
        """Score the starting parameters."""
        self.best_log_probability, self.best_epoch, self.stopped_epoch = self._score(), 0, None
        self._best_state, self._wait = snapshot(self.model), 0

    def on_epoch_end(self, logs):
        """Score this epoch; ask the trainer to stop when patience runs out.

        Parameters
        ----------
        logs : dict
            The epoch's log entries.
        """
        score = self._score()
        logs["held_out_log_probability"] = score
        if score > self.best_log_probability + self.min_delta:
            self.best_log_probability, self.best_epoch, self._wait = score, logs["epoch"], 0
            self._best_state = snapshot(self.model)
        else:
            self._wait += 1
            if self._wait >= self.patience:
                self.stopped_epoch = logs["epoch"]
                self.stop_training = True  # the EM driver ends training after this epoch

    def on_training_end(self, logs):
        """Restore the best parameters if asked.

        Parameters
        ----------
        logs : dict
            The last epoch's log entries.
        """
        if self.restore_best and self.best_epoch != logs.get("epoch"):
            summaries = self.model.summaries
            restore(self._best_state)
            self.model.summaries = summaries
