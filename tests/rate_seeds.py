"""How many seeds the error-rate tests draw: enough in the suite to catch a broken rule, the
full count when the docs' figures are measured (``DRIFTLINE_RATE_SEEDS``)."""

from __future__ import annotations

import os

VAR = "DRIFTLINE_RATE_SEEDS"


def rate_seeds(suite: int) -> int:
    """``DRIFTLINE_RATE_SEEDS`` when set (the docs' commands set the full count), else ``suite``."""
    value = os.environ.get(VAR, "").strip()
    if not value:
        return suite
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{VAR} must be a positive whole number of seeds, not {value!r}")
    return int(value)
