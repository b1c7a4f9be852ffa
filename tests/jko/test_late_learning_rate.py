"""The two-stage learning rate reaches the optimiser of every JKO step."""

from molgen.jko.config import config_from_dict
from molgen.jko.flow import JKOFlow
from molgen.jko.presets import build_problem
from molgen.jko.run import run_flow

SMALL = {
    "preset": "porous",
    "dim": 1,
    "seed": 4,
    "evaluation_samples": 100,
    "network": {"hidden": [8, 8]},
    "flow": {
        "step_size": 0.01,
        "steps": 4,
        "iterations": 2,
        "batch_size": 64,
        "cloud_size": 128,
        "learning_rate": 5e-3,
        "late_learning_rate": 2e-3,
        "late_from_step": 3,
    },
}


def test_each_step_fits_with_its_stage_learning_rate(monkeypatch):
    used = []
    original_step = JKOFlow.step

    def recording_step(self, *args, **kwargs):
        used.append(self.settings.learning_rate)
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(JKOFlow, "step", recording_step)
    config = config_from_dict(SMALL)
    run_flow(config, build_problem(config), progress=False)
    assert used == [5e-3, 5e-3, 2e-3, 2e-3]
