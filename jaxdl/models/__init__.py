"""Model families, registered by name. Importing this package registers them all."""
from jaxdl.models import cnn, mlp  # noqa: F401  (registration side effect)
from jaxdl.models.registry import MODELS, build_model, register_model

__all__ = ["MODELS", "build_model", "register_model"]
