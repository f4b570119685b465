"""The services Driftline runs and their documented default HTTP ports.

Keep in step with the service sections of :class:`driftline.runtime.settings.RuntimeSettings`
(a unit test checks both agree).
"""

from __future__ import annotations

SERVICE_PORTS: dict[str, int] = {
    "ingest": 8101,
    "validation": 8102,
    "training": 8103,
    "registry": 8104,
    "deployment": 8105,
    "monitoring": 8106,
    "audit": 8107,
    "console": 8108,
}

SERVICE_NAMES: tuple[str, ...] = tuple(SERVICE_PORTS)
