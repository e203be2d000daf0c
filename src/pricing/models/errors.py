"""What a model can raise, as opposed to a coding error.

Serving answers a model's failure with the next model of its fallback chain (pricing.serving.predictor) and
counts it (pricing.serving.health); a coding error (TypeError, AttributeError, NameError, a KeyError at
predict time) must not be answered that way: it reaches the app's 500 handler and the logs, where someone
fixes it, instead of silently costing the weekly profit a fallback loses (docs/PRICING_QUALITY.md, the
fallbacks' regret).
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager


class ModelError(RuntimeError):
    """A model library's own failure that is not already one of PREDICT_ERRORS (LightGBM's LightGBMError
    derives from Exception alone), re-raised as a RuntimeError with the library named."""


# Numbers a model cannot work with: shapes that do not match (NumPy and scikit-learn raise ValueError, torch
# RuntimeError), overflow, a matrix too large for memory, a library's own failure (ModelError).
PREDICT_ERRORS: tuple[type[BaseException], ...] = (ArithmeticError, ValueError, RuntimeError, MemoryError)
# Loading adds a file that cannot be read or parsed (a damaged zip, a torch file refused by weights_only, a
# JSON without a key the loader needs, a registry name this code does not know) and a missing library.
LOAD_ERRORS: tuple[type[BaseException], ...] = (
    *PREDICT_ERRORS,
    OSError,
    ImportError,
    LookupError,
    zipfile.BadZipFile,
    pickle.UnpicklingError,
)


@contextmanager
def lightgbm_errors() -> Iterator[None]:
    """LightGBM's LightGBMError raised inside the block as ModelError (imports lightgbm: use it only where a
    booster already exists)."""
    import lightgbm as lgb

    try:
        yield
    except lgb.basic.LightGBMError as exc:
        raise ModelError(f"LightGBM: {exc}") from exc
