"""gennape: predict how well a neural network will perform before anyone trains it."""

__version__ = "0.1.0"


PRETRAINED = ("gennape", "gennape_seeds")
SEED_ENSEMBLE_SUBDIR = "seeds"  # where "gennape_seeds" lies inside the shipped weights folder


def load_pretrained(name: str = "gennape"):
    """A shipped NB-101-trained estimator (loads torch on first use): "gennape", the paper's choice,
    one :class:`gennape.estimator.Estimator` (the seed with the best NB-101 validation-2 Spearman), or
    "gennape_seeds", the :class:`gennape.seed_ensemble.SeedEnsemble` of every trained seed (steadier
    zero-shot transfer; one forward per seed, so about 5 times slower)."""
    from .errors import GennapeError

    if name == "gennape":
        from .estimator import load_pretrained as load

        return load()
    if name == "gennape_seeds":
        from .estimator import WEIGHTS_DIR
        from .seed_ensemble import SeedEnsemble

        return SeedEnsemble.load(WEIGHTS_DIR / SEED_ENSEMBLE_SUBDIR)
    raise GennapeError(f"no shipped estimator named {name!r}; choose one of {', '.join(PRETRAINED)}")
