"""``molgen reference --plots`` writes the reference plots next to ``stats.json``."""

from __future__ import annotations

from cli.main import main


def test_reference_with_plots_writes_pngs(tmp_path):
    out = tmp_path / "ref"
    argv = ["reference", "double_well_2d", "--iterations", "40", "--out", str(out)]
    status = main([*argv, "--plots", "--no-progress"])
    assert status == 0
    for name in ("energy_histogram.png", "populations_vs_time.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
