"""Smoke runs of the benchmark harness: correctness only (log-likelihood agreement), never timings."""
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


@pytest.fixture(scope="module")
def bench_path():
    sys.path.insert(0, BENCH)
    try:
        yield BENCH
    finally:
        sys.path.remove(BENCH)


def test_harness_compare_interleaves_and_reports_ratios(bench_path):
    from _harness import Case, compare, format_table

    calls = []
    results = compare([Case("a", lambda: calls.append("a")), Case("b", lambda: calls.append("b"))],
                      baseline="b", repeats=3, warmup=1, limits=1)
    assert calls.count("a") == calls.count("b") == 4  # 1 warm-up + 3 timed rounds each
    assert calls[:4] == ["a", "b", "b", "a"]  # the first case rotates every round
    assert [r.name for r in results] == ["a", "b"] and all(len(r.times) == 3 for r in results)
    assert results[1].ratio == 1.0
    assert "| a |" in format_table(results)
    with pytest.raises(ValueError, match="baseline"):
        compare([Case("a", lambda: None)], baseline="z")


# At 1% of its size the d=32 workload has ~250 rows per component: from_samples' k-means clusters can be
# smaller than d, and genmix then floors the covariance with a NumericalWarning, as documented.
@pytest.mark.filterwarnings("ignore::genmix.NumericalWarning")
def test_bench_em_smoke_agrees_with_sklearn(bench_path, capsys):
    """Every workload at 1% of its size, one round: the log-likelihoods must agree to 1e-8."""
    import bench_em

    assert bench_em.main(["--scale", "0.01", "--repeats", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    table = out.split("## Log-likelihood agreement")[1].split("##")[0]
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and "workload" not in line and not line.startswith("| ---")]
    assert len(rows) == len(bench_em.WORKLOADS)
    assert all(row.rstrip().endswith("| yes |") for row in rows), table


def test_bench_peers_cases_run_in_their_own_processes_and_agree(bench_path, tmp_path):
    """bench_peers' protocol on a small problem: each case a subprocess on the saved data; genmix (one
    thread, two threads, float32) and scikit-learn reach the same 5-iteration log-likelihood."""
    import bench_peers

    bench_peers.write_problem("full", 3000, 3, 3, str(tmp_path), with_r=False)
    results = {case: bench_peers.run_case(sys.executable, case, "full", str(tmp_path), 1, threads, 1)
               for case, threads in [("genmix", 1), ("genmix n_jobs=2", 2), ("genmix float32", 1),
                                     ("sklearn 1 thread", 1)]}
    for case, (per, loglik, failure) in results.items():
        assert failure == "" and per == per, (case, failure)  # a time, not NaN
    reference = results["sklearn 1 thread"][1]
    assert abs(results["genmix"][1] - reference) <= 1e-8 * abs(reference)
    assert abs(results["genmix n_jobs=2"][1] - reference) <= 1e-8 * abs(reference)
    assert abs(results["genmix float32"][1] - reference) <= 1e-6 * abs(reference)
