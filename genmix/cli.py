"""The ``genmix`` command-line tool: fit a mixture to a data file, use a saved model, choose a model, plot.

``genmix fit DATA -o model.json`` fits a mixture to a CSV, TSV, Parquet or ``.npy`` file and prints a
summary; ``predict``, ``score``, ``sample``, ``impute``, ``info`` and ``plot`` use a saved model (genmix's
or pomegranate 0.x's JSON, or YAML); ``select`` ranks candidate models by an information criterion;
``demo`` fits the bundled Old Faithful data. ``genmix COMMAND --help`` documents each command.

Bad input (a missing file, an unknown column, a cell that is not a number in a numeric column, a model
file that is not a model, …) exits with status 2 and a one-line message on stderr; ``--verbose`` also
prints the traceback. The commands are thin over the library: every number comes from
:class:`genmix.GeneralMixtureModel` and :func:`genmix.select`.
"""
import argparse
import contextlib
import os
import sys
import time
import traceback

import numpy as np

from ._files import Source, as_matrix, write_csv

__all__ = ["main"]

#: ``--distribution`` names and their families (``auto`` and the per-column names resolve to these)
FAMILY_NAMES = ("normal", "lognormal", "exponential", "gamma", "poisson", "bernoulli", "categorical", "mvn")


def _families():
    from . import distributions as d

    return {"normal": d.NormalDistribution, "lognormal": d.LogNormalDistribution,
            "exponential": d.ExponentialDistribution, "gamma": d.GammaDistribution,
            "poisson": d.PoissonDistribution, "bernoulli": d.BernoulliDistribution,
            "categorical": d.DiscreteDistribution, "mvn": d.MultivariateGaussianDistribution}


class UsageError(ValueError):
    """Bad input to a command: reported in one line with exit status 2."""


# ---------------------------------------------------------------------------------------------------------
# option values
# ---------------------------------------------------------------------------------------------------------

def _components(text):
    """``K``, ``A-B`` (inclusive) or ``A,B,C`` as a list of positive ints."""
    try:
        if "-" in text:
            a, b = text.split("-", 1)
            ks = list(range(int(a), int(b) + 1))
        else:
            ks = [int(k) for k in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K, a range A-B or a list A,B,C of component counts; got "
                                         f"{text!r}") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"component counts must be positive; got {text!r}")
    return ks


def _names(text):
    names = [t.strip() for t in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names; got {text!r}")
    return names


def _per_column(text):
    """``a=normal,b=categorical`` as an ordered dict of column → family name."""
    out = {}
    for item in text.split(","):
        name, sep, family = item.partition("=")
        name, family = name.strip(), family.strip().lower()
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"expected COLUMN=FAMILY items separated by commas; got {item!r}")
        if family not in FAMILY_NAMES + ("auto",) or family == "mvn":
            choices = ", ".join(f for f in FAMILY_NAMES + ("auto",) if f != "mvn")
            raise argparse.ArgumentTypeError(f"unknown family {family!r} for column {name!r} (choose from "
                                             f"{choices})")
        if name in out:
            raise argparse.ArgumentTypeError(f"column {name!r} is given twice")
        out[name] = family
    return out


def _checked(convert, ok, what):
    """An argparse type: ``convert(text)``, refused with "expected ``what``" unless ``ok`` of it."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}")
        return value

    return parse


_non_negative = _checked(float, lambda v: 0 <= v < float("inf"), "a finite number >= 0")
_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")


# ---------------------------------------------------------------------------------------------------------
# data and models
# ---------------------------------------------------------------------------------------------------------

def _open(args):
    header = {None: None, "yes": True, "no": False}[getattr(args, "header", None)]
    return Source(args.data, header=header, delimiter=getattr(args, "delimiter", None))


def _specification(args, source):
    """The columns, their kinds, ``from_samples``' distributions and the covariance type of a fit."""
    families = _families()
    per_column = getattr(args, "per_column", None)
    if per_column is not None:
        if args.distribution is not None:
            raise UsageError("give --distribution or --per-column, not both.")
        names = args.columns or list(per_column)
        missing = [n for n in names if n not in per_column]
        if missing:
            raise UsageError(f"column {missing[0]!r} is in --columns but has no family in --per-column.")
        extra = [n for n in per_column if n not in names]
        if extra:
            raise UsageError(f"--per-column names column {extra[0]!r}, which is not in --columns.")
        cols = source.column_indices(names)
        wanted = [per_column[n] for n in names]
        inferred = source.infer_kinds([c for c, f in zip(cols, wanted) if f == "auto"])
        kinds, chosen, it = [], [], iter(inferred)
        for family in wanted:
            if family == "auto":
                family = "normal" if next(it) == "numeric" else "categorical"
            chosen.append(family)
            kinds.append("categorical" if family == "categorical" else "numeric")
        if args.covariance_type:
            raise UsageError("--covariance-type applies to --distribution mvn (or auto on numeric columns) only.")
        dists = [families[f] for f in chosen]
        return cols, kinds, (dists if len(dists) > 1 else dists[0]), None
    cols = source.column_indices(args.columns)
    family = (args.distribution or "auto").lower()
    if family == "auto":
        kinds = source.infer_kinds(cols)
        if all(k == "numeric" for k in kinds):
            family = "mvn" if len(cols) > 1 or args.covariance_type else "normal"
        else:
            if args.covariance_type:
                raise UsageError("--covariance-type needs numeric columns; "
                                 f"column {source.name_of(cols[kinds.index('categorical')])!r} is categorical.")
            dists = [families["normal" if k == "numeric" else "categorical"] for k in kinds]
            return cols, kinds, (dists if len(dists) > 1 else dists[0]), None
    kinds = ["categorical" if family == "categorical" else "numeric"] * len(cols)
    if args.covariance_type and family != "mvn":
        raise UsageError(f"--covariance-type applies to --distribution mvn only; got --distribution {family}.")
    return cols, kinds, families[family], (args.covariance_type if family == "mvn" else None)


def _load_data(source, cols, kinds):
    """The data as what ``fit`` takes: a ``.npy`` file stays memory-mapped; other files are read whole."""
    if source.format == "npy":
        return source.array(cols)
    return as_matrix(source.read(cols, kinds), kinds)


def _load_model(path):
    from . import GeneralMixtureModel
    from .io import from_json, from_yaml

    if not os.path.exists(path):
        raise UsageError(f"{path}: no such model file.")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the model file ({exc}).") from None
    loader = from_yaml if path.lower().endswith((".yaml", ".yml")) else from_json
    try:
        model = loader(text)
    except (ValueError, TypeError, KeyError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{path} is not a genmix or pomegranate model file ({message}).") from None
    if not isinstance(model, GeneralMixtureModel):
        raise UsageError(f"{path} holds a {type(model).__name__}, not a GeneralMixtureModel.")
    return model


def _save_model(model, path):
    text = model.to_yaml() if path.lower().endswith((".yaml", ".yml")) else model.to_json()
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + ("" if text.endswith("\n") else "\n"))
    except OSError as exc:
        raise UsageError(f"cannot write the model to {path} ({exc.strerror or exc}).") from None


def _model_kinds(model):
    """Each column of the model: 'categorical' where a component models it by a DiscreteDistribution, and the
    Discrete keys by their text (a CSV cell '3' is the key 3 of a model fitted on integers)."""
    from .distributions import DiscreteDistribution, IndependentComponentsDistribution

    kinds, keys = ["numeric"] * model.d, [dict() for _ in range(model.d)]
    for c in model.distributions:
        parts = c.distributions if isinstance(c, IndependentComponentsDistribution) else [c] if model.d == 1 else []
        for j, part in enumerate(parts):
            if isinstance(part, DiscreteDistribution):
                kinds[j] = "categorical"
                keys[j].update({str(k): k for k in part.parameters[0]})
    return kinds, keys


def _model_columns(model, source, columns):
    """The file's columns in the model's order: by name when both have names, else by position."""
    names = getattr(model, "feature_names", None)
    if columns is not None:
        cols = source.column_indices(columns)
    elif names is not None and source.names is not None:
        absent = [n for n in names if n not in source.names]
        if absent:
            raise UsageError(f"{source.path} lacks the model's column {absent[0]!r} (the model's columns: "
                             f"{', '.join(names)}).")
        cols = [source.names.index(n) for n in names]
    else:
        cols = list(range(source.width))
    if len(cols) != model.d:
        raise UsageError(f"{source.path}: {len(cols)} columns selected, but the model has {model.d} "
                         f"(give the model's columns with --columns).")
    return cols


def _model_batches(model, source, columns, batch_rows):
    """Yield ``(first_line, X)`` batches of the file in the model's layout."""
    from ._files import BATCH_ROWS

    cols = _model_columns(model, source, columns)
    kinds, keys = _model_kinds(model)
    for first, batch in source.batches(cols, kinds, batch_rows or BATCH_ROWS):
        for j, kind in enumerate(kinds):
            if kind == "categorical" and keys[j]:
                batch[j] = np.array([None if v is None else keys[j].get(v, v) for v in batch[j]], dtype=object)
        yield first, as_matrix(batch, kinds)


@contextlib.contextmanager
def _output(path):
    """A text file to write to (stdout for None or '-')."""
    if path in (None, "-"):
        yield sys.stdout
        return
    try:
        fh = open(path, "w", newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path} ({exc.strerror or exc}).") from None
    with fh:
        yield fh


def _write_table(path, header, batches):
    """Write the batches (lists of columns) as CSV to ``path`` (standard output for None or '-')."""
    with _output(path) as fh:
        rows = write_csv(fh, header, batches)
    if path not in (None, "-"):
        print(f"{rows} rows written to {path}")


def _in_batch(first, fn, X):
    """``fn(X)``, a ValueError about the data prefixed by where the batch starts in the file."""
    try:
        return fn(X)
    except ValueError as exc:
        raise UsageError(f"rows from line/row {first}: {exc}") from None


def _column_names(model):
    names = getattr(model, "feature_names", None)
    return list(names) if names is not None else [f"x{j}" for j in range(model.d)]


# ---------------------------------------------------------------------------------------------------------
# the summary table
# ---------------------------------------------------------------------------------------------------------

def _value(p):
    if isinstance(p, dict):
        return "{" + ", ".join(f"{k!r}: {v:.4g}" for k, v in p.items()) + "}"
    arr = np.asarray(p, dtype=float) if not isinstance(p, (str, bytes)) else None
    if arr is None:
        return repr(p)
    if arr.ndim == 0:
        return f"{float(arr):.6g}"
    return np.array2string(arr, precision=4, separator=", ", suppress_small=True, max_line_width=10_000)


def _describe(c):
    """A component as lines: ``Name(p1, p2)``, or for a multivariate Gaussian its mean and covariance."""
    from .distributions import MultivariateGaussianDistribution

    params = getattr(c, "parameters", None)
    name = getattr(c, "name", type(c).__name__)
    if isinstance(c, MultivariateGaussianDistribution):
        covariance = getattr(c, "covariance_type", "full")
        mean, cov = np.asarray(params[0], dtype=float), np.asarray(params[1], dtype=float)
        lines = [f"{name} ({covariance} covariance)", f"  mean        {_value(mean)}"]
        rows = _value(cov).splitlines()
        label = "covariance" if cov.ndim == 2 else "variances" if cov.size > 1 else "variance"
        lines += [f"  {label if i == 0 else '':<10}  {row}" for i, row in enumerate(rows)]
        return lines
    if params is None:
        return [name]
    return [f"{name}({', '.join(_value(p) for p in params)})"]


def _summary_lines(model, names=None):
    """One block per component: its weight and family with parameters (one line per column of a product)."""
    from .distributions import IndependentComponentsDistribution

    names = names or _column_names(model)
    width = max(len(n) for n in names)
    lines = []
    for i, (c, w) in enumerate(zip(model.distributions, model.weights)):
        lines.append(f"component {i}  weight {w:.4f}")
        if isinstance(c, IndependentComponentsDistribution) and len(c.distributions) == len(names):
            for n, part in zip(names, c.distributions):
                lines += [f"  {n if i == 0 else '':<{width}}  {text}" for i, text in enumerate(_describe(part))]
        else:
            lines += [f"  {text}" for text in _describe(c)]
    return lines


def _print_scores(model, loglik, log_map, n, out=sys.stdout):
    """The log-likelihood and the criteria from ``Σ log p(x)``, ``Σ log max_k P(k | x)`` and ``n``."""
    from .mixture import criteria

    scores = criteria(loglik, log_map, n, model.n_parameters)
    print(f"log-likelihood: {loglik:.6f}  ({loglik / n:.6f} per row)", file=out)
    print(f"BIC: {scores['bic']:.4f}  AIC: {scores['aic']:.4f}  ICL: {scores['icl']:.4f}", file=out)


def _print_fit(model, X, names, seconds, iterations, batch_size, n_jobs, out=sys.stdout):
    loglik, log_map, n = model._criterion_terms(X, None, n_jobs, batch_size)
    print(f"{model.n}-component mixture over {model.d} column{'s' * (model.d > 1)} "
          f"({', '.join(names)}), {int(n)} rows, {model.n_parameters} free parameters", file=out)
    for line in _summary_lines(model, names):
        print(line, file=out)
    _print_scores(model, loglik, log_map, n, out)
    if iterations is not None:
        print(f"EM iterations: {iterations}", file=out)
    print(f"time: {seconds:.3f} s", file=out)


# ---------------------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------------------

#: the default stopping rule of ``genmix fit``: an iteration that improves the mean log-likelihood by at most
#: this ends EM (scikit-learn's ``tol`` is 1e-3 on the mean; pomegranate's absolute 0.1 stops a fit of a
#: large file at once and one of a small file late)
STOP_PER_ROW = 1e-6


def _fit_options(args):
    options = {"n_init": args.n_init, "init": args.init, "n_jobs": args.n_jobs, "random_state": args.random_state}
    for key in ("max_iterations", "stop_threshold", "batch_size"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    return options


def _progress():
    """A progress bar when stderr is a terminal and tqdm is installed (else nothing)."""
    if not sys.stderr.isatty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _fit(args):
    source = _open(args)
    cols, kinds, distributions, covariance_type = _specification(args, source)
    names = [source.name_of(c) for c in cols]
    X = _load_data(source, cols, kinds)
    start = time.perf_counter()
    if len(args.components) > 1:
        if args.dtype != "float64":
            raise UsageError("--dtype float32 applies to one fit; a range of --components is ranked in float64.")
        selection = _run_select(args, X, distributions, covariance_type)
        model, iterations = selection.best_, None
        print(f"selected by {selection.criterion.upper()} among {len(selection.rows)} candidates: "
              f"{selection.best_params_['model']} with {selection.best_params_['n_components']} components")
    else:
        from . import GeneralMixtureModel
        from .callbacks import ProgressBar

        callbacks = [ProgressBar(desc="EM", leave=False)] if _progress() else []
        options = _fit_options(args)
        if covariance_type is not None:
            if len(covariance_type) > 1:
                raise UsageError("one --covariance-type per fit; a list needs a range of --components.")
            options["covariance_type"] = covariance_type[0]
        options.setdefault("stop_threshold", STOP_PER_ROW * X.shape[0])
        options["dtype"] = np.dtype(args.dtype)
        try:
            model, history = GeneralMixtureModel.from_samples(distributions, args.components[0], X,
                                                              return_history=True, callbacks=callbacks, **options)
        except ValueError as exc:  # about the data: say which file (rows are numbered from 0)
            raise UsageError(f"{source.path}: {exc}") from None
        iterations = len(history.epochs)
    seconds = time.perf_counter() - start
    if source.names is not None:
        model.feature_names = tuple(names)
    with np.printoptions(precision=4, suppress=True):
        _print_fit(model, X, names, seconds, iterations, args.batch_size, args.n_jobs)
    if args.output:
        _save_model(model, args.output)
        print(f"model written to {args.output}")
    return 0


def _run_select(args, X, distributions, covariance_type):
    from . import select
    from .distributions import MultivariateGaussianDistribution

    options = _fit_options(args)
    if distributions is MultivariateGaussianDistribution:
        candidates, types = None, covariance_type
    else:
        candidates, types = ([distributions] if isinstance(distributions, list) else distributions), None
        if types is not None:
            raise UsageError("--covariance-type(s) apply to the multivariate Gaussian only.")
    return select(X, args.components, distributions=candidates, covariance_types=types, criterion=args.criterion,
                  progress=_progress(), **options)


def _select(args):
    source = _open(args)
    args.covariance_type = args.covariance_types
    cols, kinds, distributions, covariance_type = _specification(args, source)
    X = _load_data(source, cols, kinds)
    start = time.perf_counter()
    selection = _run_select(args, X, distributions, covariance_type)
    seconds = time.perf_counter() - start
    crit = selection.criterion
    print(f"{'model':<14} {'K':>3} {'log-likelihood':>16} {'parameters':>10} {crit.upper():>14}  note")
    for r in selection.rows:
        model = r["model"] if isinstance(r["model"], str) else ",".join(map(str, r["model"]))
        best = (r["model"] == selection.best_params_["model"]
                and r["n_components"] == selection.best_params_["n_components"])
        if r["error"] is None:
            print(f"{model:<14} {r['n_components']:>3} {r['log_likelihood']:>16.4f} {r['n_parameters']:>10} "
                  f"{r[crit]:>14.4f}  {'best' if best else ''}")
        else:
            print(f"{model:<14} {r['n_components']:>3} {'':>16} {'':>10} {'':>14}  {r['error']}")
    print(f"best by {crit.upper()}: {selection.best_params_['model']} with "
          f"{selection.best_params_['n_components']} components ({len(selection.rows)} candidates, "
          f"{seconds:.2f} s)")
    if source.names is not None:
        selection.best_.feature_names = tuple(source.name_of(c) for c in cols)
    if args.output:
        _save_model(selection.best_, args.output)
        print(f"best model written to {args.output}")
    if args.plot:
        _save_figure(selection.plot().figure, args.plot)
        print(f"criterion plot written to {args.plot}")
    return 0


def _predict(args):
    model = _load_model(args.model)
    source = _open(args)
    k = model.n
    header = [f"p{i}" for i in range(k)] if args.proba else ["component"]

    def batches():
        for first, X in _model_batches(model, source, args.columns, args.batch_size):
            if args.proba:
                P = _in_batch(first, lambda Z: model.predict_proba(Z, n_jobs=args.n_jobs), X)
                yield [P[:, i] for i in range(k)]
            else:
                yield [_in_batch(first, lambda Z: model.predict(Z, n_jobs=args.n_jobs), X)]

    _write_table(args.output, header, batches())
    return 0


def _score(args):
    model = _load_model(args.model)
    source = _open(args)
    totals = np.zeros(3)  # Σ log p(x), Σ log max_k P(k | x), rows
    for first, X in _model_batches(model, source, args.columns, args.batch_size):
        totals += _in_batch(first, lambda Z: model._criterion_terms(Z, None, args.n_jobs, None), X)
    if totals[2] == 0:
        raise UsageError(f"{source.path} has no data rows.")
    print(f"rows: {int(totals[2])}")
    _print_scores(model, *totals)
    return 0


def _sample(args):
    model = _load_model(args.model)
    X = model.sample(args.n, random_state=args.random_state)
    X = np.asarray(X).reshape(args.n, model.d)  # one sample comes back as a scalar or a row
    _write_table(args.output, _column_names(model), [[X[:, j] for j in range(model.d)]])
    return 0


def _impute(args):
    model = _load_model(args.model)
    source = _open(args)

    def batches():
        for first, X in _model_batches(model, source, args.columns, args.batch_size):
            filled = _in_batch(first, lambda Z: model.impute(Z, n_jobs=args.n_jobs), X)
            yield [filled[:, j] for j in range(model.d)]

    names = [source.name_of(c) for c in _model_columns(model, source, args.columns)]
    _write_table(args.output, names if source.names is not None else _column_names(model), batches())
    return 0


def _info(args):
    model = _load_model(args.model)
    names = _column_names(model)
    families = sorted({type(c).__name__ for c in model.distributions})
    print(f"{args.model}: a {model.n}-component GeneralMixtureModel of {', '.join(families)}")
    print(f"columns ({model.d}): {', '.join(names)}"
          + ("" if getattr(model, "feature_names", None) is not None else "  (unnamed: matched by position)"))
    print(f"free parameters: {model.n_parameters}")
    with np.printoptions(precision=4, suppress=True):
        for line in _summary_lines(model, names):
            print(line)
    return 0


def _save_figure(fig, path):
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot write the figure to {path} ({exc}).") from None
    finally:
        plt.close(fig)


def _plot(args):
    from . import plotting

    model = _load_model(args.model)
    source = _open(args)
    X = _sample_rows(_model_batches(model, source, args.columns, None), args.max_rows)
    names = [source.name_of(c) for c in _model_columns(model, source, args.columns)]
    options = {}
    if args.show is not None:
        kind = args.kind
        if kind == "auto":
            kind = "density" if len(args.show) == 1 else "uncertainty"
        shown = [names.index(n) if n in names else _position(n, names) for n in args.show]
        if kind == "density":
            if len(shown) != 1:
                raise UsageError(f"--kind density draws one column; --show gives {len(shown)}.")
            options["column"] = shown[0]
        elif kind in ("classification", "uncertainty"):
            if len(shown) != 2:
                raise UsageError(f"--kind {kind} draws two columns; --show gives {len(shown)}.")
            options["columns"] = shown
        else:
            raise UsageError("--show applies to --kind density, classification and uncertainty.")
        args.kind = kind
    drawn = plotting.plot_mixture(model, X, feature_names=names, kind=args.kind, **options)
    _save_figure(np.ravel(drawn)[0].figure, args.output)
    print(f"figure written to {args.output}")
    return 0


def _sample_rows(batches, size, seed=0):
    """At most ``size`` rows drawn uniformly from the batches, in file order, reading one batch at a time:
    each row gets a seeded random key and the ``size`` smallest keys are kept (so memory stays bounded by
    ``size`` plus one batch, and the same file gives the same sample)."""
    rng = np.random.default_rng(seed)
    kept, keys, order, seen = None, np.empty(0), np.empty(0, dtype=np.int64), 0
    for _, X in batches:
        batch_keys = rng.random(X.shape[0])
        rows = np.arange(seen, seen + X.shape[0])
        seen += X.shape[0]
        kept = X if kept is None else np.concatenate([kept, X])
        keys, order = np.concatenate([keys, batch_keys]), np.concatenate([order, rows])
        if keys.size > size:
            best = np.argpartition(keys, size - 1)[:size]
            kept, keys, order = kept[best], keys[best], order[best]
    if kept is None:
        raise UsageError("the data file has no rows to draw.")
    by_row = np.argsort(order, kind="stable")
    return kept[by_row]


def _position(name, names):
    if name.isdigit() and int(name) < len(names):
        return int(name)
    raise UsageError(f"--show: unknown column {name!r} (the model's columns: {', '.join(names)}).")


def _demo(args):
    from . import GeneralMixtureModel, MultivariateGaussianDistribution
    from .datasets import load_old_faithful

    X, columns = load_old_faithful()
    if args.save_data:
        with _output(args.save_data) as fh:
            write_csv(fh, columns, [[X[:, 0], X[:, 1]]])
        print(f"Old Faithful written to {args.save_data} ({X.shape[0]} rows, columns {', '.join(columns)})")
        return 0
    start = time.perf_counter()
    model, history = GeneralMixtureModel.from_samples(
        MultivariateGaussianDistribution, n_components=args.components, X=X, init="kmeans++",
        max_kmeans_iterations=10, stop_threshold=args.stop_threshold, return_history=True,
        random_state=args.seed)
    elapsed = time.perf_counter() - start
    loglik = float(np.sum(model.log_probability(X)))
    with np.printoptions(precision=4, suppress=True):
        _report(X, columns, model, history, loglik, elapsed, args.seed)
    return 0


def _report(X, columns, model, history, loglik, elapsed, seed):
    print(f"Old Faithful: {X.shape[0]} eruptions, columns {columns}")
    print(f"Fitted a {model.n}-component full-covariance Gaussian mixture by EM "
          f"(k-means++ seed {seed}).")
    order = np.argsort([c.parameters[0][0] for c in model.distributions])
    for rank, i in enumerate(order):
        c = model.distributions[i]
        mean, cov = np.asarray(c.parameters[0]), np.asarray(c.parameters[1])
        print(f"  component {rank}: weight {model.weights[i]:.4f}")
        print(f"    mean       {np.array2string(mean, precision=4, floatmode='fixed')}")
        matrix = np.array2string(cov, precision=4, floatmode="fixed", prefix="    covariance ")
        print(f"    covariance {matrix}")
    print(f"log-likelihood: {loglik:.6f}  ({loglik / X.shape[0]:.6f} per sample)")
    print(f"EM iterations: {len(history.epochs)}")
    print(f"time: {elapsed:.4f} s")


# ---------------------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------------------

def _data_options(p):
    p.add_argument("data", metavar="DATA", help="a .csv, .tsv or .txt file (a header line is detected), "
                   ".parquet (needs pyarrow) or .npy (memory-mapped)")
    p.add_argument("--columns", type=_names, default=None, metavar="A,B,C",
                   help="the columns to use, by name or 0-based position (default: all, or the model's)")
    p.add_argument("--header", choices=("yes", "no"), default=None,
                   help="whether a CSV's first line names the columns (default: detected: it does when none of "
                   "its fields is a number)")
    p.add_argument("--delimiter", default=None, help="a CSV's field separator (default: tab for .tsv, else comma)")


def _model_fit_options(p, select=False):
    p.add_argument("--distribution", type=str.lower, choices=FAMILY_NAMES + ("auto",), default=None,
                   help="the family of every column (default auto: a multivariate Gaussian of numeric columns; "
                   "normal and categorical columns if any column is not numeric)")
    p.add_argument("--per-column", type=_per_column, default=None, metavar="A=FAMILY,…",
                   help="one family per column (normal, lognormal, exponential, gamma, poisson, bernoulli, "
                   "categorical or auto); the columns used are these unless --columns is given")
    if select:
        p.add_argument("--covariance-types", type=_names, default=None, metavar="T,…",
                       help="the multivariate Gaussian's covariance types to compare (default: full, tied, diag, "
                       "spherical, EEI, EII)")
    else:
        p.add_argument("--covariance-type", type=_names, default=None, metavar="TYPE",
                       help="the multivariate Gaussian's covariance type: full (default), tied, diag, spherical, "
                       "EEI, EII or mclust's VVV, EEE, VVI, VII (a list with a range of --components)")
    p.add_argument("--criterion", type=str.lower, choices=("bic", "aic", "icl"), default="bic",
                   help="ranks the candidates when --components is a range (default bic)")
    p.add_argument("--init", default="kmeans++",
                   choices=("kmeans++", "first-k", "random", "kmeans||", "hierarchical"),
                   help="the k-means seeding (default kmeans++)")
    p.add_argument("--n-init", type=_positive_int, default=1, help="starts; the best fit is kept (default 1)")
    p.add_argument("--max-iterations", type=_positive_int, default=None, help="EM iterations at most")
    p.add_argument("--stop-threshold", type=_non_negative, default=None,
                   help="stop when an iteration improves the total log-likelihood by at most this (default: "
                   "1e-6 per row for a fit, 1e-8 per row for the kept fits of a selection)")
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="rows per E-step batch (exact EM; bounds the memory of a .npy fit)")
    p.add_argument("--n-jobs", type=int, default=1, help="threads (-1: all cores; default 1)")
    p.add_argument("--random-state", type=int, default=None, help="seed of the k-means start")


def _model_use_options(p, output_help):
    p.add_argument("model", metavar="MODEL", help="a model file (.json, or .yaml) written by genmix or pomegranate")
    _data_options(p)
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="rows read and processed at a time (default 65536): files of any size are streamed")
    p.add_argument("--n-jobs", type=int, default=1, help="threads (-1: all cores; default 1)")
    p.add_argument("-o", "--output", default=None, help=output_help)


class _Parser(argparse.ArgumentParser):
    """argparse, with a command's usage error in one line (and exit status 2); ``genmix`` alone also shows
    its short usage, which lists the commands."""

    def error(self, message):
        usage = self.format_usage() if self.prog == "genmix" else ""
        self.exit(2, f"{usage}{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser():
    from . import __version__

    common = _Parser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="show the traceback of an error")
    parser = _Parser(prog="genmix", description="General mixture models fitted by EM.")
    parser.add_argument("--version", action="version", version=f"genmix {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    fit = sub.add_parser("fit", parents=[common], help="fit a mixture to a data file",
                         description="Fit a mixture by EM from a k-means start and print a summary.")
    _data_options(fit)
    fit.add_argument("--components", type=_components, default=[2], metavar="K|A-B",
                     help="the number of components, or a range (A-B or A,B,C) to choose from by --criterion "
                     "(default 2)")
    _model_fit_options(fit)
    fit.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                     help="the E-step's working precision: float32 rounds the data and computes the fused "
                     "E-step in float32, accumulating in float64 (faster on large data; one fit, not a range)")
    fit.add_argument("-o", "--output", default=None, help="write the model here (.json, or .yaml)")
    fit.set_defaults(func=_fit)

    select = sub.add_parser("select", parents=[common], help="rank candidate models by BIC, AIC or ICL",
                            description="Fit every candidate for every number of components; print the table.")
    _data_options(select)
    select.add_argument("--components", type=_components, default=list(range(1, 10)), metavar="A-B",
                        help="the numbers of components to try (default 1-9)")
    _model_fit_options(select, select=True)
    select.add_argument("-o", "--output", default=None, help="write the best model here (.json, or .yaml)")
    select.add_argument("--plot", default=None, metavar="FIG.png", help="draw the criterion curves to this file")
    select.set_defaults(func=_select)

    predict = sub.add_parser("predict", parents=[common], help="the component of each row (or the posteriors)")
    _model_use_options(predict, "the CSV to write (default: standard output)")
    predict.add_argument("--proba", action="store_true", help="write each row's posterior probabilities")
    predict.set_defaults(func=_predict)

    score = sub.add_parser("score", parents=[common], help="log-likelihood, BIC, AIC and ICL of a data file")
    _model_use_options(score, argparse.SUPPRESS)
    score.set_defaults(func=_score)

    sample = sub.add_parser("sample", parents=[common], help="draw samples from a model")
    sample.add_argument("model", metavar="MODEL", help="a model file (.json or .yaml)")
    sample.add_argument("-n", type=_positive_int, default=1, help="number of samples (default 1)")
    sample.add_argument("--random-state", type=int, default=None, help="seed")
    sample.add_argument("-o", "--output", default=None, help="the CSV to write (default: standard output)")
    sample.set_defaults(func=_sample)

    impute = sub.add_parser("impute", parents=[common], help="fill missing values from a model")
    _model_use_options(impute, "the CSV to write (default: standard output)")
    impute.set_defaults(func=_impute)

    info = sub.add_parser("info", parents=[common], help="describe a model file")
    info.add_argument("model", metavar="MODEL", help="a model file (.json or .yaml)")
    info.set_defaults(func=_info)

    plot = sub.add_parser("plot", parents=[common], help="draw a fitted mixture over its data")
    plot.add_argument("model", metavar="MODEL", help="a model file (.json or .yaml)")
    _data_options(plot)
    plot.add_argument("--kind", choices=("auto", "density", "classification", "uncertainty", "columns"),
                      default="auto", help="the plot (default auto: density for one column, classification "
                      "with uncertainty for numeric columns, a panel per column for mixed ones)")
    plot.add_argument("--show", type=_names, default=None, metavar="A[,B]",
                      help="the model's column to draw (density) or two columns (classification, "
                      "uncertainty; default: the principal axes of more than two columns)")
    plot.add_argument("--max-rows", type=_positive_int, default=100_000, metavar="N",
                      help="draw at most N rows, sampled uniformly from the file (default 100000; the file is "
                      "read in batches, never whole)")
    plot.add_argument("-o", "--output", required=True, help="the image file (.png, .pdf, .svg)")
    plot.set_defaults(func=_plot)

    demo = sub.add_parser("demo", parents=[common],
                          help="fit a Gaussian mixture to the bundled Old Faithful data")
    demo.add_argument("--components", type=int, default=2, help="number of components (default 2)")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the k-means++ start (default 0)")
    demo.add_argument("--stop-threshold", type=float, default=1e-6,
                      help="stop when an epoch improves the log-likelihood by at most this (default 1e-6)")
    demo.add_argument("--save-data", default=None, metavar="FILE.csv",
                      help="write the bundled Old Faithful data to this CSV file instead (to try the other "
                      "commands on) and exit")
    demo.set_defaults(func=_demo)
    return parser


def _one_line(exc):
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


def main(argv=None):
    """Run the command line; returns the exit status (0 success, 2 bad input, 1 an unexpected error).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        The exit status.
    """
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (genmix predict … | head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, OSError, ImportError) as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"genmix: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genmix: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: still one line, the traceback with --verbose
        if args.verbose:
            traceback.print_exc()
        print(f"genmix: internal error: {type(exc).__name__}: {_one_line(exc)} (run with --verbose for the "
              "traceback)", file=sys.stderr)
        return 1
