"""Write tests/ray_tune_surface.json: the public names of Ray Tune's modules that ``tune`` mirrors.

Run it where ``ray[tune]`` is installed, after a Ray upgrade: ``python tests/freeze_ray_tune_surface.py``.
The surface test reads the frozen file instead of importing Ray Tune, so it runs in every environment
(the package and wheelhouse sessions install plain ``ray``, without the ``tune`` extra) and a new Ray
release changes the checked surface only through a reviewed diff of that file.

A module's public names are its ``__all__`` plus the classes and functions it defines itself without a
leading underscore (``create_scheduler`` is not in ``ray.tune.schedulers.__all__``, ``ray.tune.search.sample``
has no ``__all__``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

# Ray Tune's public modules, as its API reference names them. Deeper implementation modules
# (``ray.tune.search.searcher``, ``ray.tune.schedulers.async_hyperband``...) re-export into these.
MODULES = [
    "ray.tune",
    "ray.tune.schedulers",
    "ray.tune.schedulers.pb2",
    "ray.tune.schedulers.resource_changing_scheduler",
    "ray.tune.search",
    "ray.tune.search.sample",
    "ray.tune.search.basic_variant",
    "ray.tune.search.ax",
    "ray.tune.search.bayesopt",
    "ray.tune.search.bohb",
    "ray.tune.search.hebo",
    "ray.tune.search.hyperopt",
    "ray.tune.search.nevergrad",
    "ray.tune.search.optuna",
    "ray.tune.search.zoopt",
    "ray.tune.stopper",
    "ray.tune.logger",
]

OUTPUT = Path(__file__).with_name("ray_tune_surface.json")


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = set(getattr(module, "__all__", ()))
    for name, value in vars(module).items():
        defined_here = getattr(value, "__module__", None) == module_name
        if not name.startswith("_") and defined_here and (inspect.isclass(value) or inspect.isfunction(value)):
            names.add(name)
    return sorted(names)


def main() -> None:
    import ray

    surface = {"ray_version": ray.__version__, "modules": {name: public_names(name) for name in MODULES}}
    OUTPUT.write_text(json.dumps(surface, indent=1) + "\n")
    count = sum(len(names) for names in surface["modules"].values())
    print(f"{count} names from Ray {ray.__version__} written to {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
