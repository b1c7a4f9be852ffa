"""The validation report states the tolerances it applied; it needs frames to compare."""

import numpy as np
import pytest
import torch

import forcefields
from forcefields.errors import ShapeMismatchError
from forcefields.openmm_oracle import OpenMMOracle
from forcefields.validation import Discrepancy, ValidationReport, compare_with_openmm
from systems.files import charmm_files


def test_table_states_the_tolerances_it_applied_without_rounding_them():
    # ".0e" used to print 1.5e-8 as "1e-08" and 2.5e-4 as "2e-04": a report could say
    # "passed" at a relative error above the tolerance it showed.
    within = Discrepancy(max_abs=1.2e-8, max_rel=1.2e-8)
    report = ValidationReport(
        frames=3,
        dtype="float64",
        terms={"bond": within},
        total=within,
        forces=Discrepancy(max_abs=2.2e-4, max_rel=2.2e-4),
        tolerance=1.5e-8,
        force_tolerance=2.5e-4,
    )
    last = report.table().splitlines()[-1]
    assert report.passed
    assert "relative tolerance 1.5e-08 (energies), 0.00025 (forces): passed" in last


def test_table_names_the_unit_of_each_absolute_difference():
    # the "max |Δ|" column used to carry no unit, with energies and forces mixed in it
    within = Discrepancy(max_abs=1e-9, max_rel=1e-9)
    report = ValidationReport(3, "float64", {"bond": within}, within, within, 1e-8, 1e-4)
    rows = {line.split()[0]: line.split()[2] for line in report.table().splitlines()[2:-1]}
    assert rows == {"bond": "kJ/mol", "total": "kJ/mol", "forces": "kJ/mol/nm"}


def test_no_frames_is_a_shape_error_not_a_concatenate_traceback():
    files = charmm_files("butane", "default")
    energy = forcefields.load(files.psf, files.prm, dtype=torch.float64)
    oracle = OpenMMOracle(files.psf, files.prm)
    with pytest.raises(ShapeMismatchError, match="no frames"):
        compare_with_openmm(energy, oracle, np.zeros((0, 14, 3)))
