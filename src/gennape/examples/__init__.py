"""Example PyTorch networks for trying and testing the converters (see :mod:`.models`)."""

from .models import EXAMPLES, example

__all__ = ["EXAMPLES", "example"]
