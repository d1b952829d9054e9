"""Run by Python at start-up in processes launched by ``tracesec-run`` (this folder is on PYTHONPATH).

It first runs the user's own sitecustomize, if one exists further along sys.path, then installs tracesec.
Nothing here may stop the program from starting: a problem is reported on stderr and the program runs
uninstrumented.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _chain_user_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    search = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", search)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


def _install_tracesec() -> None:
    try:
        import tracesec

        tracesec.install()
    except Exception as exc:  # the app must start regardless
        print(f"tracesec-run: tracesec not installed: {exc}", file=sys.stderr)


try:
    _chain_user_sitecustomize()
except Exception as exc:
    print(f"tracesec-run: your sitecustomize raised {type(exc).__name__}: {exc}", file=sys.stderr)
_install_tracesec()
