"""Fixtures shared by the force-field tests: the bundled CHARMM files and test frames."""

import mdtraj
import numpy as np
import pytest

from systems.files import charmm_files

PARAMETER_SETS = [("butane", "default"), ("butane", "lipid"), ("dialanine", "default")]


def perturbed_frames(pdb, scales, per_scale: int, seed: int) -> np.ndarray:
    """The minimised structure plus Gaussian noise of each std in ``scales`` (nm)."""
    reference = mdtraj.load(str(pdb)).xyz[0].astype(np.float64)
    rng = np.random.default_rng(seed)
    frames = [
        reference[None] + rng.normal(scale=s, size=(per_scale, *reference.shape)) for s in scales
    ]
    return np.concatenate([reference[None], *frames])


@pytest.fixture(scope="module", params=PARAMETER_SETS, ids=lambda p: "-".join(p))
def charmm(request):
    return charmm_files(*request.param)
