"""Langevin dynamics in the "middle" splitting of OpenMM's ``LangevinMiddleIntegrator``.

One step of length ``Δt`` with forces ``F(x)`` already known at the start (Zhang et al.,
the scheme OpenMM calls LangevinMiddle, BAOAB with the two half kicks merged):

    v ← v + Δt F(x) / m                       (B, a full kick)
    x ← x + Δt/2 v                            (A)
    v ← a v + sqrt((1 − a²) k_B T / m) ξ       (O, a = exp(−γ Δt), ξ ~ N(0, 1))
    x ← x + Δt/2 v                            (A)

after which the caller evaluates ``F`` at the new ``x``. For a harmonic potential this
chain samples positions and velocities exactly from the Boltzmann distribution at any
stable step (the stationary covariance of the linear map is ``k_B T/k`` and ``k_B T/m``),
but the two are correlated: ``E[v | x] = −Δt/2 F(x)/m``. The shifted velocities
``v + Δt/2 F(x)/m`` (BAOAB's on-step velocities) are
independent of ``x`` with a variance proportional to ``T``, so a replica that changes
temperature is moved exactly by rescaling those (:meth:`LangevinMiddle.rescale`).
Units: nm, ps, dalton, kJ/mol (consistent: 1 kJ/mol = 1 Da nm²/ps²), K.

References:
    Zhang, Liu, Zhang (2019), J. Phys. Chem. A 123, 6056; OpenMM
    ``LangevinMiddleIntegrator``.

Example (a sketch: ``masses``, ``temperatures``, ``x``, ``v`` and ``forces`` are the
caller's)::

    integrator = LangevinMiddle(masses, temperatures, timestep=0.001, friction=1.0)
    x, v = integrator.step(x, v, forces, torch.randn_like(v))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from forcefields.units import BOLTZMANN_KJ_PER_MOL_K

__all__ = ["LangevinMiddle"]


class LangevinMiddle:
    """Langevin-middle steps of states ``(L, K, N, 3)``: ``L`` copies of ``K`` temperatures.

    Arguments:
        masses: ``(N,)`` atomic masses in dalton.
        temperatures: ``(K,)`` temperatures in K; slot ``k`` of axis 1 is thermostatted at
            ``temperatures[k]``.
        timestep: ``Δt`` in ps.
        friction: collision rate ``γ`` in 1/ps.
        dtype: floating-point type of the states.
        device: where the states live (``"cpu"``, ``"cuda"``, …).
    """

    def __init__(
        self,
        masses: np.ndarray | torch.Tensor,
        temperatures: Sequence[float] | np.ndarray,
        timestep: float,
        friction: float,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ):
        masses = torch.as_tensor(np.asarray(masses, dtype=np.float64))
        kT = BOLTZMANN_KJ_PER_MOL_K * torch.as_tensor(np.asarray(temperatures, dtype=np.float64))
        damping = math.exp(-friction * timestep)
        self.timestep = float(timestep)
        self.damping = damping
        # (1, 1, N, 1) and (1, K, N, 1): broadcast against (L, K, N, 3).
        self.inverse_mass = (1.0 / masses).reshape(1, 1, -1, 1).to(device, dtype)
        thermal_velocity = torch.sqrt(kT[:, None] / masses[None]).reshape(1, len(kT), -1, 1)
        self.thermal_velocity = thermal_velocity.to(device, dtype)
        self.noise_scale = math.sqrt(1.0 - damping * damping) * self.thermal_velocity

    def step(
        self,
        positions: torch.Tensor,
        velocities: torch.Tensor,
        forces: torch.Tensor,
        noise: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: new ``(positions, velocities)``, each ``(L, K, N, 3)``.

        Arguments:
            positions: ``(L, K, N, 3)`` nm. velocities: ``(L, K, N, 3)`` nm/ps.
            forces: ``(L, K, N, 3)`` kJ/mol/nm at ``positions``.
            noise: ``(L, K, N, 3)`` standard normal numbers.
        """
        half = 0.5 * self.timestep
        velocities = velocities + self.timestep * self.inverse_mass * forces
        positions = positions + half * velocities
        velocities = self.damping * velocities + self.noise_scale * noise
        return positions + half * velocities, velocities

    def rescale(
        self, velocities: torch.Tensor, forces: torch.Tensor, factor: torch.Tensor
    ) -> torch.Tensor:
        """Velocities ``(L, K, N, 3)`` moved to a temperature ``factor²`` times the current one.

        Arguments:
            velocities: ``(L, K, N, 3)`` nm/ps; forces: ``(L, K, N, 3)`` kJ/mol/nm at the
                replicas' positions; factor: ``sqrt(T_new / T_old)`` broadcasting against
                them (e.g. ``(L, K, 1, 1)``).

        Only the part of ``v`` independent of the positions is rescaled:
        ``v' = factor (v + Δt/2 F/m) − Δt/2 F/m``, exact for harmonic forces.
        """
        lag = 0.5 * self.timestep * self.inverse_mass * forces
        return factor * (velocities + lag) - lag

    def maxwell_boltzmann(self, noise: torch.Tensor) -> torch.Tensor:
        """Velocities ``(L, K, N, 3)`` nm/ps from standard normal ``noise`` of that shape."""
        return self.thermal_velocity * noise
