"""The benchmark of hybridize() against hand-written numpy: `python -m ast_hybrid.bench`."""
from .models import FIRST_CALL_ONLY, MODELS, TRAIN_MODELS, make, make_labels

__all__ = ["FIRST_CALL_ONLY", "make", "make_labels", "MODELS", "TRAIN_MODELS"]
