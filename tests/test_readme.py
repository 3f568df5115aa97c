"""The README's Python example runs and shows the documented numbers."""
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    code = re.search(r"## Example\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    clf = namespace["clf"]
    assert np.isclose(clf.weights[0], 0.6012087742535696, rtol=1e-9)
    assert '"class" : "GeneralMixtureModel"' in capsys.readouterr().out
    assert namespace["fitted"].n == 2


def test_readme_model_selection_snippet_runs(faithful_selection, monkeypatch):
    """The "Choosing a model" snippet runs and picks what its comment says. Its Old Faithful call is the
    session's ``faithful_selection`` (the same call, made once); every other call runs as written."""
    import matplotlib

    import genmix

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faithful, computed = faithful_selection
    real = genmix.select

    def select(X, n_components=range(1, 10), **options):
        if options == {"random_state": 0} and list(n_components) == list(range(1, 10)) \
                and np.array_equal(X, faithful):
            return computed
        return real(X, n_components, **options)

    monkeypatch.setattr(genmix, "select", select)
    code = re.search(r"## Choosing a model\n.*?```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    selection = namespace["selection"]
    assert (selection.best_params_["model"], selection.best_params_["n_components"]) == ("tied", 3)
    assert namespace["by_family"].best_params_["n_components"] in (1, 2, 3)
    plt.close("all")
