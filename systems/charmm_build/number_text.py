"""Text forms of numbers for CHARMM files: short fixed-point decimals and Fortran ``G14.6``."""

from __future__ import annotations

__all__ = ["decimal_text", "fortran_g14_6"]

_RELATIVE_ROUND_TRIP = 1e-10


def decimal_text(value: float, min_decimals: int, max_decimals: int = 12) -> str:
    """Fixed-point text with the fewest decimals (at least ``min_decimals``) that is within
    1e-10 relative of ``value``.

    Parameters converted from CHARMM into OpenMM units and back pick up round-off
    (``250.00000000000003``); this recovers the short decimal CHARMM files use, and keeps up
    to ``max_decimals`` where the value really has more digits.
    """
    tolerance = _RELATIVE_ROUND_TRIP * abs(value)
    for decimals in range(min_decimals, max_decimals + 1):
        rounded = round(value, decimals)
        if abs(rounded - value) <= tolerance:
            break
    text = f"{rounded + 0.0:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def fortran_g14_6(value: float) -> str:
    """``value`` as Fortran's ``G14.6`` edit descriptor writes it (the PSF atom columns).

    Six significant digits: fixed point with four trailing blanks for
    ``0.1 <= |value| < 10**6`` (``  -0.270000    ``), otherwise ``0.dddddd E±ee``
    (``  0.900000E-01``).
    """
    if value == 0.0:
        return f"{0.0:10.5f}" + " " * 4
    scientific = f"{abs(value):.5E}"
    digits = scientific[0] + scientific[2:7]
    exponent = int(scientific[8:]) + 1
    if 0 <= exponent <= 6:
        return f"{value:#10.{6 - exponent}f}" + " " * 4
    sign = "-" if value < 0 else ""
    return f"{sign}0.{digits}E{exponent:+03d}".rjust(14)
