"""Eingang's Prefect layer: thin flows over ``pipeline``, served by ``python -m flows.serve``.

Only this package imports prefect, and nothing imports it: the flows call plain pipeline
functions (tested without Prefect) and add retries, run names, logs and artifacts.
This ``__init__`` stays empty on purpose: ``eingang up`` looks for ``flows.serve`` without
wanting to pay for importing Prefect.
"""

__all__: list[str] = []
