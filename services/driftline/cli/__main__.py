"""``python -m driftline.cli``: the same command line as the ``driftline`` script."""

from driftline.cli.main import run

run()
