"""Drawing samples from a trained run and writing them with per-sample arrays.

``sample_run(run_dir, n, out)`` loads a checkpoint, draws ``n`` samples in chunks
(reproducible frame for frame for a given seed), and writes them atomically: toys to
``FILE`` (``.npz``), molecules to an mdtraj trajectory plus the sidecar ``FILE.npz``. A
killed call resumes from the chunks already written (drawing unreadable ones again).
"""

from molgen.sampling.chunks import SampleOutput, sample_run
from molgen.sampling.generator import LoadedRun, draw_samples, latent_points, load_run
from molgen.sampling.writers import sidecar_path, write_trajectory_atomic

__all__ = [
    "LoadedRun",
    "SampleOutput",
    "draw_samples",
    "latent_points",
    "load_run",
    "sample_run",
    "sidecar_path",
    "write_trajectory_atomic",
]
