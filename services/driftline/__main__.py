"""``python -m driftline`` is the ``driftline`` command."""

from driftline.cli.main import run

run()
