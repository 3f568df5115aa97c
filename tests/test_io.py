"""Serialisation: JSON/YAML round trips, pomegranate 0.x documents, hostile input, copy and pickle.

Reference numbers come from the pomegranate 0.x JSON quoted in the semantics notes (§2.14), scipy and
numpy; round-trip tests only compare a model with itself before and after serialisation.
"""
import builtins
import copy as _copy
import dataclasses
import json
import pathlib
import pickle

import numpy as np
import pytest
import yaml
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

import genmix
import genmix.io
from genmix import (
    ExponentialDistribution,
    GeneralMixtureModel,
    IndependentComponentsDistribution,
    LogNormalDistribution,
    MultivariateGaussianDistribution,
    NormalDistribution,
)

# ---------------------------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------------------------

# The exact output of pomegranate 0.x's to_json() for GeneralMixtureModel([N(5, 2), N(1, 1)]) after
# fit([[1], [5], [7], [8], [2]]) (semantics notes §2.14, verified against pomegranate 0.x).
POMEGRANATE_JSON = """{
    "class" : "GeneralMixtureModel",
    "distributions" : [
        {
            "class" : "Distribution",
            "name" : "NormalDistribution",
            "parameters" : [
                6.6571359101390755,
                1.2639830514274502
            ],
            "frozen" : false
        },
        {
            "class" : "Distribution",
            "name" : "NormalDistribution",
            "parameters" : [
                1.498707696758334,
                0.4999983303277837
            ],
            "frozen" : false
        }
    ],
    "weights" : [
        0.6012087742535696,
        0.3987912257464304
    ]
}"""
POMEGRANATE_MEANS = (6.6571359101390755, 1.498707696758334)
POMEGRANATE_STDS = (1.2639830514274502, 0.4999983303277837)
POMEGRANATE_WEIGHTS = (0.6012087742535696, 0.3987912257464304)

X1 = np.array([-3.0, -1.0, 0.0, 1e-3, 0.5, 1.0, 2.5, 7.0, 40.0, np.nan])
X1_POS = np.array([1e-3, 0.5, 1.0, 2.5, 7.0, 40.0])
X2 = np.array([[0.0, 0.0], [1.0, -2.0], [-0.5, 3.0], [10.0, 10.0], [np.nan, 1.0], [0.3, np.nan]])
X3 = np.array([[0.0, 0.5, 1.0], [1.0, 2.0, 0.1], [-4.0, 0.0, 3.0], [2.0, -1.0, 1.0], [np.nan, 1.0, 2.0],
               [5.0, 7.0, np.nan]])
COV2 = [[2.0, 0.3], [0.3, 0.5]]
COV3 = [[1.0, 0.2, 0.1], [0.2, 2.0, -0.3], [0.1, -0.3, 1.5]]


def _icd(frozen=False):
    return IndependentComponentsDistribution(
        [NormalDistribution(0.5, 2.0, min_std=0.25), ExponentialDistribution(1.5, frozen=True),
         LogNormalDistribution(0.1, 0.7, min_std=0.05)], weights=[1.0, 0.5, 2.0], frozen=frozen)


# (id, factory, fixed evaluation array); every factory builds a fresh object.
CASES = [
    ("normal", lambda: NormalDistribution(1.25, 0.75), X1),
    ("normal-frozen-min_std", lambda: NormalDistribution(-3.5, 2.0, frozen=True, min_std=0.125), X1),
    ("lognormal", lambda: LogNormalDistribution(0.3, 1.1), X1),
    ("lognormal-frozen-min_std", lambda: LogNormalDistribution(-0.2, 0.4, min_std=0.01, frozen=True), X1),
    ("exponential", lambda: ExponentialDistribution(0.37), X1),
    ("exponential-frozen", lambda: ExponentialDistribution(2.5, frozen=True), X1),
    ("mvg", lambda: MultivariateGaussianDistribution([0.1, -0.2], COV2), X2),
    ("mvg-frozen-min_covar", lambda: MultivariateGaussianDistribution([1.0, 2.0], COV2, frozen=True,
                                                                      min_covar=1e-3), X2),
    ("mvg-min_covar0", lambda: MultivariateGaussianDistribution([0.0, 0.0, 1.0], COV3, min_covar=0.0), X3),
    ("icd", lambda: _icd(), X3),
    ("icd-frozen", lambda: _icd(frozen=True), X3),
    ("mixture-normals", lambda: GeneralMixtureModel([NormalDistribution(5, 2), NormalDistribution(1, 1)]), X1),
    ("mixture-families-frozen", lambda: GeneralMixtureModel(
        [NormalDistribution(0.5, 1.5, min_std=0.1), ExponentialDistribution(0.8, frozen=True),
         LogNormalDistribution(1.0, 0.5)], [0.2, 0.5, 0.3]), X1),
    ("mixture-frozen", lambda: _frozen_mixture(), X1),
    ("mixture-mvg", lambda: GeneralMixtureModel(
        [MultivariateGaussianDistribution([0.0, 0.0], COV2, min_covar=1e-4),
         MultivariateGaussianDistribution([3.0, 1.0], [[1.0, 0.0], [0.0, 1.0]], frozen=True)], [0.7, 0.3]), X2),
    ("mixture-icd-and-mvg", lambda: GeneralMixtureModel(
        [_icd(), MultivariateGaussianDistribution([0.0, 1.0, 1.0], COV3, frozen=True)], [0.4, 0.6]), X3),
]


def _frozen_mixture():
    m = GeneralMixtureModel([NormalDistribution(-1, 1), NormalDistribution(2, 0.5, frozen=True)], [0.25, 0.75])
    m.freeze()
    return m


def _flags(obj):
    """Every frozen flag of an object and its components, in a fixed order."""
    out = [obj.frozen]
    children = getattr(obj, "distributions", None)
    if children is not None:
        for c in children:
            out.extend(_flags(c))
    return out


def _options(obj):
    """The genmix-only options (min_std, min_covar) of an object and its components."""
    out = [(type(obj).__name__, getattr(obj, "min_std", None), getattr(obj, "min_covar", None))]
    children = getattr(obj, "distributions", None)
    for c in (children if children is not None else ()):
        out.extend(_options(c))
    return out


def _assert_same_model(a, b, X):
    assert type(a) is type(b)
    assert_array_equal(a.log_probability(X), b.log_probability(X))
    assert _flags(a) == _flags(b)
    assert _options(a) == _options(b)
    assert a.to_dict() == b.to_dict()
    if isinstance(a, GeneralMixtureModel):
        assert_array_equal(a.weights, b.weights)


def _assert_stats_equal(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if isinstance(va, tuple):
            assert len(va) == len(vb)
            for x, y in zip(va, vb):
                _assert_stats_equal(x, y)
        else:
            assert_array_equal(va, vb)


def _doc(**overrides):
    d = {"class": "Distribution", "name": "NormalDistribution", "parameters": [0.0, 1.0], "frozen": False}
    d.update(overrides)
    return d


def _mix_doc(**overrides):
    d = {"class": "GeneralMixtureModel", "distributions": [_doc(), _doc(parameters=[3.0, 2.0])],
         "weights": [0.5, 0.5]}
    d.update(overrides)
    return d


# ---------------------------------------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, factory, X", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fmt", ["json", "yaml", "dict"])
def test_round_trip(name, factory, X, fmt):
    obj = factory()
    cls = type(obj)
    if fmt == "json":
        text = obj.to_json()
        loaded = [cls.from_json(text), genmix.from_json(text)]
    elif fmt == "yaml":
        text = obj.to_yaml()
        assert "!!python" not in text and "!!" not in text
        loaded = [cls.from_yaml(text), genmix.from_yaml(text)]
    else:
        d = obj.to_dict()
        snapshot = _copy.deepcopy(d)
        loaded = [cls.from_dict(d), genmix.from_dict(d)]
        assert d == snapshot  # loading does not modify the document
    for new in loaded:
        _assert_same_model(obj, new, X)
        assert new is not obj


def test_round_trip_twice_is_stable():
    obj = CASES[-1][1]()
    text = obj.to_json()
    once = GeneralMixtureModel.from_json(text)
    assert once.to_json() == text
    assert GeneralMixtureModel.from_json(once.to_json()).to_json() == text


def test_frozen_and_options_values_survive():
    m = GeneralMixtureModel([NormalDistribution(0, 1, min_std=0.5), LogNormalDistribution(0, 1, min_std=0.25,
                                                                                           frozen=True)])
    new = genmix.from_json(m.to_json())
    assert new.distributions[0].min_std == 0.5 and not new.distributions[0].frozen
    assert new.distributions[1].min_std == 0.25 and new.distributions[1].frozen
    assert not new.frozen
    mvg = MultivariateGaussianDistribution([0, 0], COV2, min_covar=0.0, frozen=True)
    new = MultivariateGaussianDistribution.from_yaml(mvg.to_yaml())
    assert new.min_covar == 0.0 and new.frozen
    icd = genmix.from_yaml(_icd(frozen=True).to_yaml())
    assert icd.frozen
    assert [c.frozen for c in icd.distributions] == [False, True, False]
    assert icd.distributions[0].min_std == 0.25 and icd.distributions[2].min_std == 0.05
    assert_array_equal(icd.weights, [1.0, 0.5, 2.0])


def test_default_documents_have_pomegranate_keys_only():
    for obj in (NormalDistribution(0, 1), LogNormalDistribution(0, 1), ExponentialDistribution(1),
                MultivariateGaussianDistribution([0, 0], COV2)):
        assert set(obj.to_dict()) == {"class", "name", "parameters", "frozen"}
    assert set(GeneralMixtureModel([NormalDistribution(0, 1)]).to_dict()) == {"class", "distributions",
                                                                                "weights"}
    icd = IndependentComponentsDistribution([NormalDistribution(0, 1), ExponentialDistribution(2)]).to_dict()
    assert icd["name"] == "IndependentComponentsDistribution"
    assert icd["parameters"][1] == [1.0, 1.0]
    assert [c["name"] for c in icd["parameters"][0]] == ["NormalDistribution", "ExponentialDistribution"]


# ---------------------------------------------------------------------------------------------------------
# pomegranate 0.x documents
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("load", [GeneralMixtureModel.from_json, genmix.from_json, genmix.io.from_json],
                         ids=["GeneralMixtureModel.from_json", "genmix.from_json", "genmix.io.from_json"])
def test_pomegranate_json_loads(load):
    m = load(POMEGRANATE_JSON)
    assert isinstance(m, GeneralMixtureModel)
    assert m.n == 2 and m.d == 1 and not m.frozen
    for c, mu, sd in zip(m.distributions, POMEGRANATE_MEANS, POMEGRANATE_STDS):
        assert type(c) is NormalDistribution and not c.frozen
        assert c.parameters == [mu, sd]
    assert_allclose(m.weights, POMEGRANATE_WEIGHTS, rtol=1e-15)
    x = np.array([-1.0, 0.0, 1.0, 1.5, 4.0, 6.5, 9.0, 20.0])
    ref = logsumexp(np.log(POMEGRANATE_WEIGHTS)[None, :]
                    + stats.norm.logpdf(x[:, None], POMEGRANATE_MEANS, POMEGRANATE_STDS), axis=1)
    assert_allclose(m.log_probability(x), ref, rtol=1e-13)


def test_pomegranate_json_written_back_in_the_same_layout():
    m = GeneralMixtureModel.from_json(POMEGRANATE_JSON)
    text = m.to_json()
    d = json.loads(text)
    assert list(d) == ["class", "distributions", "weights"]
    for c in d["distributions"]:
        assert list(c) == ["class", "name", "parameters", "frozen"]
    assert d == json.loads(POMEGRANATE_JSON)
    assert text == POMEGRANATE_JSON  # same formatting: indent 4 and the " : " separator


def test_pomegranate_yaml_layout():
    m = genmix.from_json(POMEGRANATE_JSON)
    assert yaml.safe_load(m.to_yaml()) == json.loads(POMEGRANATE_JSON)
    assert genmix.from_yaml(m.to_yaml()).to_dict() == json.loads(POMEGRANATE_JSON)


@pytest.mark.parametrize("as_path", [str, pathlib.Path], ids=["str", "Path"])
def test_from_json_reads_a_file(tmp_path, as_path):
    f = tmp_path / "model.json"
    f.write_text(POMEGRANATE_JSON, encoding="utf-8")
    for load in (GeneralMixtureModel.from_json, genmix.from_json):
        m = load(as_path(f))
        assert m.to_dict() == json.loads(POMEGRANATE_JSON)
    g = tmp_path / "normal.json"
    g.write_text(NormalDistribution(2.5, 0.5, frozen=True).to_json(), encoding="utf-8")
    d = NormalDistribution.from_json(as_path(g))
    assert d.parameters == [2.5, 0.5] and d.frozen


def test_from_yaml_reads_a_path(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(genmix.from_json(POMEGRANATE_JSON).to_yaml(), encoding="utf-8")
    assert GeneralMixtureModel.from_yaml(f).to_dict() == json.loads(POMEGRANATE_JSON)


def test_from_json_accepts_bytes():
    assert genmix.from_json(POMEGRANATE_JSON.encode("utf-8")).to_dict() == json.loads(POMEGRANATE_JSON)


# ---------------------------------------------------------------------------------------------------------
# hostile and malformed documents
# ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def no_eval(monkeypatch):
    """Fail if anything calls eval/exec while loading."""
    calls = []

    def spy(name):
        def f(*args, **kwargs):
            calls.append((name, args))
            raise AssertionError(f"{name} called while loading a document")
        return f

    monkeypatch.setattr(builtins, "eval", spy("eval"))
    monkeypatch.setattr(builtins, "exec", spy("exec"))
    yield calls
    assert calls == []


BAD_JSON = [
    # code in parameters (pomegranate 0.x's eval would load this as NormalDistribution(3.0, 1.0))
    ("eval-parameter", '{"class":"Distribution","name":"NormalDistribution","parameters":["len([1,2,3])",1],'
                       '"frozen":false}', r"parameters\[0\] must be a number"),
    ("code-name", json.dumps(_doc(name="__import__('os').system('touch X')")), "unknown class"),
    ("unknown-name", json.dumps(_doc(name="StudentTDistribution")), "unknown class"),
    ("base-name", json.dumps(_doc(name="Distribution")), "unknown class"),
    ("dunder-name", json.dumps(_doc(name="__class__")), "unknown class"),
    ("name-not-str", json.dumps(_doc(name=["NormalDistribution"])), "unknown class"),
    ("class-Foo", json.dumps(_doc(**{"class": "Foo"})), "unknown class"),
    ("class-hmm", json.dumps(_doc(**{"class": "HiddenMarkovModel"})), "unknown class"),
    ("class-missing", json.dumps({"name": "NormalDistribution", "parameters": [0, 1], "frozen": False}),
     "unknown class"),
    ("bool-parameter", json.dumps(_doc(parameters=[True, 1.0])), r"must be a number .*got bool"),
    ("bool-parameter-exp", json.dumps(_doc(name="ExponentialDistribution", parameters=[True])),
     r"must be a number .*got bool"),
    ("string-parameter", json.dumps(_doc(parameters=["0", 1.0])), r"must be a number .*got str"),
    ("null-parameter", json.dumps(_doc(parameters=[None, 1.0])), r"must be a number .*got NoneType"),
    ("dict-parameter", json.dumps(_doc(parameters=[{"a": 1}, 1.0])), r"must be a number .*got dict"),
    ("nested-dict-in-mvg", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                           parameters=[[0, {"x": 1}], [[1, 0], [0, 1]]])),
     r"parameters\[0\]\[1\] must be a number .*got dict"),
    ("list-for-scalar", json.dumps(_doc(parameters=[[0.0], 1.0])), "invalid parameters for NormalDistribution"),
    ("too-few-parameters", json.dumps(_doc(parameters=[0.0])), "must be a list of 2 values"),
    ("too-many-parameters", json.dumps(_doc(parameters=[0.0, 1.0, 2.0])), "must be a list of 2 values"),
    ("parameters-not-list", json.dumps(_doc(parameters={"mean": 0, "std": 1})), "must be a list of 2 values"),
    ("exp-two-parameters", json.dumps(_doc(name="ExponentialDistribution", parameters=[1.0, 2.0])),
     "must be a list of 1 values"),
    ("missing-parameters", json.dumps({"class": "Distribution", "name": "NormalDistribution", "frozen": False}),
     r"lacks the key\(s\) \['parameters'\]"),
    ("missing-name", json.dumps({"class": "Distribution", "parameters": [0, 1], "frozen": False}),
     "unknown class"),
    ("unknown-key", json.dumps(_doc(extra=1)), r"unknown key\(s\) \['extra'\]"),
    ("foreign-option", json.dumps(_doc(min_covar=1e-3)), r"unknown key\(s\) \['min_covar'\]"),
    ("option-on-exponential", json.dumps(_doc(name="ExponentialDistribution", parameters=[1.0], min_std=0.1)),
     r"unknown key\(s\) \['min_std'\]"),
    ("frozen-string", json.dumps(_doc(frozen="false")), "'frozen' must be true or false"),
    ("frozen-int", json.dumps(_doc(frozen=1)), "'frozen' must be true or false"),
    ("frozen-null", json.dumps(_doc(frozen=None)), "'frozen' must be true or false"),
    ("min_std-string", json.dumps(_doc(min_std="0.1")), r"min_std must be a number"),
    ("min_std-negative", json.dumps(_doc(min_std=-1.0)), "'min_std' parameter of NormalDistribution"),
    ("negative-std", json.dumps(_doc(parameters=[0.0, -1.0])), "'std' parameter of NormalDistribution"),
    ("zero-rate", json.dumps(_doc(name="ExponentialDistribution", parameters=[0.0])),
     "'rate' parameter of ExponentialDistribution"),
    ("nan-literal", '{"class":"Distribution","name":"NormalDistribution","parameters":[NaN,1],"frozen":false}',
     r"'mean' parameter of NormalDistribution .*Got nan"),
    ("infinity-literal", '{"class":"Distribution","name":"NormalDistribution","parameters":[0,Infinity],'
                         '"frozen":false}', r"'std' parameter of NormalDistribution .*Got inf"),
    ("-infinity-literal", '{"class":"Distribution","name":"LogNormalDistribution","parameters":[-Infinity,1],'
                          '"frozen":false}', r"'mu' parameter of LogNormalDistribution .*Got -inf"),
    ("overflowing-float", '{"class":"Distribution","name":"NormalDistribution","parameters":[1e400,1],'
                          '"frozen":false}', "Got inf"),
    ("nan-in-mvg", '{"class":"Distribution","name":"MultivariateGaussianDistribution",'
                   '"parameters":[[0,NaN],[[1,0],[0,1]]],"frozen":false}', "must be finite"),
    ("non-pd-covariance", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                          parameters=[[0, 0], [[1, 2], [2, 1]]])), "positive definite"),
    ("singular-covariance", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                            parameters=[[0, 0], [[1, 1], [1, 1]]])), "positive definite"),
    ("asymmetric-covariance", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                              parameters=[[0, 0], [[1, 0.5], [0, 1]]])), "symmetric"),
    ("covariance-shape", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                         parameters=[[0, 0, 0], [[1, 0], [0, 1]]])), "must have shape"),
    ("ragged-covariance", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                          parameters=[[0, 0], [[1, 0], [0]]])), "must be numeric arrays"),
    ("icd-unknown-child", json.dumps(_doc(name="IndependentComponentsDistribution",
                                          parameters=[[{"class": "Foo"}], [1.0]])),
     r"parameters\[0\]\[0\] names an unknown class"),
    ("icd-children-not-list", json.dumps(_doc(name="IndependentComponentsDistribution", parameters=[5, [1.0]])),
     "must be a list of distributions"),
    ("icd-string-weight", json.dumps(_doc(name="IndependentComponentsDistribution",
                                          parameters=[[_doc()], ["a"]])), r"parameters\[1\]\[0\] must be a number"),
    ("icd-weights-length", json.dumps(_doc(name="IndependentComponentsDistribution",
                                           parameters=[[_doc()], [1.0, 2.0]])), "one entry per distribution"),
    ("icd-negative-weight", json.dumps(_doc(name="IndependentComponentsDistribution",
                                            parameters=[[_doc()], [-1.0]])), "finite and non-negative"),
    ("icd-multivariate-child", json.dumps(_doc(name="IndependentComponentsDistribution",
                                               parameters=[[_doc(name="MultivariateGaussianDistribution",
                                                                 parameters=[[0, 0], [[1, 0], [0, 1]]])],
                                                           [1.0]])), "univariate"),
    ("mixture-weights-short", json.dumps(_mix_doc(weights=[1.0])), "one entry per component"),
    ("mixture-weights-long", json.dumps(_mix_doc(weights=[0.2, 0.3, 0.5])), "one entry per component"),
    ("mixture-weights-negative", json.dumps(_mix_doc(weights=[-0.5, 1.5])), "finite and non-negative"),
    ("mixture-weights-nan", '{"class":"GeneralMixtureModel","distributions":[%s,%s],"weights":[NaN,1]}'
     % (json.dumps(_doc()), json.dumps(_doc())), "finite and non-negative"),
    ("mixture-weights-zero", json.dumps(_mix_doc(weights=[0.0, 0.0])), "must not all be zero"),
    ("mixture-weights-string", json.dumps(_mix_doc(weights=["0.5", "0.5"])), r"weights\[0\] must be a number"),
    ("mixture-weights-bool", json.dumps(_mix_doc(weights=[True, False])), r"weights\[0\] must be a number"),
    ("mixture-missing-weights", json.dumps({"class": "GeneralMixtureModel", "distributions": [_doc()]}),
     r"lacks the key\(s\) \['weights'\]"),
    ("mixture-missing-distributions", json.dumps({"class": "GeneralMixtureModel", "weights": [1.0]}),
     r"lacks the key\(s\) \['distributions'\]"),
    ("mixture-unknown-key", json.dumps(_mix_doc(log_weights=[0.0, 0.0])), r"unknown key\(s\) \['log_weights'\]"),
    ("mixture-frozen-string", json.dumps(_mix_doc(frozen="yes")), "'frozen' must be true or false"),
    ("mixture-no-components", json.dumps(_mix_doc(distributions=[], weights=[])), "non-empty list"),
    ("mixture-components-not-list", json.dumps(_mix_doc(distributions=_doc(), weights=[1.0])), "non-empty list"),
    ("mixture-bad-component", json.dumps(_mix_doc(distributions=[_doc(), _doc(name="os.system")])),
     r"distributions\[1\] names an unknown class"),
    ("mixture-component-not-dict", json.dumps(_mix_doc(distributions=[_doc(), [0, 1]])),
     r"distributions\[1\] must be a mapping"),
    ("mixture-mismatched-dimensions", json.dumps(_mix_doc(distributions=[
        _doc(), _doc(name="MultivariateGaussianDistribution", parameters=[[0, 0], [[1, 0], [0, 1]]])])),
     "mis-matching dimensions"),
    ("deep-list", "[" * 10000 + "]" * 10000, "nested too deeply"),
    ("deep-dict", '{"a":' * 10000 + "1" + "}" * 10000, "nested too deeply"),
    ("deep-parameter", json.dumps(_doc(name="MultivariateGaussianDistribution",
                                       parameters=[json.loads("[" * 500 + "0" + "]" * 500), [[1]]])),
     "nested too deeply"),
    ("deep-mixtures", None, "nested too deeply"),  # built in the test
    ("deep-icd", None, "nested too deeply"),  # built in the test
    ("invalid-json", '{"class": "Distribution", ', "not valid JSON"),
    ("trailing-garbage", json.dumps(_doc()) + " x", "not valid JSON"),
    ("python-literal", "{'class': 'Distribution'}", "not valid JSON"),
    ("empty-text", "", "not valid JSON"),
    ("top-level-list", json.dumps([_doc()]), "must be a mapping .*got list"),
    ("top-level-number", "3", "must be a mapping .*got int"),
    ("top-level-string", '"NormalDistribution"', "must be a mapping .*got str"),
    ("top-level-null", "null", "must be a mapping .*got NoneType"),
]


def _nested(kind, levels):
    d = _doc()
    for _ in range(levels):
        if kind == "deep-mixtures":
            d = {"class": "GeneralMixtureModel", "distributions": [d], "weights": [1.0]}
        else:
            d = _doc(name="IndependentComponentsDistribution", parameters=[[d], [1.0]])
    return json.dumps(d)


@pytest.mark.parametrize("name, text, match", BAD_JSON, ids=[b[0] for b in BAD_JSON])
def test_bad_json_refused(name, text, match, tmp_path, monkeypatch, no_eval):
    monkeypatch.chdir(tmp_path)
    if text is None:
        text = _nested(name, 300)
    loaders = [genmix.from_json, genmix.io.from_json]
    if '"GeneralMixtureModel"' in text:
        loaders.append(GeneralMixtureModel.from_json)
    elif '"NormalDistribution"' in text and '"IndependentComponentsDistribution"' not in text \
            and '"MultivariateGaussianDistribution"' not in text:
        loaders.append(NormalDistribution.from_json)
    for load in loaders:
        with pytest.raises(ValueError, match=match):
            load(text)
    if len(text) < 100_000:  # the same document, already parsed, through from_dict
        try:
            d = json.loads(text)
        except (ValueError, RecursionError):
            d = None
        if d is not None:
            with pytest.raises(ValueError, match=match):
                genmix.from_dict(d)
    assert list(tmp_path.iterdir()) == []  # nothing ran, nothing was written


def test_eval_payloads_do_not_execute(tmp_path, monkeypatch, no_eval):
    monkeypatch.chdir(tmp_path)
    payloads = [
        _doc(parameters=["__import__('os').system('touch X') or 0", 1]),
        _doc(name="__import__('os').system('touch X')"),
        _doc(name="NormalDistribution(0, 1); __import__('os').system('touch X'); NormalDistribution"),
        _doc(frozen="__import__('os').system('touch X')"),
        _doc(**{"class": "__import__('os').system('touch X')"}),
        _mix_doc(weights="__import__('os').system('touch X')"),
        _doc(name="IndependentComponentsDistribution",
             parameters=[[_doc(name="__import__('os').system('touch X')")], [1.0]]),
    ]
    for p in payloads:
        for load in (genmix.from_json, genmix.from_yaml):
            with pytest.raises(ValueError, match="must be|unknown class"):
                load(json.dumps(p))
        with pytest.raises(ValueError, match="must be|unknown class"):
            genmix.from_dict(p)
    assert not (tmp_path / "X").exists()
    assert list(tmp_path.iterdir()) == []


BAD_YAML = [
    ("python-apply", '!!python/object/apply:os.system ["touch X"]', "tags that construct Python objects"),
    ("python-name", "!!python/name:os.system", "tags that construct Python objects"),
    ("python-name-inside", "class: Distribution\nname: !!python/name:os.system\nparameters: [0, 1]\n",
     "tags that construct Python objects"),
    ("python-object-new", "!!python/object/new:os.system [touch X]", "tags that construct Python objects"),
    ("python-tuple", "!!python/tuple [0, 1]", "tags that construct Python objects"),
    ("python-apply-parameter", "class: Distribution\nname: NormalDistribution\n"
                               "parameters: [!!python/object/apply:os.system [touch X], 1]\nfrozen: false\n",
     "tags that construct Python objects"),
    ("plain-list", "- 1\n- 2\n", "must be a mapping .*got list"),
    ("plain-scalar", "NormalDistribution\n", "must be a mapping .*got str"),
    ("number", "3.5\n", "must be a mapping .*got float"),
    ("empty", "", "must be a mapping .*got NoneType"),
    ("invalid", "a: [1, 2\n", "not valid plain YAML"),
    ("date-parameter", "class: Distribution\nname: NormalDistribution\nparameters: [2001-12-14, 1]\n",
     "must be a number .*got date"),
    ("binary-parameter", "class: Distribution\nname: NormalDistribution\nparameters: [!!binary aGVsbG8=, 1]\n",
     "must be a number .*got bytes"),
    ("nan-parameter", "class: Distribution\nname: NormalDistribution\nparameters: [.nan, 1]\n", "Got nan"),
    ("string-frozen", "class: Distribution\nname: NormalDistribution\nparameters: [0, 1]\nfrozen: 'no'\n",
     "'frozen' must be true or false"),
    ("unknown-class", "class: Foo\nname: NormalDistribution\nparameters: [0, 1]\n", "unknown class"),
    ("deep", "[" * 10000 + "]" * 10000, "nested too deeply"),
]


@pytest.mark.parametrize("name, text, match", BAD_YAML, ids=[b[0] for b in BAD_YAML])
def test_bad_yaml_refused(name, text, match, tmp_path, monkeypatch, no_eval):
    monkeypatch.chdir(tmp_path)
    loaders = (genmix.from_yaml, GeneralMixtureModel.from_yaml, NormalDistribution.from_yaml)
    if name == "deep":
        loaders = loaders[:1]  # PyYAML takes about a second to hit the recursion limit
    for load in loaders:
        with pytest.raises(ValueError, match=match):
            load(text)
    assert not (tmp_path / "X").exists()
    assert list(tmp_path.iterdir()) == []


# A JSON integer beyond the float range (401 digits, within Python's int-parsing limit) is valid JSON;
# it must be refused like 1e400, not escape as OverflowError.
_HUGE = "1" + "0" * 400


@pytest.mark.parametrize("text", [
    '{"class":"Distribution","name":"NormalDistribution","parameters":[%s,1],"frozen":false}' % _HUGE,
    '{"class":"Distribution","name":"ExponentialDistribution","parameters":[%s],"frozen":false}' % _HUGE,
    '{"class":"Distribution","name":"MultivariateGaussianDistribution","parameters":[[%s],[[1]]],'
    '"frozen":false}' % _HUGE,
    '{"class":"GeneralMixtureModel","distributions":[%s],"weights":[%s]}' % (json.dumps(_doc()), _HUGE),
], ids=["normal", "exponential", "mvg", "mixture-weights"])
def test_huge_integer_refused_with_value_error(text):
    with pytest.raises(ValueError):
        genmix.from_json(text)


def test_icd_ragged_weights_refused_with_value_error():
    text = json.dumps(_doc(name="IndependentComponentsDistribution",
                           parameters=[[_doc(), _doc()], [[1.0], [1.0, 2.0]]]))
    with pytest.raises(ValueError, match="weights"):
        genmix.from_json(text)


@pytest.mark.parametrize("arg", [3, 2.5, None, {"class": "Distribution"}, [1, 2], object()],
                         ids=["int", "float", "None", "dict", "list", "object"])
def test_non_text_argument_is_type_error(arg):
    for load in (genmix.from_json, GeneralMixtureModel.from_json, NormalDistribution.from_json):
        with pytest.raises(TypeError, match="takes JSON text or a file path"):
            load(arg)
    with pytest.raises(TypeError, match="takes YAML text or a file path"):
        genmix.from_yaml(arg)


def test_invalid_utf8_bytes_refused():
    with pytest.raises(ValueError):
        genmix.from_json(b"\xff\xfe{}")


def test_document_size_limit(monkeypatch, tmp_path):
    text = json.dumps(_doc())
    monkeypatch.setattr(genmix.io, "MAX_DOCUMENT_CHARS", len(text))
    assert genmix.from_json(text).parameters == [0.0, 1.0]  # exactly at the limit: accepted
    monkeypatch.setattr(genmix.io, "MAX_DOCUMENT_CHARS", len(text) - 1)
    for load in (genmix.from_json, NormalDistribution.from_json):
        with pytest.raises(ValueError, match=f"larger than {len(text) - 1} characters"):
            load(text)
    with pytest.raises(ValueError, match="larger than"):
        genmix.from_json(text.encode())
    with pytest.raises(ValueError, match="larger than"):
        genmix.from_yaml(NormalDistribution(0, 1).to_yaml() + " " * len(text))
    f = tmp_path / "big.json"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="larger than"):
        genmix.from_json(f)  # a pathlib.Path
    with pytest.raises(ValueError, match="larger than"):
        genmix.from_json(str(f))  # a file name


def test_file_with_invalid_json_refused(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"class": "Distribution", "name": ', encoding="utf-8")
    with pytest.raises(ValueError, match="does not hold valid JSON"):
        genmix.from_json(str(f))
    with pytest.raises(ValueError, match="not valid JSON"):
        genmix.from_json(f)
    g = tmp_path / "evil.json"
    g.write_text(json.dumps(_doc(name="__import__('os').system('touch X')")), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown class"):
        genmix.from_json(str(g))
    with pytest.raises(ValueError, match="unknown class"):
        GeneralMixtureModel.from_json(g)


@pytest.mark.parametrize("cls, doc, match", [
    (NormalDistribution, _mix_doc(), "describes a GeneralMixtureModel, not a NormalDistribution"),
    (GeneralMixtureModel, _doc(), "describes a NormalDistribution, not a GeneralMixtureModel"),
    (LogNormalDistribution, _doc(), "describes a NormalDistribution, not a LogNormalDistribution"),
    (ExponentialDistribution, _doc(), "not a ExponentialDistribution"),
    (MultivariateGaussianDistribution, _doc(), "not a MultivariateGaussianDistribution"),
    (IndependentComponentsDistribution, _doc(), "not a IndependentComponentsDistribution"),
    (NormalDistribution, _doc(name="IndependentComponentsDistribution", parameters=[[_doc()], [1.0]]),
     "describes a IndependentComponentsDistribution"),
], ids=["normal<-mixture", "mixture<-normal", "lognormal<-normal", "exponential<-normal", "mvg<-normal",
        "icd<-normal", "normal<-icd"])
def test_from_json_of_another_class(cls, doc, match):
    with pytest.raises(ValueError, match=match):
        cls.from_json(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        cls.from_yaml(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        cls.from_dict(doc)


def test_pomegranate_document_through_wrong_class():
    with pytest.raises(ValueError, match="not a NormalDistribution"):
        NormalDistribution.from_json(POMEGRANATE_JSON)


def test_failed_from_json_leaves_existing_model_unchanged():
    model = GeneralMixtureModel.from_json(POMEGRANATE_JSON)
    model.distributions[1].freeze()
    before = _copy.deepcopy(model.to_dict())
    x = np.array([0.0, 1.5, 7.0])
    lp = model.log_probability(x)
    bad = json.loads(model.to_json())
    bad["weights"] = [-1.0, 2.0]
    for text in (json.dumps(bad), POMEGRANATE_JSON.replace("1.498707696758334", '"1.49"'),
                 POMEGRANATE_JSON.replace("NormalDistribution", "EvilDistribution", 1), "{"):
        with pytest.raises(ValueError):
            GeneralMixtureModel.from_json(text)
        with pytest.raises(ValueError):
            model.from_json(text)  # called through the instance: still a classmethod
    assert model.to_dict() == before
    assert_array_equal(model.log_probability(x), lp)


# ---------------------------------------------------------------------------------------------------------
# copy and pickle
# ---------------------------------------------------------------------------------------------------------

RNG_DATA = np.random.default_rng(12345)
DATA1 = RNG_DATA.normal(3.0, 2.0, size=40)
DATA2 = RNG_DATA.normal(-1.0, 0.5, size=25)


def _pickled(obj):
    return pickle.loads(pickle.dumps(obj))


COPIERS = [("copy", lambda o: o.copy()), ("pickle", _pickled), ("deepcopy", _copy.deepcopy)]


@pytest.mark.parametrize("how, dup", COPIERS, ids=[c[0] for c in COPIERS])
def test_copy_distribution_is_independent(how, dup):
    d = NormalDistribution(1.0, 2.0, min_std=0.01)
    c = dup(d)
    assert c is not d and c.parameters == [1.0, 2.0] and c.min_std == 0.01 and not c.frozen
    c.fit(DATA1)
    assert_allclose(c.parameters, [np.mean(DATA1), np.std(DATA1)], rtol=1e-13)
    assert d.parameters == [1.0, 2.0]
    assert_allclose(d.log_probability(DATA2), stats.norm.logpdf(DATA2, 1.0, 2.0), rtol=1e-13)

    m = MultivariateGaussianDistribution([0.0, 1.0], COV2, min_covar=1e-3)
    c = dup(m)
    X = np.column_stack([DATA1[:25], DATA2])
    c.fit(X)
    assert_allclose(c.parameters[0], X.mean(axis=0), rtol=1e-13)
    assert_allclose(c.parameters[1], np.cov(X.T, bias=True), rtol=1e-12)
    assert m.parameters == [[0.0, 1.0], COV2] and m.min_covar == 1e-3
    assert_allclose(m.log_probability(X), stats.multivariate_normal.logpdf(X, [0.0, 1.0], COV2), rtol=1e-12)

    icd = IndependentComponentsDistribution([NormalDistribution(0, 1), ExponentialDistribution(2.0)])
    c = dup(icd)
    assert all(a is not b for a, b in zip(c.distributions, icd.distributions))
    Y = np.column_stack([DATA1, np.abs(DATA1) + 0.5])
    c.fit(Y)
    assert_allclose(c.distributions[0].parameters, [np.mean(DATA1), np.std(DATA1)], rtol=1e-13)
    assert_allclose(c.distributions[1].parameters, [1.0 / np.mean(Y[:, 1])], rtol=1e-13)
    assert icd.distributions[0].parameters == [0.0, 1.0]
    assert icd.distributions[1].parameters == [2.0]


@pytest.mark.parametrize("how, dup", COPIERS, ids=[c[0] for c in COPIERS])
def test_copy_mixture_is_independent(how, dup):
    m = GeneralMixtureModel([NormalDistribution(3.0, 1.0), NormalDistribution(-1.0, 1.0, frozen=True)],
                            [0.5, 0.5])
    before = _copy.deepcopy(m.to_dict())
    c = dup(m)
    assert all(a is not b for a, b in zip(c.distributions, m.distributions))
    assert [x.frozen for x in c.distributions] == [False, True]
    c.fit(np.concatenate([DATA1, DATA2]), max_iterations=5)
    assert c.to_dict() != before
    assert c.distributions[1].parameters == [-1.0, 1.0]  # the frozen flag was carried over
    assert m.to_dict() == before
    x = np.array([-2.0, 0.0, 3.0])
    ref = logsumexp(np.log([0.5, 0.5]) + stats.norm.logpdf(x[:, None], [3.0, -1.0], [1.0, 1.0]), axis=1)
    assert_allclose(m.log_probability(x), ref, rtol=1e-13)


@pytest.mark.parametrize("how, dup", COPIERS, ids=[c[0] for c in COPIERS])
def test_copy_keeps_frozen_flags(how, dup):
    for obj in (NormalDistribution(0, 1, frozen=True), LogNormalDistribution(0, 1, frozen=True),
                ExponentialDistribution(1, frozen=True), MultivariateGaussianDistribution([0], [[1]], frozen=True),
                _icd(frozen=True), _frozen_mixture(), CASES[-2][1]()):
        c = dup(obj)
        assert _flags(c) == _flags(obj)
        assert _options(c) == _options(obj)
    fm = dup(_frozen_mixture())
    fm.fit(DATA1)
    assert fm.to_dict() == _frozen_mixture().to_dict()


@pytest.mark.parametrize("how, dup", COPIERS, ids=[c[0] for c in COPIERS])
def test_copy_carries_pending_summaries_of_distribution(how, dup):
    d = NormalDistribution(0.0, 1.0)
    d.summarize(DATA1)
    c = dup(d)
    _assert_stats_equal(c.summaries, d.summaries)
    c.summarize(DATA2)  # only the copy sees DATA2
    c.from_summaries()
    both = np.concatenate([DATA1, DATA2])
    assert_allclose(c.parameters, [np.mean(both), np.std(both)], rtol=1e-12)
    assert d.parameters == [0.0, 1.0] and d.summaries is not None
    d.from_summaries()
    assert_allclose(d.parameters, [np.mean(DATA1), np.std(DATA1)], rtol=1e-12)

    icd = IndependentComponentsDistribution([NormalDistribution(0, 1), ExponentialDistribution(1.0)])
    Y = np.column_stack([DATA1, np.abs(DATA1)])
    icd.summarize(Y)
    c = dup(icd)
    _assert_stats_equal(c.summaries, icd.summaries)
    c.from_summaries()
    assert_allclose(c.distributions[0].parameters, [np.mean(DATA1), np.std(DATA1)], rtol=1e-12)
    assert_allclose(c.distributions[1].parameters, [1.0 / np.mean(np.abs(DATA1))], rtol=1e-12)
    assert icd.distributions[0].parameters == [0.0, 1.0] and icd.summaries is not None


@pytest.mark.parametrize("how, dup", COPIERS, ids=[c[0] for c in COPIERS])
def test_copy_carries_pending_summaries_of_mixture(how, dup):
    means, stds, w = np.array([3.0, -1.0]), np.array([2.0, 0.5]), np.array([0.6, 0.4])
    m = GeneralMixtureModel([NormalDistribution(3.0, 2.0), NormalDistribution(-1.0, 0.5)], w)
    x = np.concatenate([DATA1, DATA2])
    m.summarize(x)
    c = dup(m)
    # reference E-step with scipy
    logp = np.log(w) + stats.norm.logpdf(x[:, None], means, stds)
    R = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
    assert_allclose(c.summaries, R.sum(axis=0), rtol=1e-12)
    assert_array_equal(c.summaries, m.summaries)
    for a, b in zip(c.distributions, m.distributions):
        _assert_stats_equal(a.summaries, b.summaries)
    c.from_summaries()
    ref_w = R.sum(axis=0) / R.sum()
    ref_mu = (R * x[:, None]).sum(axis=0) / R.sum(axis=0)
    ref_sd = np.sqrt((R * (x[:, None] - ref_mu) ** 2).sum(axis=0) / R.sum(axis=0))
    assert_allclose(c.weights, ref_w, rtol=1e-12)
    for j, comp in enumerate(c.distributions):
        assert_allclose(comp.parameters, [ref_mu[j], ref_sd[j]], rtol=1e-12)
    # the original still holds its statistics and its old parameters
    assert_allclose(m.summaries, R.sum(axis=0), rtol=1e-12)
    assert all(comp.summaries is not None for comp in m.distributions)
    assert_array_equal(m.weights, w)
    assert [comp.parameters for comp in m.distributions] == [[3.0, 2.0], [-1.0, 0.5]]
    m.from_summaries()
    assert m.to_dict() == c.to_dict()


def test_pickle_round_trip_preserves_everything():
    m = CASES[-1][1]()  # ICD + frozen MVG mixture
    m.summarize(X3[:4])
    p = _pickled(m)
    _assert_same_model(m, p, X3)
    assert_array_equal(p.summaries, m.summaries)
    for a, b in zip(p.distributions, m.distributions):
        _assert_stats_equal(a.summaries, b.summaries)
    p.from_summaries()
    m.from_summaries()
    assert p.to_dict() == m.to_dict()


@pytest.mark.parametrize("text", [
    '{"class":"GeneralMixtureModel","distributions":[%s,%s],"weights":[[0.5],[0.5]]}' % (json.dumps(_doc()),
                                                                                      json.dumps(_doc())),
    json.dumps(_doc(name="IndependentComponentsDistribution", parameters=[[_doc(), _doc()], [[1.0], [2.0]]])),
], ids=["mixture", "icd"])
def test_nested_weights_refused(text):
    with pytest.raises(ValueError, match="1-D"):
        genmix.from_json(text)
