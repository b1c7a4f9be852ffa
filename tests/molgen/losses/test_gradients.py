"""Every loss on a Gaussian target with an exact flow: zero gradient at p_G = p_B, sign off it.

The flow is ``N(b, diag(d^2))`` (diagonal + bias), the target ``N(mu, diag(s^2))``. Each
gradient is estimated over ``REPEATS`` independent batches; the test compares its mean with
the standard error of that mean.
"""

from __future__ import annotations

import pytest
import torch

from molgen.losses import (
    AdaptiveModeWeights,
    RatioModeWeights,
    UnderSampledCache,
    get_loss,
)
from tests.molgen.losses.gaussian import (
    TARGET_MEAN,
    TARGET_STD,
    gaussian_flow,
    scale_and_shift_gradients,
    target_energy,
    target_samples,
)

REPEATS = 16
# pl2_bb weights both points of a pair by p_B / p_G: its gradient is much noisier.
NOISY_REPEATS = {"pl2_bb": 96}
N = 512
# Sinkhorn costs O(N^2) per iteration: a smaller batch keeps the test short.
BATCH_SIZES = {"sinkhorn_dd": 128, "sinkhorn_df": 128}
# With 16 batches the t-statistic has 15 degrees of freedom: |t| > 5 has probability
# ~1.6e-4, so 5 standard errors bounds Monte-Carlo noise; 1e-9 absorbs float64 round-off
# for losses whose gradient at p_G = p_B is exactly zero (constant log-ratio).
SIGMAS = 5.0
ROUND_OFF = 1e-9


def _mode_of(x: torch.Tensor) -> torch.Tensor:
    return (x[:, 0] > TARGET_MEAN[0]).long()


def _options(name: str) -> dict:
    if name == "kl_x_reweighted":
        return {"mode_of": _mode_of, "mode_weights": RatioModeWeights([0.5, 0.5])}
    if name == "kl_x_reweighted_adaptive":
        return {"mode_of": _mode_of, "mode_weights": AdaptiveModeWeights([0.5, 0.5])}
    if name == "pl2_cb":
        return {"cache": UnderSampledCache()}
    if name.startswith("sinkhorn"):
        return {"epsilon": 0.1, "iterations": 100}
    return {}


LOSS_CASES = {
    "kl_x": "kl_x",
    "kl_z_dd": "kl_z_dd",
    "kl_z_df": "kl_z_df",
    "kl_z_df_std": "kl_z_df",
    "kl_z_df_clamp": "kl_z_df",
    "kl_x_reweighted": "kl_x_reweighted",
    "kl_x_reweighted_adaptive": "kl_x_reweighted",
    "renyi_half": "renyi_half",
    "pl2_gg": "pl2_gg",
    "pl2_bb": "pl2_bb",
    "pl2_gb": "pl2_gb",
    "pl2_cb": "pl2_cb",
    "l2_plus": "l2_plus",
    "sinkhorn_dd": "sinkhorn_dd",
    "sinkhorn_df": "sinkhorn_df",
}
WEIGHT_VARIANTS = {"kl_z_df_std": {"weights": "std", "temperature": 2.0}}
WEIGHT_VARIANTS |= {"kl_z_df_clamp": {"weights": "clamp"}}


def _gradients(case: str, std: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Gradients ``(REPEATS, 4)`` over independent batches (two warm-up calls for state)."""
    name = LOSS_CASES.get(case, case)
    loss = get_loss(name, **(_options(case) | WEIGHT_VARIANTS.get(case, {})))
    rows = []
    for repeat in range(NOISY_REPEATS.get(case, REPEATS) + 2):
        torch.manual_seed(1000 + repeat)
        flow = gaussian_flow(std, mean)
        data_dependent = name in ("kl_z_dd", "sinkhorn_dd")
        n = BATCH_SIZES.get(case, N)
        batch = target_samples(n, 2000 + repeat) if data_dependent else n
        gradient = scale_and_shift_gradients(flow, loss(flow, target_energy, batch))
        if repeat >= 2:
            rows.append(gradient)
    return torch.stack(rows)


def _mean_and_error(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return rows.mean(dim=0), rows.std(dim=0) / rows.shape[0] ** 0.5


@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_gradient_vanishes_when_the_flow_is_the_target(case):
    mean, error = _mean_and_error(_gradients(case, TARGET_STD, TARGET_MEAN))
    assert (mean.abs() <= SIGMAS * error + ROUND_OFF).all(), (mean, error)


@pytest.mark.parametrize("case", [c for c in LOSS_CASES if not c.startswith("kl_x_rew")])
def test_too_narrow_flow_is_widened(case):
    # The flow's std is 1/1.5 of the target's in both coordinates: every loss must ask for a
    # larger log-scale, i.e. a negative gradient, by more than its noise.
    mean, error = _mean_and_error(_gradients(case, TARGET_STD / 1.5, TARGET_MEAN))
    assert (mean[:2] < -SIGMAS * error[:2]).all(), (mean, error)


@pytest.mark.parametrize("case", [c for c in LOSS_CASES if not c.startswith("kl_x_rew")])
def test_shifted_flow_is_moved_toward_the_target(case):
    # The flow sits 0.5 std below the target mean in both coordinates: the gradient on the
    # shift must be negative (descent moves it up).
    shifted = TARGET_MEAN - 0.5 * TARGET_STD
    mean, error = _mean_and_error(_gradients(case, TARGET_STD, shifted))
    assert (mean[2:] < -SIGMAS * error[2:]).all(), (mean, error)
