"""``benchmarks.jko_em_mixtures``: the mixture-by-mixture join and the wall-clock rule."""

from __future__ import annotations

import json

import pytest

from benchmarks import jko_em_mixtures
from forcefields.errors import InputFileError

JKO_LABEL = "JKO-ICNN (1000 it/step, 262144 particles, width 128x128)"


def _report(path, rows, command="OMP_NUM_THREADS=1 python -m benchmarks.jko"):
    runs = [
        {"preset": "mixture", "dim": d, "seed": s, "method": m, "symkl": v, "seconds": t}
        for d, s, m, v, t in rows
    ]
    path.write_text(json.dumps({"command": command, "summary": [], "runs": runs}))
    return path


def test_euler_maruyama_counts_only_within_the_jko_seconds(tmp_path):
    jko = _report(
        tmp_path / "jko.json",
        [(8, 0, JKO_LABEL, 0.40, 1000.0), (8, 1, JKO_LABEL, 0.30, 1000.0)],
    )
    em = _report(
        tmp_path / "em.json",
        [
            # mixture 0: the 10^5 run is lower but took longer than JKO-ICNN: it does not count
            (8, 0, "Euler-Maruyama (10000 particles, dt 1e-3)", 0.50, 30.0),
            (8, 0, "Euler-Maruyama (100000 particles, dt 1e-3)", 0.20, 1500.0),
            # mixture 1: Euler–Maruyama lower within the time
            (8, 1, "Euler-Maruyama (10000 particles, dt 1e-3)", 0.25, 30.0),
            # a mixture without a JKO-ICNN run is left out
            (8, 7, "Euler-Maruyama (10000 particles, dt 1e-3)", 0.10, 30.0),
        ],
    )
    out = tmp_path / "table.md"
    argv = ["--jko-reports", str(jko), "--em-reports", str(em), "--out", str(out)]
    assert jko_em_mixtures.main(argv) == 0
    table = out.read_text()
    assert "| 8 | 0 | 0.400 (1000 s) |" in table and "| 0.500 (1e+04) | yes |" in table
    assert "| 8 | 1 | 0.300 (1000 s) |" in table and "| 0.250 (1e+04) | no |" in table
    assert "| 8 | 7 |" not in table
    assert "JKO-ICNN lower on 1 of 2 mixtures." in table


def test_no_common_mixture_is_an_error(tmp_path):
    jko = _report(tmp_path / "jko.json", [(8, 0, JKO_LABEL, 0.4, 10.0)])
    em = _report(tmp_path / "em.json", [(8, 1, "Euler-Maruyama (10 particles, dt 1e-3)", 1, 1)])
    argv = ["--jko-reports", str(jko), "--em-reports", str(em), "--out", str(tmp_path / "t.md")]
    with pytest.raises(InputFileError, match="no mixture has both"):
        jko_em_mixtures.main(argv)


def test_recorded_command_quotes_its_arguments(tmp_path):
    jko = _report(tmp_path / "jko.json", [(8, 0, JKO_LABEL, 0.4, 10.0)])
    em = _report(tmp_path / "em.json", [(8, 0, "Euler-Maruyama (10 particles, dt 1e-3)", 1, 1)])
    out = tmp_path / "a table.md"
    argv = ["--jko-reports", str(jko), "--em-reports", str(em), "--out", str(out)]
    jko_em_mixtures.main(argv)
    assert f"--out '{out}'`" in out.read_text()


def test_published_updates_select_the_1000_update_runs_of_a_low_dimension(tmp_path):
    short = "JKO-ICNN (200 it/step, 262144 particles, width 128x128)"
    jko = _report(
        tmp_path / "jko.json", [(2, 0, short, 0.05, 500.0), (2, 0, JKO_LABEL, 0.03, 2000.0)]
    )
    em = _report(
        tmp_path / "em.json", [(2, 0, "Euler-Maruyama (100000 particles, dt 1e-3)", 0.04, 100.0)]
    )
    out = tmp_path / "table.md"
    argv = ["--jko-reports", str(jko), "--em-reports", str(em), "--out", str(out)]
    assert jko_em_mixtures.main(argv) == 0
    assert "| 2 | 0 | 0.050 (500 s) |" in out.read_text()
    assert jko_em_mixtures.main([*argv, "--published-updates", "2"]) == 0
    assert "| 2 | 0 | 0.030 (2000 s) |" in out.read_text()


def test_mixture_key_joins_only_runs_on_the_keyed_mixtures(tmp_path):
    label = "JKO-ICNN (500 it/step, 262144 particles, width 128x128)"
    jko = _report(tmp_path / "jko.json", [(2, 0, label, 0.08, 900.0), (2, 1, label, 0.03, 900.0)])
    rows = json.loads(jko.read_text())
    rows["runs"][0]["mixture_key"] = "published"
    jko.write_text(json.dumps(rows))
    em = _report(
        tmp_path / "em.json",
        [
            (2, 0, "Euler-Maruyama (300000 particles, dt 1e-3)", 0.11, 500.0),
            (2, 1, "Euler-Maruyama (300000 particles, dt 1e-3)", 0.01, 500.0),
        ],
    )
    rows = json.loads(em.read_text())
    rows["runs"][0]["mixture_key"] = "published"
    em.write_text(json.dumps(rows))
    out = tmp_path / "table.md"
    argv = ["--jko-reports", str(jko), "--em-reports", str(em), "--out", str(out)]
    assert jko_em_mixtures.main([*argv, "--updates", "500", "--mixture-key", "published"]) == 0
    table = out.read_text()
    assert "| 2 | 0 | 0.080 (900 s) |" in table and "| 2 | 1 |" not in table
    assert "JKO-ICNN lower on 1 of 1 mixtures." in table
    # Without the key only the seed-drawn mixture 1 joins.
    assert jko_em_mixtures.main([*argv, "--updates", "500"]) == 0
    table = out.read_text()
    assert "| 2 | 1 | 0.030 (900 s) |" in table and "| 2 | 0 |" not in table


def test_updates_applies_in_dimensions_outside_the_table(tmp_path):
    slow = "JKO-ICNN (1000 it/step, 262144 particles, width 128x128)"
    fast = "JKO-ICNN (500 it/step, 262144 particles, width 128x128)"
    jko = _report(tmp_path / "jko.json", [(3, 0, slow, 0.9, 5000.0), (3, 0, fast, 0.2, 900.0)])
    em = _report(
        tmp_path / "em.json", [(3, 0, "Euler-Maruyama (1000 particles, dt 1e-3)", 0.5, 9.0)]
    )
    out = tmp_path / "table.md"
    argv = ["--jko-reports", str(jko), "--em-reports", str(em), "--out", str(out)]
    assert jko_em_mixtures.main([*argv, "--updates", "500"]) == 0
    assert "| 3 | 0 | 0.200 (900 s) |" in out.read_text()


def test_a_mixture_given_twice_is_refused_naming_both_reports(tmp_path):
    # Two JKO-ICNN runs of one (D, seed) with the same settings: keeping either silently
    # would pick the number compared.
    first = _report(tmp_path / "first.json", [(8, 0, JKO_LABEL, 0.40, 1000.0)])
    second = _report(tmp_path / "second.json", [(8, 0, JKO_LABEL, 0.35, 900.0)])
    em = _report(tmp_path / "em.json", [(8, 0, "Euler-Maruyama (10 particles, dt 1e-3)", 1, 1)])
    out = tmp_path / "table.md"
    argv = ["--jko-reports", str(first), str(second), "--em-reports", str(em), "--out", str(out)]
    with pytest.raises(InputFileError, match="dimension 8, seed 0: given twice") as raised:
        jko_em_mixtures.main(argv)
    assert str(first) in str(raised.value) and str(second) in str(raised.value)
    assert not out.exists()
