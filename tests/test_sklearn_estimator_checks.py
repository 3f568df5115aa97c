"""scikit-learn's own estimator checks on genmix's estimators."""
import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from genmix.sklearn import GaussianMixture, GeneralMixture  # noqa: E402


@parametrize_with_checks([GaussianMixture(), GeneralMixture()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
