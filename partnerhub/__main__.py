"""``python -m partnerhub`` is the ``partnerhub`` command."""

from partnerhub.cli import main

main()
