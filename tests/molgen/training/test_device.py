"""``molgen train`` on a GPU: a run stopped and resumed there continues (runs where CUDA is)."""

from __future__ import annotations

import pytest
import torch

from molgen.training import config_from_mapping, load_checkpoint, train
from tests.molgen.training.identical import assert_identical_tensors
from tests.molgen.training.tiny import tiny_config

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@needs_cuda
def test_a_gpu_run_resumes_to_the_uninterrupted_parameters(tmp_path):
    # the checkpoint's random-number states must come back as CPU tensors even when the
    # model lives on the GPU; the resumed run then draws the same batches as the whole one
    config = config_from_mapping(tiny_config(device="cuda"))
    train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "split", stop_at_step=17, progress=False)
    result = train(config, tmp_path / "split", resume=True, progress=False)
    assert result.finished and result.step == 24
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.pt")["model"]
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "final.pt")["model"]
    # same device, same kernels, same inputs: bitwise on one GPU
    assert_identical_tensors(whole, split)
