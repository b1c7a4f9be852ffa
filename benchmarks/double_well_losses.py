"""Double Well Wide 12D: a short data pre-training, then data-free fine-tunings compared.

Reproduces the thesis's §4.4 / §7 comparison in miniature: after a deliberately short
``kl_z_dd`` pre-training on exact samples, ``kl_x`` is expected to lose the minor mode
while ``l2_plus`` keeps the minor-mode fraction near the quadrature value. Prints the
minor-mode fraction of 4096 generated points every ``--eval-every`` steps.

With ``--standardize`` the flow ends in a :class:`~molgen.flows.Standardize` layer fitted on
the pre-training data (thesis §5.4), so the coupling stack works at unit scale.

    OMP_NUM_THREADS=1 python -m benchmarks.double_well_losses --standardize \
        --pretrain-steps 2000 --finetune-steps 400 --losses kl_x l2_plus
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from molgen.flows import Composite, Flow, Standardize, double_well_stack
from molgen.losses import get_loss
from systems.double_well import double_well_wide, is_minor_mode

EVALUATION_SAMPLES = 4096


def minor_fraction(flow: Flow) -> float:
    """Fraction of ``EVALUATION_SAMPLES`` generated points with ``x0 > 0``."""
    with torch.no_grad():
        x, _ = flow.sample(EVALUATION_SAMPLES)
    return is_minor_mode(x).float().mean().item()


def pretrain(flow: Flow, data: torch.Tensor, steps: int, batch: int, lr: float) -> None:
    """``kl_z_dd`` on random mini-batches of ``data`` ``(N, 12)``."""
    optimizer = torch.optim.Adam(flow.parameters(), lr=lr)
    loss = get_loss("kl_z_dd")
    for _ in range(steps):
        indices = torch.randint(data.shape[0], (batch,))
        optimizer.zero_grad()
        loss(flow, None, data[indices]).backward()
        optimizer.step()


def finetune(flow: Flow, name: str, steps: int, batch: int, lr: float, every: int) -> list:
    """Data-free fine-tuning with loss ``name``; returns ``(step, minor fraction)`` pairs."""
    target = double_well_wide()
    optimizer = torch.optim.Adam(flow.parameters(), lr=lr)
    loss = get_loss(name)
    history = [(0, minor_fraction(flow))]
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        value = loss(flow, target.reduced_energy, batch)
        if torch.isfinite(value):
            value.backward()
            optimizer.step()
        if step % every == 0:
            history.append((step, minor_fraction(flow)))
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain-steps", type=int, default=2000)
    parser.add_argument("--finetune-steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--losses", nargs="+", default=["kl_x", "l2_plus"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--standardize", action="store_true")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    target = double_well_wide()
    data = target.sample(100_000, torch.Generator().manual_seed(args.seed)).float()
    stack = double_well_stack(12)
    flow = Flow(Composite(stack, Standardize.fit(data)) if args.standardize else stack, 12)
    start = time.time()
    pretrain(flow, data, args.pretrain_steps, args.batch, args.lr)
    print(f"reference minor-mode fraction (quadrature): {target.minor_mode_fraction():.4f}")
    print(
        f"after {args.pretrain_steps} kl_z_dd steps ({time.time() - start:.0f} s): "
        f"{minor_fraction(flow):.4f}"
    )
    for name in args.losses:
        torch.manual_seed(args.seed + 1)
        start = time.time()
        history = finetune(
            copy.deepcopy(flow), name, args.finetune_steps, args.batch, args.lr, args.eval_every
        )
        trace = "  ".join(f"{step}:{fraction:.3f}" for step, fraction in history)
        print(f"{name:>10} ({time.time() - start:.0f} s)  {trace}")


if __name__ == "__main__":
    main()
