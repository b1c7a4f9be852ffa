"""The systems molgen samples: CHARMM molecules, double wells, their observables."""
