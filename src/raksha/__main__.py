"""``python -m raksha`` is the ``raksha`` command."""

from raksha.cli.main import main

main()
