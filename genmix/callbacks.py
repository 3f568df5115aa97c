"""Training callbacks, with pomegranate 0.x's hooks and log keys.

A callback is any object with ``on_training_begin()``, ``on_epoch_end(logs)`` and
``on_training_end(logs)`` (missing hooks are skipped). ``fit`` sets ``callback.model`` to the model
being trained before ``on_training_begin``. ``logs`` holds ``learning_rate``, ``n_seen_batches``,
``epoch`` (1-based), ``improvement``, ``total_improvement``, ``log_probability``,
``last_log_probability``, ``initial_log_probability``, ``epoch_start_time``, ``epoch_end_time`` and
``duration``.
"""

__all__ = ["Callback", "History"]


class Callback:
    """Base class of callbacks; every hook does nothing."""

    def __init__(self):
        self.model = None
        self.params = None

    def on_training_begin(self):
        """Called once before the first E-step."""

    def on_epoch_end(self, logs):
        """Called after every epoch (an M-step followed by an E-step).

        Parameters
        ----------
        logs : dict
            The epoch's log entries (see the module docstring for the keys).
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
