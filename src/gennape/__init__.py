"""gennape: predict how well a neural network will perform before anyone trains it."""

__version__ = "0.1.0"


def load_pretrained():
    """The shipped NB-101-trained :class:`gennape.estimator.Estimator` (loads torch on first use)."""
    from .estimator import load_pretrained as load

    return load()
