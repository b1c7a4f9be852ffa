"""Linear groups make a torsion or a hydrogen frame undefined: both generators refuse them."""

from __future__ import annotations

from types import SimpleNamespace

import mdtraj
import numpy as np
import pytest

from forcefields.errors import ConfigError
from molgen.flows import Flow, double_well_stack
from molgen.generators.collinear import refuse_collinear
from molgen.generators.internal import internal_generator
from molgen.generators.molecular import molecular_generator

TETRAHEDRAL = np.array([[-0.036, 0.097, 0.0], [-0.036, -0.049, 0.084], [-0.036, -0.049, -0.084]])


def _propyne() -> SimpleNamespace:
    """Propyne, CH3-C≡C-H: its three carbons and the acetylenic hydrogen on one line."""
    topology = mdtraj.Topology()
    residue = topology.add_residue("PRY", topology.add_chain())
    carbon, hydrogen = mdtraj.element.carbon, mdtraj.element.hydrogen
    c1, c2, c3 = (topology.add_atom(f"C{i}", carbon, residue) for i in (1, 2, 3))
    h3 = topology.add_atom("H3", hydrogen, residue)
    methyl = [topology.add_atom(f"H1{i}", hydrogen, residue) for i in (1, 2, 3)]
    for a, b in [(c1, c2), (c2, c3), (c3, h3), *[(c1, h) for h in methyl]]:
        topology.add_bond(a, b)
    positions = np.concatenate(
        [[[0, 0, 0], [0.146, 0, 0], [0.266, 0, 0], [0.326, 0, 0]], TETRAHEDRAL]
    )
    return SimpleNamespace(
        name="propyne",
        topology=topology,
        positions=positions,
        heavy_atoms=np.array([0, 1, 2]),
        hydrogens=np.array([3, 4, 5, 6]),
        hydrogen_parents=np.array([2, 0, 0, 0]),
        beta=0.4,
    )


def test_a_right_angle_passes_and_a_straight_or_folded_one_is_named():
    positions = np.array([[0.1, 0, 0], [0, 0, 0], [0, 0.1, 0], [-0.1, 0.001, 0], [0.1, 0.001, 0]])
    names = ["A", "B", "C", "D", "E"]
    refuse_collinear(positions, [[0, 1, 2]], names, "test")
    with pytest.raises(ConfigError, match=r"D \(3\)-B \(1\)-A \(0\)"):
        refuse_collinear(positions, [[0, 1, 2], [3, 1, 0]], names, "test")
    with pytest.raises(ConfigError, match=r"E \(4\)-B \(1\)-A \(0\)"):
        refuse_collinear(positions, [[4, 1, 0]], names, "test")


def test_the_cartesian_generator_refuses_a_hydrogen_frame_on_a_line():
    propyne = _propyne()
    heavy_flow = Flow(double_well_stack(9, width=8, repeats=1), 9)
    with pytest.raises(ConfigError, match="propyne: hydrogen frames.*C2 \\(1\\)-C3 \\(2\\)"):
        molecular_generator(propyne, heavy_flow, "deterministic", 8, 1)


def test_the_internal_generator_refuses_a_torsion_axis_on_a_line():
    propyne = _propyne()
    # refused before the pose is used, so none is built
    with pytest.raises(ConfigError, match="propyne: internal coordinates.*on a line"):
        internal_generator(propyne, None, 8, 1, 8, 1)
