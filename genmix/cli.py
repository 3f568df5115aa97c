"""The ``genmix`` command-line tool.

``genmix demo`` fits a two-component full-covariance Gaussian mixture to the bundled Old Faithful data
and prints the fitted components, weights, log-likelihood, number of EM iterations and time.
"""
import argparse
import sys
import time

import numpy as np

__all__ = ["main"]


def _demo(args):
    from . import GeneralMixtureModel, MultivariateGaussianDistribution
    from .datasets import load_old_faithful

    X, columns = load_old_faithful()
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


def _parser():
    from . import __version__

    parser = argparse.ArgumentParser(prog="genmix", description="General mixture models fitted by EM.")
    parser.add_argument("--version", action="version", version=f"genmix {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit a Gaussian mixture to the bundled Old Faithful data")
    demo.add_argument("--components", type=int, default=2, help="number of components (default 2)")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the k-means++ start (default 0)")
    demo.add_argument("--stop-threshold", type=float, default=1e-6,
                      help="stop when an epoch improves the log-likelihood by at most this (default 1e-6)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"genmix: error: {exc}", file=sys.stderr)
        return 2
