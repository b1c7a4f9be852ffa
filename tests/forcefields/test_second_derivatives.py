"""The energy and the alignment rotation are differentiable once: asking for a gradient
that can itself be differentiated is an error, never a gradient silently held constant."""

import mdtraj
import pytest
import torch

import forcefields
from forcefields.rotations import kabsch_rotation
from systems.files import charmm_files


@pytest.mark.parametrize("align", [None, "rigid"])
def test_a_gradient_with_create_graph_is_refused(align):
    files = charmm_files("butane", "default")
    reference = mdtraj.load(str(files.pdb)).xyz[0]
    options = {} if align is None else {"align": {"reference": reference, "mode": align}}
    energy = forcefields.load(files.psf, files.prm, dtype=torch.float64, **options)
    x = torch.tensor(reference, dtype=torch.float64)[None].repeat(2, 1, 1)
    x = (x + 0.01 * torch.randn_like(x)).requires_grad_()
    (first,) = torch.autograd.grad(energy(x).sum(), x)
    assert torch.isfinite(first).all()
    with pytest.raises(NotImplementedError, match="differentiable once"):
        torch.autograd.grad(energy(x).sum(), x, create_graph=True)


def test_the_kabsch_rotation_refuses_a_gradient_with_create_graph():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(3, 5, 3, generator=generator, dtype=torch.float64)
    points = (points - points.mean(1, keepdim=True)).requires_grad_()
    reference = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    reference = reference - reference.mean(0)
    (first,) = torch.autograd.grad(kabsch_rotation(points, reference).sum(), points)
    assert torch.isfinite(first).all()
    with pytest.raises(NotImplementedError, match="differentiable once"):
        torch.autograd.grad(kabsch_rotation(points, reference).sum(), points, create_graph=True)
