"""The public boundary's checks: integers that must be integers, thresholds, strings posing as numbers,
empty input, and error messages that show values as the user wrote them."""
import numpy as np
import pytest

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution, NormalDistribution


def two_normals():
    return GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(5, 1)])


@pytest.mark.parametrize("value", [2.0, np.float64(2.0), "2", True])
def test_n_components_must_be_an_int(value):
    X = np.r_[np.zeros(5), np.ones(5) * 5.0] + np.arange(10) * 0.01
    with pytest.raises(TypeError, match="'n_components' parameter must be an int"):
        GeneralMixtureModel.from_samples(NormalDistribution, n_components=value, X=X, random_state=0)


@pytest.mark.parametrize("value", [2.0, 1.5])
def test_sample_sizes_and_thread_counts_must_be_ints(value):
    with pytest.raises(TypeError, match="'n' parameter"):
        two_normals().sample(value)
    with pytest.raises(TypeError, match="'n_jobs' parameter"):
        two_normals().log_probability([1.0], n_jobs=value)


def test_max_iterations_keeps_accepting_pomegranates_float_default():
    model = two_normals().fit([0.1, 0.3, 4.9, 5.2, 5.1], max_iterations=1e8)
    assert model.distributions[0].parameters[0] == pytest.approx(0.2, abs=1e-6)


def test_messages_show_numbers_as_python_writes_them():
    with pytest.raises(ValueError) as info:
        two_normals().fit([1.0, 2.0], weights=np.array([1.0, -1.0]))
    assert "np.float64" not in str(info.value) and "-1.0" in str(info.value)
    with pytest.raises(ValueError) as info:
        NormalDistribution(0, np.float64(-1.0))
    assert "np.float64" not in str(info.value) and "Got -1.0 instead" in str(info.value)
    with pytest.raises(ValueError) as info:
        two_normals().fit([1.0, 2.0], inertia=np.float64(2.0))
    assert "np.float64" not in str(info.value)


@pytest.mark.parametrize("X", [np.array(["1.5", "2.0"]), np.array(["1.5", 2.0], dtype=object), [["1.5"], ["2"]]])
def test_numbers_written_as_strings_are_refused(X):
    model = two_normals()
    with pytest.raises(TypeError, match="the string '1.5'"):
        model.log_probability(X)
    with pytest.raises(TypeError, match="the string '1.5'"):
        model.fit(X)


def test_strings_in_a_numeric_column_of_mixed_data_are_refused():
    from genmix import DiscreteDistribution, IndependentComponentsDistribution

    model = GeneralMixtureModel([IndependentComponentsDistribution(
        [NormalDistribution(0, 1), DiscreteDistribution({"a": 0.5, "b": 0.5})])])
    with pytest.raises(TypeError, match="non-numeric value '1.5'"):
        model.log_probability(np.array([["1.5", "a"]], dtype=object))
    assert model.log_probability(np.array([[1.5, "a"]], dtype=object))[0] == pytest.approx(
        -0.5 * np.log(2 * np.pi) - 1.125 + np.log(0.5), rel=1e-12)


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("X", [[], np.array([])])
def test_empty_input_is_called_empty(d, X):
    model = (two_normals() if d == 1 else
             GeneralMixtureModel([MultivariateGaussianDistribution(np.zeros(3), np.eye(3))] * 2))
    with pytest.raises(ValueError, match="at least one sample; got an empty"):
        model.fit(X)
    with pytest.raises(ValueError, match="at least one sample; got an empty"):
        GeneralMixtureModel.from_samples(MultivariateGaussianDistribution if d > 1 else NormalDistribution,
                                         n_components=2, X=X)
    assert model.log_probability(X).shape == (0,)


def test_empty_input_to_a_distribution():
    from genmix import IndependentComponentsDistribution

    for d in (MultivariateGaussianDistribution(np.zeros(2), np.eye(2)),
              IndependentComponentsDistribution([NormalDistribution(0, 1)] * 2)):
        assert d.log_probability([]).shape == (0,)
        assert d.log_probability(np.empty((0, 2))).shape == (0,)
    with pytest.raises(ValueError, match="at least one sample"):
        MultivariateGaussianDistribution.from_samples([])


def test_shared_interval_constants_live_in_validation():
    """Constraints such as (0, inf) are defined once, in genmix/_validation.py, and imported elsewhere."""
    import ast
    import pathlib

    import genmix

    root = pathlib.Path(genmix.__file__).parent
    defined = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "_validation.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "Interval"):
                defined.append(f"{path.relative_to(root)}:{node.lineno}")
    assert defined == []
