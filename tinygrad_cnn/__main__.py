"""``python -m tinygrad_cnn``: the same as the ``tinygrad-cnn`` command."""

from .cli import main

raise SystemExit(main())
