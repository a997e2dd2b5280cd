"""Model families, registered by name.

Importing this package imports every module in it, so a new family is one new
file with a `@register_model("name")` class: nothing else to edit.
"""
import importlib
import pkgutil

from jaxdl.models.registry import MODELS, build_model, register_model

for _module in pkgutil.iter_modules(__path__):
  importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["MODELS", "build_model", "register_model"]
