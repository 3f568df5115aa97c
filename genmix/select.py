"""Model selection: fit every candidate model for every number of components and rank them by an
information criterion — mclust's ``Mclust(X)``, for any family.

``select(X)`` fits multivariate Gaussians of the six covariance types (scikit-learn's 'full', 'tied',
'diag', 'spherical' and mclust's 'EEI', 'EII') with 1 to 9 components and keeps the one with the lowest
BIC; ``distributions=`` makes any family, or a per-column specification, a candidate.
"""
import concurrent.futures
import dataclasses
import inspect
import math
import time
from numbers import Integral

import numpy as np

from ._validation import as_generator, check_criterion
from .data import is_dask_collection
from .distributions import MultivariateGaussianDistribution
from .distributions._covariance import ALIASES, COVARIANCE_TYPES
from .exceptions import NumericalWarning, collecting_warnings
from .mixture import GeneralMixtureModel, criteria
from .parallel import resolve_n_jobs

__all__ = ["select", "Selection"]

#: the default candidates' covariance types: scikit-learn's four and mclust's two shared diagonal ones
DEFAULT_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical", "EEI", "EII")
#: per-sample stopping rule of every candidate fit unless ``stop_threshold`` is given: criteria are
#: compared to about 1e-3, so each fit runs until a pass improves the mean log-likelihood by < 1e-8
_STOP_PER_SAMPLE = 1e-8
#: the fewest rows for which candidates are fitted in threads: on smaller data a fit's time is Python
#: overhead, which holds the GIL, and threads only slow it down (measured on 2 cores, k = 1..4 on
#: 5 columns: 20,000 rows 6.8 s in one thread, 8.2 s in two; 50,000: 10.5 s, 12.3 s; 100,000: 13.9 s,
#: 10.0 s; Old Faithful's whole selection: 31 s, 45 s)
_ROWS_FOR_THREADS = 100_000


@dataclasses.dataclass(frozen=True)
class _Candidate:
    name: str
    distributions: object
    covariance_type: object
    n_components: int


class Selection:
    """What :func:`select` returns: every candidate's figures and the best model.

    Attributes
    ----------
    table : pandas.DataFrame or list of dict
        One row per candidate (a DataFrame when pandas is installed): ``model`` (the covariance type of a
        multivariate Gaussian, a class name, or a per-column list), ``n_components``, ``log_likelihood``,
        ``n_parameters``, ``bic``, ``aic``, ``icl``, ``converged``, ``seconds``, ``error`` (None, or why
        the candidate has no criteria and cannot be chosen: its fit failed, it has more parameters than
        the data have samples, or it is degenerate — a covariance had to be floored because a component
        collapsed onto a few points, as happens on data with ties; mclust reports those as singular)
        ``warnings`` (its fit's warnings, collected per candidate instead of issued) and ``start`` (the
        start of the kept fit: 'hierarchical', the ``init`` of the other starts, or the partition of
        another candidate, see ``share_partitions``).
    best_ : GeneralMixtureModel
        The fitted candidate with the lowest criterion (ties: the fewest parameters, then the first).
    best_params_ : dict
        Its ``model``, ``distributions``, ``covariance_type`` (None for other families) and
        ``n_components``.
    criterion : str
        The criterion that ranked them.

    Parameters
    ----------
    rows : list of dict
        The table's rows.
    best : GeneralMixtureModel
        The best candidate's fitted model.
    best_params : dict
        Its description (see ``best_params_``).
    criterion : str
        The ranking criterion.
    """

    def __init__(self, rows, best, best_params, criterion):
        self.rows = rows
        self.best_ = best
        self.best_params_ = best_params
        self.criterion = criterion

    @property
    def table(self):
        """Every candidate's row: a pandas DataFrame when pandas is installed, else a list of dicts."""
        try:
            import pandas as pd
        except ImportError:
            return [dict(r) for r in self.rows]
        return pd.DataFrame(self.rows, columns=list(self.rows[0]))

    def __repr__(self):
        p = self.best_params_
        return (f"Selection({len(self.rows)} candidates; best by {self.criterion}: {p['model']} with "
                f"{p['n_components']} components)")

    def plot(self, criterion=None, ax=None):
        """The criterion against the number of components, one line per model (mclust's BIC plot), the
        best candidate marked (:func:`genmix.plotting.plot_criteria`; needs matplotlib).

        Parameters
        ----------
        criterion : {'bic', 'aic', 'icl'}, default=None
            The criterion to draw (None: the one that ranked them). Lower is better.
        ax : matplotlib.axes.Axes, default=None
            Where to draw (None: a new figure).

        Returns
        -------
        ax : matplotlib.axes.Axes
            The axes drawn on.
        """
        from .plotting import plot_criteria

        return plot_criteria(self, criterion, ax=ax)


def _check_n_components(n_components):
    values = [n_components] if isinstance(n_components, Integral) else n_components
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"n_components must be a positive int or an iterable of them; got {n_components!r}.") \
            from None
    if not values or any(isinstance(k, bool) or not isinstance(k, Integral) or k < 1 for k in values):
        raise ValueError(f"n_components must be positive ints; got {n_components!r}.")
    return sorted(set(int(k) for k in values))


def _name_of(spec):
    if isinstance(spec, (list, tuple)):
        return "[" + ", ".join(_name_of(s) for s in spec) + "]"
    return getattr(spec, "__name__", repr(spec))


def _candidates(distributions, covariance_types, ks):
    specs = [MultivariateGaussianDistribution] if distributions is None else distributions
    if isinstance(specs, type) or not isinstance(specs, (list, tuple)):
        specs = [specs]
    if not specs:
        raise ValueError("distributions must name at least one candidate.")
    for spec in specs:
        parts = spec if isinstance(spec, (list, tuple)) else [spec]
        if not parts or not all(isinstance(p, type) for p in parts):
            raise TypeError("distributions must be a class, or a list whose entries are classes (one candidate "
                            f"family each) or lists of classes (one per column); got {spec!r}.")
    has_gaussian = any(spec is MultivariateGaussianDistribution for spec in specs)
    if covariance_types is None:
        types = list(DEFAULT_COVARIANCE_TYPES)
    else:
        types = [covariance_types] if isinstance(covariance_types, str) else list(covariance_types)
        if not has_gaussian:
            raise ValueError("covariance_types applies to MultivariateGaussianDistribution candidates, and "
                             "distributions has none.")
        for t in types:
            if not isinstance(t, str) or (t not in COVARIANCE_TYPES and t not in ALIASES):
                raise ValueError(f"covariance_types must be among {sorted(COVARIANCE_TYPES) + sorted(ALIASES)}; "
                                 f"got {t!r}.")
        if not types:
            raise ValueError("covariance_types must name at least one covariance type.")
    out = []
    for spec in specs:
        variants = [(t, t) for t in types] if spec is MultivariateGaussianDistribution else [(_name_of(spec), None)]
        for name, ctype in variants:
            out.extend(_Candidate(name, spec, ctype, k) for k in ks)
    return out


def _fit(candidate, X, weights, seed, n_init, init, options):
    """The first round of one candidate: short fits (``options`` holds the short stopping rule) from the
    deterministic hierarchical start and ``n_init`` starts of ``init``. Returns its row (scored later,
    or holding the reason it has none), its pool of ``[loglik, model, start]`` (the fits that are not
    degenerate, best first) and the seconds spent."""
    row = {"model": candidate.name, "n_components": candidate.n_components, "log_likelihood": math.nan,
           "n_parameters": None, "bic": math.nan, "aic": math.nan, "icl": math.nan, "converged": False,
           "seconds": math.nan, "error": None, "warnings": [], "start": None}
    if candidate.covariance_type is not None:
        options = dict(options, covariance_type=candidate.covariance_type)
    starts = [("hierarchical", 1)] + ([] if init == "hierarchical" else [(init, n_init)])
    began, pool, reasons = time.perf_counter(), [], []
    for how, runs in starts:
        with collecting_warnings() as caught:  # this thread's fit's warnings, for its row
            try:
                model = GeneralMixtureModel.from_samples(candidate.distributions, candidate.n_components, X,
                                                         weights=weights, n_init=runs, init=how, random_state=seed,
                                                         **options)
                loglik, _, n = model._criterion_terms(X, weights, 1, None)
            except Exception as exc:  # a failed candidate is a row with its reason, never the end of the others
                reasons.append(f"{type(exc).__name__}: {exc}")
                model = None
        _collect(row, caught)
        if model is None:
            continue
        if n < model.n_parameters:  # hopeless whatever the start
            row["error"] = f"fewer samples ({n:g}) than parameters ({model.n_parameters})"
            return row, None, time.perf_counter() - began
        repairs = _degenerate(caught)
        if repairs:
            reasons.append(f"degenerate fit: {repairs[0]}")
            continue
        pool.append([loglik, model, how])
    if not pool:
        row["error"] = reasons[0]
    return row, _ranked(pool), time.perf_counter() - began


def _collect(row, caught):
    for category, message in caught:
        text = f"{category.__name__}: {message}"
        if text not in row["warnings"]:
            row["warnings"].append(text)


def _ranked(pool):
    return sorted(pool, key=lambda entry: -entry[0])


def _scored(row, model, loglik, log_map, n, converged, start):
    """``row`` with the figures of a fitted, kept ``model``."""
    return dict(row, log_likelihood=loglik, n_parameters=model.n_parameters, error=None, start=start,
                converged=converged, **criteria(loglik, log_map, n, model.n_parameters))


def _degenerate(caught):
    """The repairs among a fit's collected warnings: a floored covariance means a component collapsed onto
    a few points, and the likelihood is that of the floor, not of the data (mclust: singular)."""
    return [message for category, message in caught if issubclass(category, NumericalWarning)]


#: per-sample stopping rule of the first round's short fits (mclust stops at a relative change of 1e-5)
_SHORT_PER_SAMPLE = 1e-5
#: a candidate's best short fit is run to convergence, and so are up to this many more whose short
#: log-likelihood is within ``_POLISH_MARGIN`` of the best converged one (a slowly converging fit can
#: still end higher)
_MORE_POLISHED = 2
_POLISH_MARGIN = 1.0
#: two short fits with the same classification and log-likelihoods this close (relative) are one fit
_SAME_FIT = 1e-6
_FIT_OPTIONS = set(inspect.signature(GeneralMixtureModel.fit).parameters) - {"self", "X", "weights"}


def _from_partition(candidate, X, labels, weights):
    """A multivariate Gaussian mixture of ``candidate``'s covariance type, estimated from hard labels."""
    from .estep import estep_from_responsibilities

    k, d = candidate.n_components, X.shape[1]
    components = [MultivariateGaussianDistribution.blank(d, covariance_type=candidate.covariance_type)
                  for _ in range(k)]
    model = GeneralMixtureModel(components)
    model.add_summaries(estep_from_responsibilities(components, X, np.eye(k)[labels], weights))
    model.from_summaries()
    return model


def _share_partitions(candidates, results, X, weights, options, in_threads):
    """Second round for the multivariate Gaussian candidates: each also starts from the classification
    (most probable component of each row) of every other covariance type's fits with the same ``k`` —
    mclust's single hierarchical partition serves all its models in the same way. Short fits from each
    (``options``: the first round's stopping rule) join the candidate's pool (those that are not
    degenerate). Only for numeric arrays without missing values."""
    try:
        Xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return
    if Xa.ndim != 2 or np.isnan(Xa).any():
        return
    gaussian = [i for i, c in enumerate(candidates)
                if c.covariance_type is not None and c.n_components > 1 and results[i][1] is not None]
    partitions = {}  # k -> {partition (canonical labels' bytes): [labels, the first source, the sources]}
    for i in gaussian:
        k = candidates[i].n_components
        for _, model, _ in results[i][1]:
            labels = _canonical(model.predict(Xa))
            if labels.max() + 1 == k:
                entry = partitions.setdefault(k, {}).setdefault(labels.tobytes(), [labels, candidates[i].name, set()])
                entry[2].add(i)

    def refit(i):
        c = candidates[i]
        began, found = time.perf_counter(), []
        for labels, source, sources in partitions.get(c.n_components, {}).values():
            if i in sources:  # one of its own fits
                continue
            with collecting_warnings() as caught:
                try:
                    trial = _from_partition(c, Xa, labels, weights)
                    trial.fit(Xa, weights, **options)
                    loglik = trial._criterion_terms(Xa, weights, 1, None)[0]
                except Exception:  # a partition this type cannot fit: not a start
                    continue
            if not _degenerate(caught) and np.isfinite(loglik):
                found.append([loglik, trial, f"partition of {source}"])
        return found, time.perf_counter() - began

    for i, (found, seconds) in zip(gaussian, in_threads(refit, gaussian)):
        row, pool, spent = results[i]
        results[i] = (row, _ranked(pool + found), spent + seconds)


def _canonical(labels):
    """The partition of ``labels`` with its clusters numbered in order of first appearance, so that two
    classifications that differ only by the components' order compare equal."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.intp)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.ravel()]


def _polish(result, X, weights, options):
    """The candidate's final row and model: its best short fit run to convergence (``options`` holds the
    final stopping rule), and the next ones too while their short log-likelihood is within
    ``_POLISH_MARGIN`` of the best converged one; the highest that stays non-degenerate is kept."""
    row, pool, spent = result
    began, best, budget = time.perf_counter(), None, options.get("max_iterations", math.inf)
    polished = []  # (short log-likelihood, classification) of the fits run to convergence
    if pool:
        for short, model, start in pool:
            if len(polished) > _MORE_POLISHED or best is not None and short < best[0] - _POLISH_MARGIN:
                break
            # on Dask the classifications would be computed and gathered: the log-likelihoods alone decide
            labels = model.predict(X) if len(pool) > 1 and not is_dask_collection(X) else None
            if any(abs(short - seen) < _SAME_FIT * abs(short) and np.array_equal(labels, seen_labels)
                   for seen, seen_labels in polished):
                continue  # the same fit reached from another start
            polished.append((short, labels))
            with collecting_warnings() as caught:
                try:
                    _, history = model.fit(X, weights, return_history=True, **options)
                    loglik, log_map, n = model._criterion_terms(X, weights, 1, None)
                except Exception:
                    continue
            _collect(row, caught)
            if _degenerate(caught) or not np.isfinite(loglik):
                continue
            if best is None or loglik > best[0]:
                best = (loglik, log_map, n, model, len(history.epochs) < budget, start)
    row = dict(row, seconds=spent + time.perf_counter() - began)
    if best is None:
        if pool:
            row["error"] = "degenerate fit: every start collapsed a component when run to convergence"
        return row, None
    row["error"] = None  # a start of the second round may succeed where the first ones failed
    loglik, log_map, n, model, converged, start = best
    return _scored(row, model, loglik, log_map, n, converged, start), model


def select(X, n_components=range(1, 10), *, distributions=None, covariance_types=None, criterion="bic", n_init=1,
           init="kmeans++", random_state=None, n_jobs=1, weights=None, progress=False, share_partitions=True,
           **fit_kwargs):
    """Fit every candidate model with every number of components and keep the best by a criterion.

    Each candidate is fitted in three rounds, and its highest log-likelihood is kept:

    1. short fits (until an iteration improves the mean log-likelihood by less than 1e-5, about mclust's
       stopping rule) by :meth:`GeneralMixtureModel.from_samples` from the deterministic
       ``init='hierarchical'`` start (Ward's agglomeration in whitened coordinates, like mclust's
       hierarchical start) and from ``n_init`` starts of ``init``;
    2. with ``share_partitions``, short fits of each multivariate Gaussian candidate from the
       classifications of the other covariance types' fits with the same number of components;
    3. the best short fit run to convergence (``stop_threshold``), and up to two more whose short
       log-likelihood is within 1 of the best converged one (a fit that converges slowly can still end
       higher; fits that are the same one reached from two starts are run once).

    The kept fit is scored on ``X`` by BIC, AIC and ICL (see :meth:`GeneralMixtureModel.bic`; lower is
    better, scikit-learn's sign: mclust reports ``−bic``). A fit whose covariance had to be floored (a
    component collapsed onto a few tied points) is degenerate and is not a candidate (mclust: singular).

    On Old Faithful with the defaults every (type, k) reaches at least mclust 6.0's log-likelihood and
    most are higher (mclust stops EM at a relative change of 1e-5 and starts each k from one partition);
    started from mclust's own partition and stopped by its rule, genmix reproduces mclust's whole table
    (tests/test_select.py).

    Parameters
    ----------
    X : array-like of shape (n_samples, d) or DataFrame
        The data (NaN marks a missing value). A Dask array or DataFrame is persisted once and every fit
        and criterion runs on the workers (see the README's "Beyond one machine").
    n_components : int or iterable of int, default=range(1, 10)
        The numbers of components to try.
    distributions : class or list, default=None, keyword-only
        The candidate families: a class, or a list whose entries are classes or lists of one class per
        column (a per-column model). None: :class:`MultivariateGaussianDistribution`. On univariate data
        give classes (a list of classes there means one component per class, see ``from_samples``).
    covariance_types : str or list of str, default=None, keyword-only
        The covariance types of the multivariate Gaussian candidates (None: 'full', 'tied', 'diag',
        'spherical', 'EEI', 'EII'; mclust's aliases 'VVV', 'EEE', 'VVI', 'VII' are accepted and keep their
        name in the table).
    criterion : {'bic', 'aic', 'icl'}, default='bic', keyword-only
        The criterion that picks the best candidate.
    n_init : int, default=1, keyword-only
        Starts of ``init`` per candidate, besides the hierarchical one. More starts find the best
        optimum of more (type, k) pairs (see ``benchmarks/RESULTS.md``), at the cost of time.
    init : str, default='kmeans++', keyword-only
        The k-means seeding of those starts (see ``from_samples``); 'hierarchical' alone: one start.
    random_state : None, int, Generator or RandomState, default=None, keyword-only
        One seed drawn from it is given to every candidate, so candidates with the same number of
        components start from the same k-means seeding; the same value gives the same selection.
    n_jobs : int, default=1, keyword-only
        Candidates fitted in parallel threads (-1: all cores) when the data have at least 100,000 rows;
        each fit is single-threaded. Smaller data are fitted in one thread whatever ``n_jobs`` says: there
        a fit's time is Python overhead, which holds the GIL, so threads would only slow it down (Old
        Faithful: 31 s in one thread, 45 s in two). The results do not depend on it.
    weights : array-like of shape (n_samples,), default=None, keyword-only
        Sample weights, for the fits and the criteria (``n = Σ w``).
    progress : bool, default=False, keyword-only
        Show a progress bar over the candidates (needs ``tqdm``: ``pip install "genmix[progress]"``).
    share_partitions : bool, default=True, keyword-only
        The second round, for the multivariate Gaussian candidates of a numeric array without missing
        values: each also starts from the distinct classifications (most probable component of each row)
        of every other covariance type's first-round fits with the same number of components, as mclust's
        one hierarchical partition serves all its models. Not done for a Dask collection (it would gather
        the classifications on the client).
    **fit_kwargs
        Passed to ``from_samples`` (e.g. ``max_iterations``, ``max_kmeans_iterations``, ``inertia``).
        ``stop_threshold`` (of the third round; the short fits stop at the larger of it and ``1e-5 · n``)
        defaults to ``1e-8 · n``: the kept fit runs until an iteration improves the mean log-likelihood by
        less than 1e-8, so that criteria are compared at their optimum. ``max_iterations`` bounds each
        run.

    Returns
    -------
    selection : Selection

    Raises
    ------
    ValueError
        For ``n_components`` that are not positive ints, an unknown criterion or covariance type, or when
        no candidate could be fitted (each reason is in the message). A single candidate that fails, or
        that has more parameters than the data have samples, is a row of the table with its reason.
    """
    criterion = check_criterion(criterion)
    ks = _check_n_components(n_components)
    candidates = _candidates(distributions, covariance_types, ks)
    threads = resolve_n_jobs(n_jobs, "select")
    distributed = is_dask_collection(X)
    if distributed:  # every candidate's start, fits and criteria read it: computed once, on the workers
        X = X.persist()
    rows_of_X = (len(X) if distributed else np.shape(X)[0]) if np.ndim(X) else 0
    if rows_of_X < _ROWS_FOR_THREADS:
        threads = 1
    for reserved in ("return_history", "random_state", "n_init", "init", "weights", "covariance_type"):
        if reserved in fit_kwargs:
            raise TypeError(f"select() sets {reserved!r} itself; got it in fit_kwargs.")
    n = float(np.sum(weights)) if weights is not None else float(rows_of_X) if np.ndim(X) else 1.0
    final = dict(fit_kwargs)
    final.setdefault("stop_threshold", _STOP_PER_SAMPLE * max(n, 1.0))
    short = dict(final, stop_threshold=max(final["stop_threshold"], _SHORT_PER_SAMPLE * max(n, 1.0)))
    final = {key: value for key, value in final.items() if key in _FIT_OPTIONS}
    seed = int(as_generator(random_state).integers(2 ** 31 - 1))
    bar = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError as exc:
            raise ImportError('progress=True needs the optional \'tqdm\' package: pip install "genmix[progress]"') \
                from exc
        bar = tqdm(total=2 * len(candidates), unit="fit", desc="select (short fits, then convergence)")

    def step(out):
        if bar is not None:
            bar.update(1)
        return out

    def in_threads(fn, jobs):
        if threads == 1:
            return [fn(j) for j in jobs]
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            return list(pool.map(fn, jobs))

    try:
        results = in_threads(lambda c: step(_fit(c, X, weights, seed, n_init, init, short)), candidates)
        if share_partitions and not distributed:
            _share_partitions(candidates, results, X, weights,
                              {key: value for key, value in short.items() if key in _FIT_OPTIONS}, in_threads)
        results = in_threads(lambda r: step(_polish(r, X, weights, final)), results)
    finally:
        if bar is not None:
            bar.close()
    rows = [r for r, _ in results]
    fitted = [(r[criterion], r["n_parameters"], i) for i, (r, m) in enumerate(results) if m is not None]
    if not fitted:
        reasons = "; ".join(f"{r['model']} k={r['n_components']}: {r['error']}" for r in rows)
        raise ValueError(f"no candidate could be fitted: {reasons}")
    best = min(fitted)[2]
    c = candidates[best]
    params = {"model": c.name, "distributions": c.distributions, "covariance_type": c.covariance_type,
              "n_components": c.n_components}
    return Selection(rows, results[best][1], params, criterion)
