"""``python -m twin.cli``: the same as the ``twin`` command."""

from twin.cli import main

main()
