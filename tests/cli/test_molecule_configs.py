"""The ``molgen reference`` command in each molecule config's comment, run literally from
the repository root, writes the data where the config reads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from molgen.training.config import load_config

ROOT = Path(__file__).parents[2]
CONFIGS = sorted((ROOT / "configs" / "molecules").glob("*.yaml"))


@pytest.mark.parametrize("config_path", CONFIGS, ids=lambda path: path.stem)
def test_commented_reference_out_is_where_the_config_reads_data(config_path: Path) -> None:
    commands = re.findall(r"^#.*molgen reference .*--out (\S+)$", config_path.read_text(), re.M)
    assert len(commands) == 1, f"{config_path.name}: expected one molgen reference comment"
    out = (ROOT / commands[0]).resolve()
    phases = [phase for phase in load_config(config_path).phases if phase.data is not None]
    data = [phase.data for phase in phases if phase.data.path is not None]
    assert data
    for entry in data:
        # the reference folder, so that training reads only its equilibrated frames
        assert entry.source == "reference"
        assert Path(entry.path) == out
