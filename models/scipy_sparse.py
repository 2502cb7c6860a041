"""``scipy.sparse`` for the planner, without the scipy modules Pyomo would add.

Pyomo's registry of optional dependencies (``pyomo.common.dependencies``, loaded by
any Pyomo import) imports ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial``
as soon as anything imports scipy, before or after Pyomo (the callback of its
deferred scipy import): about 0.6 s of the 1.3 s ``planner solve`` spent importing.
The planner and Pyomo's standard-form compiler use ``scipy.sparse`` only, so the
callback is dropped here, before scipy is first imported; every module takes
``sparse`` from here, never from scipy. Code that does use ``scipy.stats`` still
gets it: scipy loads a submodule when it is first used. (A private attribute of
Pyomo 6.10.1; tests/test_startup.py fails if scipy.stats comes back.)
"""

from pyomo.common import dependencies

if isinstance(dependencies.scipy_available, dependencies.DeferredImportIndicator):
    dependencies.scipy_available._callback = None   # scipy was not imported yet

from scipy import sparse  # after the callback is dropped

__all__ = ["sparse"]
