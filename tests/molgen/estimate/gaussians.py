"""Analytic 1-D Gaussian cases: targets ``exp(−x²/(2σ²))`` and Gaussian proposals.

With ``U(x) = x² / (2σ²)`` (β = 1) the partition function is ``Z = sqrt(2π) σ``, so
``ΔF = F_C − F_B = −ln(σ_C / σ_B)``; ``E_B[x²] = σ_B²``; and for a proposal
``N(0, σ_G²)`` the moments of the normalised weight ``p_B / p_G`` are
``E_G[(p_B/p_G)^k] = σ_B^{−k} σ_G^{k−1} / sqrt(k/σ_B² − (k−1)/σ_G²)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def reduced_energy(x: np.ndarray, sigma: float) -> np.ndarray:
    """``U(x) = x² / (2σ²)`` of the target with width ``sigma``."""
    return x**2 / (2.0 * sigma**2)


def log_normal_density(x: np.ndarray, mean: float, sigma: float) -> np.ndarray:
    """``log N(x; mean, σ²)``."""
    return -((x - mean) ** 2) / (2.0 * sigma**2) - math.log(sigma) - LOG_SQRT_2PI


def importance_samples(
    rng: np.random.Generator, n: int, sigma_b: float, mean_g: float, sigma_g: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, log_w)``: ``n`` draws of ``N(mean_g, σ_G²)`` with ``log w = −U_B − log p_G``."""
    x = rng.normal(mean_g, sigma_g, n)
    return x, -reduced_energy(x, sigma_b) - log_normal_density(x, mean_g, sigma_g)


def log_partition(sigma: float) -> float:
    """``log Z = log(sqrt(2π) σ)``."""
    return math.log(sigma) + LOG_SQRT_2PI


def weight_moment(k: int, sigma_b: float, sigma_g: float) -> float:
    """``E_G[(p_B/p_G)^k]`` for zero-mean ``p_B = N(0, σ_B²)``, ``p_G = N(0, σ_G²)``."""
    return sigma_b ** (-k) * sigma_g ** (k - 1) / math.sqrt(k / sigma_b**2 - (k - 1) / sigma_g**2)


def overlap_coefficient(sigma_1: float, sigma_2: float) -> float:
    """``∫ min(p_1, p_2)`` of ``N(0, σ_1²)`` and ``N(0, σ_2²)`` with ``σ_1 < σ_2``."""
    crossing = math.sqrt(
        2.0 * sigma_1**2 * sigma_2**2 * math.log(sigma_2 / sigma_1) / (sigma_2**2 - sigma_1**2)
    )
    inner = 2.0 * norm.cdf(crossing / sigma_2) - 1.0
    outer = 2.0 * norm.sf(crossing / sigma_1)
    return inner + outer


def autoregressive(rng: np.random.Generator, n: int, sigma: float, rho: float) -> np.ndarray:
    """A stationary AR(1) series ``(n,)`` with marginal ``N(0, σ²)`` and lag-1 correlation
    ``rho`` (statistical inefficiency ``(1 + ρ)/(1 − ρ)``)."""
    noise = rng.normal(0.0, sigma * math.sqrt(1 - rho**2), n)
    series = np.empty(n)
    series[0] = rng.normal(0.0, sigma)
    for t in range(1, n):
        series[t] = rho * series[t - 1] + noise[t]
    return series
