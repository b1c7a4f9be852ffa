"""``benchmarks.energy_device``: option checks made before any export."""

from __future__ import annotations

import pytest

from benchmarks.energy_device import main


@pytest.mark.parametrize("frames", ["0", "3", "1001"])
def test_frames_that_are_not_a_multiple_of_the_four_scales_are_refused(tmp_path, frames):
    # The frames are split evenly over four perturbation scales: 1001 would silently export
    # 1000, 3 none at all.
    out = tmp_path / "device_data"
    with pytest.raises(SystemExit) as raised:
        main(["export", "--out", str(out), "--frames", frames])
    assert raised.value.code == 2
    assert not out.exists()
