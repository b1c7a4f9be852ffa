"""benchmarks.error_bar_coverage: with benign importance weights the reported standard
errors cover the truth at about the nominal rate."""

from __future__ import annotations

from benchmarks.error_bar_coverage import PARETO_K, coverage


def test_benign_weights_cover_at_about_the_nominal_rate():
    table = coverage(0.5, 1.2, 1000, 200, seed=0)
    # the weights are bounded (the proposal is wider than the target): no tail index
    # above one half, so every repetition counts among those with k̂ <= 0.5
    assert table.pop(PARETO_K)["above_half"] == 0.0
    for key, row in table.items():
        assert row["light"]["given"] == row["given"], key
        assert row["given"] == 200, key
        # nominal 0.954 (0.95 for the interval); 200 repetitions give a Monte-Carlo
        # standard error of 0.015, so 0.90 is more than three below
        assert 0.90 <= row["two"] <= 1.0, (key, row)


def test_the_block_bootstrap_interval_of_a_chain_covers_near_the_nominal_rate():
    from benchmarks.error_bar_coverage import correlated_log_z_coverage

    chain = correlated_log_z_coverage(0.9, 5000, 150, seed=0)
    assert chain["given"] == 150
    # nominal 0.95; 150 repetitions give a Monte-Carlo standard error of 0.018, so 0.90 is
    # 2.8 below it (blocks of one statistical inefficiency covered 0.87 here)
    assert chain["interval"] >= 0.90
    assert chain["two"] >= 0.90
