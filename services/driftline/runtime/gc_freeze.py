"""Short full passes of the cycle collector in a service process.

Under load CPython runs a full (generation 2) collection about once a second, and each walks
every container object the process holds: the modules, classes and functions of its imports
(~265,000 objects in deployment). One such pass held deployment's event loop for 20-40 ms
(measured with ``gc.callbacks`` under 1-row load), which is what the requests in flight then
waited, so it set the p99. ``gc.freeze`` moves what exists now out of the collector's reach;
objects made later are collected as before. Imports are what make long-lived objects here,
and several are lazy (the first model load imports scikit-learn, pandas, pyarrow), so the
process freezes again whenever more modules are loaded. (Deployment used to freeze once, at
start; once its numeric imports became lazy, that left them in every full pass.) Only objects
alive at a freeze are kept out: they would live as long as the process anyway.
"""

from __future__ import annotations

import asyncio
import gc
import sys

CHECK_EVERY_S = 2.0
"""How often the module count is looked at (a dict length: nothing to measure)."""


def freeze_if_imported(modules_seen: int) -> int:
    """Collect and freeze when modules were imported since ``modules_seen``; the count now."""
    if len(sys.modules) != modules_seen:
        gc.collect()
        gc.freeze()
    return len(sys.modules)


async def freeze_long_lived_objects(check_every_s: float = CHECK_EVERY_S) -> None:
    """Freeze what startup made, then again after every later import, until cancelled."""
    modules = 0
    while True:
        modules = freeze_if_imported(modules)
        await asyncio.sleep(check_every_s)
