"""``molgen jko``: Fokker-Planck and other Wasserstein gradient flows by JKO-ICNN."""

from __future__ import annotations

import argparse

from cli.arguments import seed
from forcefields.atomic_files import strict_json_text
from forcefields.errors import ConfigError

__all__ = ["register"]

OVERRIDES = {
    "preset": ("preset",),
    "dim": ("dim",),
    "seed": ("seed",),
    "device": ("device",),
    "steps": ("flow", "steps"),
    "iterations": ("flow", "iterations"),
    "baseline_particles": ("baseline", "particles"),
    "reference": ("problem", "reference"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jko",
        help="run a JKO-ICNN gradient flow and compare it with its oracle",
        description="Run a JKO-ICNN Wasserstein gradient flow from CONFIG.yaml or a preset; "
        "flags override the config. Writes metrics.json, config.yaml, steps.jsonl, "
        "plots/marginals.png and checkpoints/flow.pt (after every step) into --out.",
    )
    parser.add_argument("config", nargs="?", help="YAML run configuration")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--preset", help="ou, mixture, porous, aggregation, double_well or butane")
    parser.add_argument("--dim", type=int, help="dimension D")
    parser.add_argument("--seed", type=seed, help="random seed")
    parser.add_argument("--device", help="cpu or cuda[:i] (config key: device)")
    parser.add_argument("--steps", type=int, help="number of JKO steps (flow.steps)")
    parser.add_argument("--iterations", type=int, help="updates per step (flow.iterations)")
    parser.add_argument(
        "--baseline-particles", type=int, help="Euler-Maruyama particles (baseline.particles)"
    )
    parser.add_argument(
        "--reference", help="butane: molgen reference folder to compare with (problem.reference)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed run from --out/checkpoints/flow.pt (same config and flags)",
    )
    parser.add_argument(
        "--no-progress", "--quiet", dest="quiet", action="store_true", help="no progress bar"
    )
    parser.set_defaults(func=run)


def _merged_config(args: argparse.Namespace) -> dict:
    """The config file's mapping (its keys and types checked) with the flags applied."""
    from molgen.jko.config import JKOConfigError, check_config_fields, read_config_file

    if args.config is None and args.preset is None:
        raise ConfigError("give CONFIG.yaml or --preset")
    data: dict = {}
    if args.config:
        try:
            data = read_config_file(args.config)
            check_config_fields(data)
        except JKOConfigError as error:
            message = str(error)
            if not message.startswith(str(args.config)):
                message = f"{args.config}: {message}"
            raise ConfigError(message) from error
    for option, keys in OVERRIDES.items():
        value = getattr(args, option)
        if value is None:
            continue
        section = data
        for key in keys[:-1]:
            section = section.setdefault(key, {})
        section[keys[-1]] = value
    return data


def run(args: argparse.Namespace) -> int:

    from molgen.jko.config import JKOConfigError, config_from_dict
    from molgen.jko.run import run_experiment

    data = _merged_config(args)
    given = [option for option in OVERRIDES if getattr(args, option) is not None]
    flags = [f"--{option.replace('_', '-')}" for option in given]
    source = args.config or f"command line ({', '.join(flags)})"
    if args.config and flags:
        source = f"{args.config} with {', '.join(flags)}"
    try:
        config = config_from_dict(data)
    except JKOConfigError as error:
        raise ConfigError(f"{source}: {error}") from error
    try:
        summary = run_experiment(config, args.out, progress=not args.quiet, resume=args.resume)
    except JKOConfigError as error:
        raise ConfigError(f"{source}: {error}") from error
    print(
        strict_json_text(
            {k: summary[k] for k in ("preset", "dim", "seconds", "symkl") if k in summary}
        )
    )
    return 0
