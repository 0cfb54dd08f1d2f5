"""Our top-level packages must not collide with installed distributions (``validators`` exists on PyPI)."""

from __future__ import annotations

from importlib import metadata

OUR_PACKAGES = ("schemas", "validators", "pipeline", "approvals", "connectors", "flows")


def test_no_installed_distribution_shadows_our_packages() -> None:
    owners = metadata.packages_distributions()
    clashes = {name: owners[name] for name in OUR_PACKAGES if set(owners.get(name, [])) - {"eingang"}}
    assert clashes == {}, f"installed distributions also provide: {clashes}"


def test_our_packages_import_from_this_repository() -> None:
    import importlib
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    for name in OUR_PACKAGES:
        module = importlib.import_module(name)
        assert Path(module.__file__ or "").resolve().is_relative_to(repo), name
