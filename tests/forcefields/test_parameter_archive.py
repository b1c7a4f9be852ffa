"""Force-field parameters saved to an .npz (for machines without parmed) load back equal."""

import numpy as np
import pytest
import torch

import forcefields
from forcefields.parameters import load_parameters, save_parameters
from systems.files import charmm_files


def test_saved_parameters_give_the_same_energy(tmp_path):
    files = charmm_files("dialanine")
    parameters = forcefields.read_charmm(files.psf, files.prm)
    path = tmp_path / "parameters.npz"
    save_parameters(parameters, path)
    assert path.stat().st_mode & 0o777 == 0o644
    loaded = load_parameters(path)
    x = torch.as_tensor(np.random.default_rng(0).normal(0, 0.3, (4, 22, 3)))
    # same arrays, same float64 arithmetic: equal to the last bit
    assert torch.equal(
        forcefields.Energy(loaded, clip="default")(x),
        forcefields.Energy(parameters, clip="default")(x),
    )


def test_an_interrupted_save_keeps_the_earlier_archive(tmp_path, monkeypatch):
    files = charmm_files("butane")
    parameters = forcefields.read_charmm(files.psf, files.prm)
    path = tmp_path / "parameters.npz"
    save_parameters(parameters, path)
    before = path.read_bytes()

    def interrupted(file, **arrays):
        # half an archive written, then Ctrl-C
        if hasattr(file, "write"):
            file.write(b"PK half")
        else:
            with open(file, "wb") as stream:
                stream.write(b"PK half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_parameters(parameters, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["parameters.npz"]


def test_a_path_without_the_suffix_gets_it(tmp_path):
    files = charmm_files("butane")
    save_parameters(forcefields.read_charmm(files.psf, files.prm), tmp_path / "parameters")
    assert [p.name for p in tmp_path.iterdir()] == ["parameters.npz"]
