"""gennape: predict how well a neural network will perform before anyone trains it."""

__version__ = "0.1.0"
