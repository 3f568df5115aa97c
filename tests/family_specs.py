"""One spec per registered genmix family: every per-family fact the generic test tables need, in one place.

A new family adds one :class:`FamilySpec` to :data:`SPECS` (at the end, see "Order" below). The tables are
derived from the specs:

* ``contract`` feeds ``tests/distributions/_reference.py`` (every check of ``test_contract.py`` and the
  univariate case of ``tests/test_impute.py``): univariate families with a scipy equivalent. A family without
  one leaves it None and has its own ``tests/distributions/test_<module>.py`` (``test_registry.py`` checks);
* ``malformed`` feeds ``tests/reliability/test_malformed_inputs.py``;
* ``round_trip`` feeds ``tests/reliability/test_properties.py`` (hypothesis strategies);
* ``fits`` feeds ``tests/reliability/test_valid_data_never_nan.py``.

``tests/test_family_specs.py`` fails until every registered family has a spec that is complete for these tables.

Order: the order of :data:`SPECS` is part of the data. ``test_malformed_inputs.py`` draws every family's example
data from one generator, in this order; the strategy of ``IndependentComponentsDistribution`` draws its columns
from a ``one_of`` of the univariate families in this order (numeric ones first). Append a new family, so that
every other family keeps the data and the examples it has.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from scipy import optimize, stats

from genmix import (BernoulliDistribution, BetaDistribution, DirichletDistribution, DiscreteDistribution,
                    ExponentialDistribution, GammaDistribution, GaussianKernelDensity,
                    IndependentComponentsDistribution, LogNormalDistribution, MultivariateGaussianDistribution,
                    NormalDistribution, PoissonDistribution, TriangleKernelDensity, UniformDistribution,
                    UniformKernelDensity)
from genmix.distributions import Distribution

_NAN, _INF = float("nan"), float("inf")
_MAX = np.finfo(np.float64).max


# -- what a spec holds -----------------------------------------------------------------------------------------------
@dataclass
class Contract:
    """A row of the generic contract tests: parameters, scipy reference, data, MLE reference."""
    args: tuple
    ref: Callable                      # args -> frozen scipy distribution
    gen: Callable                      # (rng, n) -> data inside the support
    mle: Callable                      # (x, w) -> weighted MLE (closed form, or numeric via scipy)
    mle_rtol: float                    # tolerance of the MLE comparison (looser for iterative M-steps)
    outside: list                      # points outside the support
    invalid: list                      # invalid constructor arguments
    wrong: tuple                       # other parameters a goodness-of-fit test must tell apart
    discrete: bool = False             # sample checked by χ² (True) or Kolmogorov–Smirnov (False)
    unweighted_scipy_fit: Callable = None  # x -> scipy's own fit, in genmix's parameterisation
    degenerate: list = field(default_factory=list)  # parameters at the edge of their range (no mass,
                                                    # or an underflowing one, where the data are)
    cls: type = None                   # the family (set by its FamilySpec)

    @property
    def id(self):
        return self.cls.__name__


@dataclass(frozen=True)
class Malformed:
    """What ``test_malformed_inputs.py`` needs: a valid object to call with malformed input, and bad arguments."""
    example: Callable[[], Any]         # () -> a valid instance (it gets pending statistics of ``data``)
    data: Callable[[Any], Any]         # rng -> 20 valid values (the table's one generator, in SPECS order)
    outside: Optional[list]            # data with a value outside the family's fixed support (None: no such value)
    constructors: list                 # (args, kwargs, a word the error must say): invalid constructor calls
    parameters: list                   # an invalid value for the ``parameters`` setter (a NaN where it can hold one)


@dataclass(frozen=True)
class RoundTrip:
    """What ``test_properties.py`` needs: random instances, which must survive JSON and YAML."""
    strategy: st.SearchStrategy        # random instances
    exact: Optional[st.SearchStrategy] = None  # the instances of the bit-for-bit check, where not ``strategy``
    column: bool = False               # univariate: a column of random products, a component of random mixtures
    categorical: bool = False          # its values are categories (it comes after the numeric columns)
    exact_inside: bool = True          # bit for bit inside products and mixtures too (kernel densities: alone)

    @property
    def exact_strategy(self):
        return self.strategy if self.exact is None else self.exact


@dataclass(frozen=True)
class Fits:
    """What ``test_valid_data_never_nan.py`` needs: mixtures fitted to valid and to degenerate data."""
    data: Callable[[Any, Any], Any]    # (rng, part) -> a row per entry of ``part``, drawn from that part (0, 1, 2)
                                       # of a three-part mixture of the family
    components: Callable[[], list]     # () -> three distinct starting components; the first alone (and any
                                       # first two) can produce all the data
    constant: Any                      # a valid value, repeated into constant data and a single point
    outside: Optional[list] = None     # points outside the support of every starting component (and of any fit)
    far: Optional[Distribution] = None  # a component far from (or unable to produce) the data, which gets no
                                        # responsibility
    duplicated: Optional[tuple] = None  # two distinct values, each repeated, that components collapse onto


@dataclass(frozen=True)
class FamilySpec:
    """Every per-family fact of the generic tables. A field typed ``Optional`` is None where it does not apply to
    the family; every other field must be set (``tests/test_family_specs.py`` checks)."""
    cls: type
    malformed: Malformed
    round_trip: RoundTrip
    fits: Fits
    contract: Optional[Contract] = None  # univariate families with a scipy equivalent

    def __post_init__(self):
        if self.contract is not None:
            self.contract.cls = self.cls

    @property
    def name(self):
        return self.cls.__name__


# -- references and strategies the specs share -----------------------------------------------------------------------
def numeric_mle(ref, x, w, start, positive):
    """Maximise Σ w·logpdf_scipy(x; θ) with scipy.optimize (θ on a log scale where it must be positive)."""
    positive = np.asarray(positive)

    def unpack(t):
        return np.where(positive, np.exp(t), t)

    def nll(t):
        return -(w @ ref(*unpack(t)).logpdf(x))

    t0 = np.where(positive, np.log(start), start)
    res = optimize.minimize(nll, t0, method="BFGS", options={"gtol": 1e-9})
    return unpack(res.x)


def _normal_mle(x, w):
    mean = np.average(x, weights=w)
    return [mean, np.sqrt(np.average((x - mean) ** 2, weights=w))]


def _f(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


location = _f(-1e6, 1e6)
spread = _f(1e-6, 1e6)
positive = _f(1e-3, 1e3)


def _frozen():
    return st.booleans()


@st.composite
def probabilities(draw, n):
    raw = np.array(draw(st.lists(_f(0.0, 1.0), min_size=n, max_size=n)))
    assume(raw.sum() > 1e-3)
    return (raw / raw.sum()).tolist()


@st.composite
def discrete(draw):
    key_kind = draw(st.sampled_from(["str", "int", "bool", "float"]))
    keys = {"str": st.text(min_size=1, max_size=6).filter(lambda s: s != "nan"), "int": st.integers(-10**6, 10**6),
            "bool": st.booleans(), "float": _f(-1e6, 1e6)}[key_kind]
    ks = draw(st.lists(keys, min_size=1, max_size=5, unique=True))
    return DiscreteDistribution(dict(zip(ks, draw(probabilities(len(ks))))), frozen=draw(st.booleans()))


@st.composite
def kernel(draw, cls):
    pts = draw(st.lists(location, min_size=1, max_size=6))
    w = draw(st.one_of(st.none(), probabilities(len(pts))))
    return cls(pts, bandwidth=draw(spread), weights=w, frozen=draw(st.booleans()))


@st.composite
def mvn(draw):
    d = draw(st.integers(1, 3))
    A = np.array(draw(st.lists(_f(-3, 3), min_size=d * d, max_size=d * d))).reshape(d, d)
    cov = A @ A.T + np.eye(d) * draw(_f(1e-2, 10))
    return MultivariateGaussianDistribution(draw(st.lists(location, min_size=d, max_size=d)), cov,
                                            frozen=draw(st.booleans()), min_covar=draw(_f(0, 1e-2)))


def _products(exact):
    """Random products of the univariate families' random instances (only those exact inside compounds, if
    ``exact``); numeric columns first, in SPECS order (``one_of`` draws by position: the order is the examples)."""
    def build():
        columns = sorted((s.round_trip for s in SPECS if s.round_trip.column
                          and (s.round_trip.exact_inside or not exact)), key=lambda r: r.categorical)
        return st.builds(IndependentComponentsDistribution,
                         st.lists(st.one_of(*[r.strategy for r in columns]), min_size=1, max_size=3),
                         frozen=_frozen())

    return st.deferred(build)


def _kernel_data(rng, part):
    return rng.uniform(np.array([-2.0, 0.0, 3.0])[part], np.array([0.0, 2.0, 6.0])[part])


_N01 = NormalDistribution(0.0, 1.0)
_KERNEL_BAD_CONSTRUCTORS = [
    (([],), {}, "points"), (([_NAN],), {}, "points"), ((["a"],), {}, "points"),
    (([1.0],), {"bandwidth": 0.0}, "bandwidth"), (([1.0],), {"bandwidth": -1.0}, "bandwidth"),
    (([1.0],), {"bandwidth": _NAN}, "bandwidth"), (([1.0, 2.0],), {"weights": [1.0]}, "weights"),
    (([1.0, 2.0],), {"weights": [-1.0, 2.0]}, "weights"), (([1.0, 2.0],), {"weights": [0.0, 0.0]}, "weights"),
    (([1.0, _INF],), {}, "points"), (([[1.0, 2.0], [3.0, 4.0]],), {}, "points"),
]


def _kernel_spec(cls, parameters, outside=None, far=None):
    """The kernel densities share everything but their class, the bad ``parameters`` value and two fit facts."""
    return FamilySpec(
        cls,
        malformed=Malformed(lambda: cls([0.0, 1.0, 2.0], bandwidth=0.5), lambda rng: rng.normal(1, 1, 20), None,
                            _KERNEL_BAD_CONSTRUCTORS, parameters),
        round_trip=RoundTrip(kernel(cls), column=True, exact_inside=False),
        fits=Fits(_kernel_data, lambda: [cls(np.linspace(-3.0, 7.0, 11), bandwidth=1.5),
                                         cls([-1.0, 1.0], bandwidth=2.5), cls([4.0, 5.0], bandwidth=2.5)],
                  1.0, outside=outside, far=far),
    )


# -- the specs -------------------------------------------------------------------------------------------------------
SPECS = [
    FamilySpec(
        NormalDistribution,
        contract=Contract(
            (1.5, 2.0), lambda m, s: stats.norm(m, s), lambda rng, n: rng.normal(1.5, 2.0, n), _normal_mle, 1e-12, [],
            [(0.0, 0.0), (0.0, -1.0), (np.nan, 1.0)], (1.9, 2.5), unweighted_scipy_fit=lambda x: stats.norm.fit(x),
            degenerate=[(0.0, 1e-150), (1e300, 1.0)]),
        malformed=Malformed(
            lambda: NormalDistribution(1.0, 2.0), lambda rng: rng.normal(1.0, 2.0, 20), None,
            [((_NAN, 1.0), {}, "mean"), ((0.0, -1.0), {}, "std"), ((0.0, 0.0), {}, "std"), ((_INF, 1.0), {}, "mean"),
             (("a", 1.0), {}, "mean"), ((0.0, None), {}, "std"), (([0.0, 1.0], 1.0), {}, "mean"),
             ((0.0, 1.0), {"min_std": -1.0}, "min_std")],
            [_NAN, 1.0]),
        round_trip=RoundTrip(st.builds(NormalDistribution, location, spread, _frozen(), _f(0.0, 1e-3)), column=True),
        fits=Fits(
            lambda rng, part: rng.normal(np.array([-3.0, 0.0, 4.0])[part], 1.0),
            lambda: [NormalDistribution(0.0, 3.0), NormalDistribution(-3.0, 1.0), NormalDistribution(4.0, 1.5)],
            5.0, far=NormalDistribution(1e6, 1.0), duplicated=(1.0, 5.0)),
    ),
    FamilySpec(
        LogNormalDistribution,
        contract=Contract(
            (0.4, 0.3), lambda mu, s: stats.lognorm(s=s, scale=np.exp(mu)), lambda rng, n: rng.lognormal(0.4, 0.3, n),
            lambda x, w: _normal_mle(np.log(x), w), 1e-12, [0.0, -1.0], [(0.0, 0.0), (np.inf, 1.0)], (0.5, 0.375),
            unweighted_scipy_fit=lambda x: (lambda s, loc, scale: [np.log(scale), s])(*stats.lognorm.fit(x, floc=0)),
            degenerate=[(0.0, 1e-150), (-700.0, 1e-3)]),
        malformed=Malformed(
            lambda: LogNormalDistribution(0.1, 0.5), lambda rng: rng.lognormal(0.1, 0.5, 20), [-1.0, 1.0],
            [((_NAN, 1.0), {}, "mu"), ((0.0, 0.0), {}, "sigma"), ((0.0, _INF), {}, "sigma"),
             ((0.0, 1.0), {"min_std": _NAN}, "min_std")],
            [0.0, _NAN]),
        round_trip=RoundTrip(st.builds(LogNormalDistribution, _f(-50, 50), _f(1e-3, 10), _f(0.0, 1e-3),
                                       frozen=_frozen()), column=True),
        fits=Fits(
            lambda rng, part: rng.lognormal(np.array([0.0, 1.0, 2.0])[part], 0.3),
            lambda: [LogNormalDistribution(1.0, 1.0), LogNormalDistribution(0.0, 0.5), LogNormalDistribution(2.0, 0.5)],
            2.0, outside=[-1.0, 0.0], far=LogNormalDistribution(50.0, 0.1), duplicated=(1.0, 5.0)),
    ),
    FamilySpec(
        ExponentialDistribution,
        contract=Contract(
            (2.5,), lambda r: stats.expon(scale=1.0 / r), lambda rng, n: rng.exponential(1 / 2.5, n),
            lambda x, w: [w.sum() / (w @ x)], 1e-12, [-1e-9, -3.0], [(0.0,), (-1.0,), (np.inf,)], (3.1,),
            unweighted_scipy_fit=lambda x: [1 / stats.expon.fit(x, floc=0)[1]], degenerate=[(_MAX,)]),
        malformed=Malformed(
            lambda: ExponentialDistribution(1.5), lambda rng: rng.exponential(1 / 1.5, 20), [-1.0],
            [((0.0,), {}, "rate"), ((-1.0,), {}, "rate"), ((_NAN,), {}, "rate"), ((_INF,), {}, "rate"),
             (("1",), {}, "rate")],
            [_NAN]),
        round_trip=RoundTrip(st.builds(ExponentialDistribution, _f(1e-6, 1e6), _frozen()), column=True),
        fits=Fits(
            lambda rng, part: rng.exponential(1.0 / np.array([0.5, 2.0, 5.0])[part]),
            lambda: [ExponentialDistribution(1.0), ExponentialDistribution(0.3), ExponentialDistribution(6.0)],
            0.7, outside=[-1.0], duplicated=(1.0, 5.0)),
    ),
    FamilySpec(
        GammaDistribution,
        contract=Contract(
            (3.0, 2.0), lambda a, b: stats.gamma(a, scale=1.0 / b), lambda rng, n: rng.gamma(3.0, 0.5, n),
            lambda x, w: numeric_mle(lambda a, b: stats.gamma(a, scale=1 / b), x, w, (3.0, 2.0), (True, True)),
            1e-6, [0.0, -2.0], [(0.0, 1.0), (1.0, 0.0), (-1.0, 1.0)], (3.5, 2.5),
            unweighted_scipy_fit=lambda x: (lambda a, loc, scale: [a, 1 / scale])(*stats.gamma.fit(x, floc=0)),
            degenerate=[(1.0, _MAX), (1e12, 1e-300)]),
        malformed=Malformed(
            lambda: GammaDistribution(2.0, 1.0), lambda rng: rng.gamma(2.0, 1.0, 20), [0.0, 1.0],
            [((0.0, 1.0), {}, "alpha"), ((1.0, -1.0), {}, "beta"), ((_NAN, 1.0), {}, "alpha"),
             ((1.0, _INF), {}, "beta")],
            [_NAN, 1.0]),
        round_trip=RoundTrip(st.builds(GammaDistribution, positive, positive, _frozen()), column=True),
        fits=Fits(
            lambda rng, part: rng.gamma(np.array([2.0, 8.0, 1.0])[part], 1.0),
            lambda: [GammaDistribution(2.0, 0.5), GammaDistribution(1.0, 1.0), GammaDistribution(6.0, 1.0)],
            3.0, outside=[-1.0, 0.0], far=GammaDistribution(1e6, 1e-2), duplicated=(1.0, 5.0)),
    ),
    FamilySpec(
        BetaDistribution,
        contract=Contract(
            (2.0, 5.0), lambda a, b: stats.beta(a, b), lambda rng, n: rng.beta(2.0, 5.0, n),
            lambda x, w: numeric_mle(stats.beta, x, w, (2.0, 5.0), (True, True)), 1e-6, [0.0, 1.0, -0.5, 1.5],
            [(0.0, 1.0), (1.0, -1.0)], (2.5, 6.25),
            unweighted_scipy_fit=lambda x: list(stats.beta.fit(x, floc=0, fscale=1)[:2]),
            degenerate=[(1e12, 1e-3), (1e-300, 1e-300)]),
        malformed=Malformed(
            lambda: BetaDistribution(2.0, 3.0), lambda rng: rng.beta(2.0, 3.0, 20), [1.5],
            [((0.0, 1.0), {}, "alpha"), ((1.0, 0.0), {}, "beta"), ((-1.0, 1.0), {}, "alpha"),
             ((_NAN, _NAN), {}, "alpha")],
            [1.0, _NAN]),
        round_trip=RoundTrip(st.builds(BetaDistribution, positive, positive, _frozen()), column=True),
        fits=Fits(
            lambda rng, part: rng.beta(np.array([2.0, 8.0, 1.0])[part], np.array([8.0, 2.0, 1.0])[part]),
            lambda: [BetaDistribution(1.0, 1.0), BetaDistribution(2.0, 6.0), BetaDistribution(6.0, 2.0)],
            0.3, outside=[0.0, 1.0, 2.0], far=BetaDistribution(1e5, 1.0)),
    ),
    FamilySpec(
        UniformDistribution,
        contract=Contract(
            (-1.0, 2.0), lambda a, b: stats.uniform(a, b - a), lambda rng, n: rng.uniform(-1.0, 2.0, n),
            lambda x, w: [x[w > 0].min(), x[w > 0].max()], 1e-15, [-1.5, 2.0001],
            [(1.0, 1.0), (2.0, 1.0), (np.nan, 1.0)], (-1.0, 2.4),
            unweighted_scipy_fit=lambda x: (lambda loc, scale: [loc, loc + scale])(*stats.uniform.fit(x)),
            degenerate=[(100.0, 100.5)]),
        malformed=Malformed(
            lambda: UniformDistribution(0.0, 2.0), lambda rng: rng.uniform(0.0, 2.0, 20), None,
            [((1.0, 0.0), {}, "end"), ((0.0, 0.0), {}, "end"), ((_NAN, 1.0), {}, "start"), ((0.0, _INF), {}, "end"),
             ((-_INF, 0.0), {}, "start")],
            [_NAN, 1.0]),
        round_trip=RoundTrip(st.tuples(location, spread, _frozen()).map(
            lambda t: UniformDistribution(t[0], t[0] + t[1], t[2])), column=True),
        fits=Fits(
            lambda rng, part: rng.uniform(np.array([0.0, 2.0, 4.0])[part], np.array([3.0, 5.0, 6.0])[part]),
            lambda: [UniformDistribution(-1.0, 7.0), UniformDistribution(0.0, 3.5), UniformDistribution(1.5, 6.5)],
            2.0, outside=[-50.0, 50.0], far=UniformDistribution(1e6, 1e6 + 1.0), duplicated=(1.0, 5.0)),
    ),
    FamilySpec(
        PoissonDistribution,
        contract=Contract(
            (3.5,), lambda lam: stats.poisson(lam), lambda rng, n: rng.poisson(3.5, n).astype(float),
            lambda x, w: [(w @ x) / w.sum()], 1e-12, [-1.0, 2.5, 0.1], [(-1.0,), (np.inf,)], (3.9,), discrete=True,
            unweighted_scipy_fit=lambda x: [x.mean()], degenerate=[(0.0,)]),
        malformed=Malformed(
            lambda: PoissonDistribution(3.0), lambda rng: rng.poisson(3.0, 20).astype(float), [2.5],
            [((-1.0,), {}, "lam"), ((_NAN,), {}, "lam"), ((_INF,), {}, "lam"), (("x",), {}, "lam")],
            [_NAN]),
        round_trip=RoundTrip(st.builds(PoissonDistribution, _f(0.0, 1e4), _frozen()), column=True),
        fits=Fits(
            lambda rng, part: rng.poisson(np.array([1.0, 5.0, 12.0])[part]).astype(float),
            lambda: [PoissonDistribution(5.0), PoissonDistribution(1.0), PoissonDistribution(10.0)],
            4.0, outside=[-1.0, 2.5], far=PoissonDistribution(1e5), duplicated=(1.0, 5.0)),
    ),
    FamilySpec(
        BernoulliDistribution,
        contract=Contract(
            (0.3,), lambda p: stats.bernoulli(p), lambda rng, n: (rng.random(n) < 0.3).astype(float),
            lambda x, w: [(w @ x) / w.sum()], 1e-12, [-1.0, 0.5, 2.0], [(-0.1,), (1.1,), (np.nan,)], (0.36,),
            discrete=True, unweighted_scipy_fit=lambda x: [x.mean()], degenerate=[(0.0,), (1.0,)]),
        malformed=Malformed(
            lambda: BernoulliDistribution(0.3), lambda rng: (rng.random(20) < 0.3).astype(float), [2.0],
            [((1.5,), {}, "p"), ((-0.1,), {}, "p"), ((_NAN,), {}, "p"), (([0.5],), {}, "p")],
            [_NAN]),
        round_trip=RoundTrip(st.builds(BernoulliDistribution, _f(0.0, 1.0), _frozen()), column=True),
        fits=Fits(
            lambda rng, part: (rng.random(part.size) < np.array([0.1, 0.5, 0.9])[part]).astype(float),
            lambda: [BernoulliDistribution(0.5), BernoulliDistribution(0.2), BernoulliDistribution(0.8)],
            1.0, outside=[0.5, 2.0]),
    ),
    FamilySpec(
        DiscreteDistribution,
        malformed=Malformed(
            lambda: DiscreteDistribution({"a": 0.2, "b": 0.3, "c": 0.5}),
            lambda rng: list(rng.choice(["a", "b", "c"], 20)), None,
            [(({"a": 0.5},), {}, "probabilities"), (({"a": _NAN},), {}, "probabilities"),
             (({"a": -0.5, "b": 1.5},), {}, "probabilities"), (({"a": "x"},), {}, "probabilities"),
             (([1],), {}, "characters"), (({None: 1.0},), {}, "characters"), (({"a": _INF},), {}, "probabilities")],
            [{"a": _NAN}]),
        round_trip=RoundTrip(discrete(), column=True, categorical=True),
        fits=Fits(
            lambda rng, part: np.array([rng.choice(["a", "b", "c"], p=[[0.7, 0.2, 0.1], [0.1, 0.2, 0.7],
                                                                        [0.3, 0.4, 0.3]][p]) for p in part],
                                       dtype=object),
            lambda: [DiscreteDistribution({"a": 0.4, "b": 0.3, "c": 0.3}),
                     DiscreteDistribution({"a": 0.6, "b": 0.2, "c": 0.2}),
                     DiscreteDistribution({"a": 0.2, "b": 0.2, "c": 0.6})],
            "b", outside=["zzz"], far=DiscreteDistribution({"zzz": 1.0})),
    ),
    FamilySpec(
        MultivariateGaussianDistribution,
        malformed=Malformed(
            lambda: MultivariateGaussianDistribution([0.0, 1.0], [[2.0, 0.5], [0.5, 1.0]]),
            lambda rng: rng.multivariate_normal([0.0, 1.0], [[2.0, 0.5], [0.5, 1.0]], 20), None,
            [(([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), {}, "covariance"),
             (([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), {}, "covariance"),
             (([0.0, 0.0], [1.0, 1.0]), {}, "covariance"), (([[0.0, 0.0]], np.eye(2)), {}, "means"),
             (([_NAN, 0.0], np.eye(2)), {}, "means"), (([0.0, 0.0], np.eye(2) * _NAN), {}, "covariance"),
             (([], [[]]), {}, "means"), ((["a", "b"], np.eye(2)), {}, "means"),
             (([0.0, 0.0], np.zeros((2, 2))), {}, "covariance"),
             (([0.0, 0.0], np.eye(2)), {"min_covar": -1.0}, "min_covar")],
            [[_NAN, 0.0], np.eye(2)]),
        round_trip=RoundTrip(mvn()),
        fits=Fits(
            lambda rng, part: rng.normal(np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 5.0]])[part], 1.0),
            lambda: [MultivariateGaussianDistribution([1.0, 2.0], np.eye(2) * 9.0),
                     MultivariateGaussianDistribution([0.0, 0.0], np.eye(2)),
                     MultivariateGaussianDistribution([3.0, 3.0], [[2.0, 0.5], [0.5, 2.0]])],
            [1.0, -2.0], far=MultivariateGaussianDistribution([1e6, -1e6], np.eye(2)),
            duplicated=([1.0, 2.0], [5.0, -1.0])),
    ),
    FamilySpec(
        DirichletDistribution,
        malformed=Malformed(
            lambda: DirichletDistribution([1.0, 2.0, 3.0]), lambda rng: rng.dirichlet([1.0, 2.0, 3.0], 20),
            [[0.5, 0.6, -0.1]],
            [(([1.0],), {}, "alphas"), (([1.0, -1.0],), {}, "alphas"), (([1.0, _NAN],), {}, "alphas"),
             (([[1.0, 2.0]],), {}, "alphas"), (("ab",), {}, "alphas"), (([1.0, _INF],), {}, "alphas"),
             ((3.0,), {}, "alphas")],
            [[_NAN, 1.0, 1.0]]),
        round_trip=RoundTrip(st.builds(DirichletDistribution, st.lists(_f(1e-3, 1e3), min_size=2, max_size=5),
                                       _frozen())),
        fits=Fits(
            lambda rng, part: np.array([rng.dirichlet([[5.0, 2.0, 1.0], [1.0, 5.0, 2.0], [2.0, 2.0, 2.0]][p])
                                        for p in part]),
            lambda: [DirichletDistribution([1.0, 1.0, 1.0]), DirichletDistribution([3.0, 1.0, 1.0]),
                     DirichletDistribution([1.0, 3.0, 1.0])],
            [0.2, 0.3, 0.5], outside=[[0.5, 0.6, 0.2], [-0.1, 0.6, 0.5]]),
    ),
    FamilySpec(
        IndependentComponentsDistribution,
        malformed=Malformed(
            lambda: IndependentComponentsDistribution([NormalDistribution(0.0, 1.0), ExponentialDistribution(1.0)]),
            lambda rng: np.column_stack([rng.normal(0.0, 1.0, 20), rng.exponential(1.0, 20)]), [[0.0, -1.0]],
            [(([],), {}, "distributions"), (([NormalDistribution],), {}, "distributions"),
             (([MultivariateGaussianDistribution([0.0, 0.0], np.eye(2))],), {}, "distributions"),
             (("ab",), {}, "distributions"), (([1, 2],), {}, "distributions"),
             (([_N01, _N01],), {"weights": [1.0]}, "weights"), (([_N01, _N01],), {"weights": [1.0, -1.0]}, "weights"),
             (([_N01, _N01],), {"weights": [_NAN, 1.0]}, "weights"),
             (([_N01, _N01],), {"weights": [[1.0, 1.0]]}, "weights")],
            [[1.0, 2.0], None]),
        round_trip=RoundTrip(_products(exact=False), exact=_products(exact=True)),  # (kernel columns: their rows)
        fits=Fits(
            lambda rng, part: np.column_stack([rng.normal(np.array([-2.0, 0.0, 3.0])[part], 1.0),
                                               rng.exponential(1.0 / np.array([0.5, 2.0, 4.0])[part])]),
            lambda: [IndependentComponentsDistribution([NormalDistribution(0.0, 2.0), ExponentialDistribution(1.0)]),
                     IndependentComponentsDistribution([NormalDistribution(-2.0, 1.0), ExponentialDistribution(0.5)]),
                     IndependentComponentsDistribution([NormalDistribution(3.0, 1.0), ExponentialDistribution(4.0)])],
            [1.5, 0.5], outside=[[0.0, -1.0]],
            far=IndependentComponentsDistribution([NormalDistribution(1e6, 1.0), ExponentialDistribution(1.0)]),
            duplicated=([1.0, 2.0], [5.0, 0.5])),
    ),
    _kernel_spec(GaussianKernelDensity, [[_NAN], 1.0, None]),
    _kernel_spec(UniformKernelDensity, [[1.0], _NAN, None], outside=[-50.0, 50.0],
                 far=UniformKernelDensity([1e6], bandwidth=1.0)),
    _kernel_spec(TriangleKernelDensity, [[1.0], 1.0, [_NAN]], outside=[-50.0, 50.0]),
]

#: The specs by family name.
BY_NAME = {s.name: s for s in SPECS}


def spec(name):
    """The spec of a registered family, or an error that says where to add it."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise LookupError(f"{name} is registered but has no FamilySpec in tests/family_specs.py: add one to "
                          "SPECS there") from None
