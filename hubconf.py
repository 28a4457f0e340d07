"""Torch Hub entry points of zoo: ``torch.hub.load("org/zoo", "lenet", pretrained=True)``.

One entry point per architecture in zoo's registry (``zoo.models.ARCHITECTURES``): zoo's own builders, re-exported —
one definition, one docstring (``torch.hub.help`` shows it). They come from the ``zoo`` package beside this file,
whatever ``zoo`` the process imported before (a notebook that did ``import zoo`` and then loads another ref or clone).
"""
import importlib.util as _importlib_util
import sys as _sys
from pathlib import Path as _Path

dependencies = ["torch", "torchvision", "safetensors", "huggingface_hub"]


def _zoo_beside_this_file():
    """The package ``zoo/`` next to this hubconf: ``import zoo`` where that is the one it finds (or has), else the
    same folder imported under a name of its own, so that two copies of zoo can live in one process."""
    folder = _Path(__file__).resolve().parent / "zoo"
    loaded = _sys.modules.get("zoo")
    found = loaded.__spec__ if loaded is not None else _importlib_util.find_spec("zoo")
    if found is not None and found.origin and _Path(found.origin).resolve().parent == folder:
        import zoo

        return zoo
    import hashlib

    name = f"_zoo_{hashlib.sha256(str(folder).encode()).hexdigest()[:16]}"  # one name per folder
    if name not in _sys.modules:
        spec = _importlib_util.spec_from_file_location(name, folder / "__init__.py",
                                                       submodule_search_locations=[str(folder)])
        module = _importlib_util.module_from_spec(spec)
        _sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del _sys.modules[name]
            raise
    return _sys.modules[name]


_ENTRY_POINTS = _zoo_beside_this_file().ENTRY_POINTS
globals().update(_ENTRY_POINTS)
__all__ = sorted(_ENTRY_POINTS)
