"""Docstring sections shared by several methods, written once (numpydoc ``Parameters`` entries).

A method's docstring holds a placeholder line ``        {name}``; :func:`fill_docstring` replaces it.
"""

__all__ = ["EM_PARAMETERS", "LABELS_PARAMETERS", "DTYPE_PARAMETER", "fill_docstring"]

EM_PARAMETERS = """\
        inertia : float in [0, 1], default=0.0
            ``new = inertia * old + (1 - inertia) * estimate`` for the components' parameters.
        pseudocount : float >= 0, default=0.0
            Smoothing of the mixture weights (and of discrete components).
        stop_threshold : float, default=0.1
            Stop when the improvement of the total log-likelihood is at most this (an absolute
            difference of sums, not a ratio). Any real number is accepted, as in pomegranate 0.x: a
            negative threshold (``-inf`` included) runs exactly ``max_iterations`` iterations.
        max_iterations : int >= 0, default=1e8
            The maximum number of M-steps.
        batch_size : int or None, default=None
            Summarise the data in batches of this many rows (exact: statistics are summed). None is
            one batch.
        batches_per_epoch : int or None, default=None
            Streaming EM: the number of batches summarised between M-steps. Successive epochs
            continue through the data where the last one stopped, wrapping around, so every row is
            seen; each M-step uses every batch's latest statistics (incremental EM, which converges
            where full-batch EM does). The stop rule then compares whole passes over the data: the
            epoch that completes a pass reports the change of the summed log-likelihoods of all
            batches at their latest visits and stops training if its absolute value is at most
            ``stop_threshold``; other epochs report NaN. None (or at least the number of batches in
            the data) is full-batch EM.
        lr_decay : float >= 0, default=0.0
            The step-size decay: epoch ``t`` uses inertia ``1 - (1 - inertia) * (2 + t) ** -lr_decay``.
        callbacks : list, default=[]
            Objects with ``on_training_begin``, ``on_epoch_end(logs)``, ``on_training_end(logs)``.
        return_history : bool, default=False
            Also return the :class:`genmix.callbacks.History`.
        verbose : bool, default=False
            Print the improvement and time of each epoch.
        n_jobs : int, default=1
            Threads to split each batch's E-step over (-1: all cores; BLAS is pinned to one thread
            meanwhile). Results equal those of one thread up to rounding."""

DTYPE_PARAMETER = """\
        dtype : {None, numpy.float64, numpy.float32}, default=None, keyword-only
            genmix's own: the working precision of the fit's E-steps (None is float64). With float32 the numeric
            data are rounded to float32 for the fit (an in-memory array is converted once, a copy of half its
            size, none for float32 data; batches of a memmap, a generator or a Dask collection as they are read)
            and the fused E-step (Gaussians of every covariance type, products of Normal, LogNormal,
            Exponential, Gamma, Poisson, Bernoulli and discrete columns) computes its features, GEMMs and
            log-sum-exp in float32: about 1.5x faster per iteration on a million rows of full d=10, 1.4-1.6x on
            other large workloads. The statistics, the parameters and the log-likelihood are accumulated in
            float64, and the precision guards measure float32 rounding (a component that could lose more than
            about 1e-3 in a log density is scored factorised; statistics that would cancel are recomputed
            centred in float64). The fitted log-likelihood agrees with a float64 fit to about 1e-6 relative. The
            log-likelihood the stop rule compares carries float32's rounding (about 1e-7 relative): a
            ``stop_threshold`` below that ends the fit once the improvements are lost in it. Other components
            (and categorical data) are scored in float64 from the rounded values. Predictions and scores of the
            fitted model always compute in float64."""

LABELS_PARAMETERS = """\
        labels : array-like of int of shape (n_samples,), default=None, keyword-only
            Partial labels (semi-supervised EM): the component of each row, or -1 if unknown.
            Labelled rows have fixed one-hot responsibilities; the others get the usual E-step.
        priors : array-like of shape (n_samples, n_components), default=None, keyword-only
            Soft knowledge: each row's prior over the components is multiplied by its row of
            ``priors`` (one-hot rows are labels; rows of ones change nothing).
        shuffle : bool, default=False, keyword-only
            Visit the batches of each pass in a random order (opt-in; with ``batch_size``).
        random_state : None, int, numpy.random.Generator or numpy.random.RandomState, keyword-only
            Seeds ``shuffle``."""


#: the parameters of GeneralMixtureModel.bic, aic and icl
CRITERION_PARAMETERS = """\
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        n_jobs : int, default=1, keyword-only
            Threads to split the rows over.
        batch_size : int or None, default=None, keyword-only
            Evaluate in chunks of this many rows (see ``predict``)."""


def fill_docstring(function, **sections):
    """Replace each placeholder line ``        {name}`` in ``function.__doc__`` by ``sections[name]``
    (nothing under ``python -OO``, which drops docstrings)."""
    if function.__doc__ is None:
        return function
    for name, text in sections.items():
        placeholder = "        {" + name + "}\n"
        if placeholder not in function.__doc__:
            raise ValueError(f"{function.__qualname__}'s docstring has no {{{name}}} placeholder.")
        function.__doc__ = function.__doc__.replace(placeholder, text + "\n")
    return function
