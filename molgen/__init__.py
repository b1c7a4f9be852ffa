"""Boltzmann generators: flows, losses, training, sampling and estimation."""
