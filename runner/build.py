"""The single place that turns ``_target_`` config nodes into objects.

Only targets under an allow-listed module prefix are instantiated, so a config file (or a sweep
file from a colleague) cannot run arbitrary code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from runner.errors import UserError

ALLOWED_TARGET_PREFIXES: tuple[str, ...] = (
    "runner.",
    "sklearn.cluster.",
    "sklearn.decomposition.",
    "hdbscan.",
    "umap.",
    "bertopic.",
    "optuna.samplers.",
    "optuna.pruners.",
)


def target_of(node: DictConfig | dict[str, Any]) -> str:
    """The ``_target_`` string of a node, or a UserError naming what is missing."""
    target = node.get("_target_") if node is not None else None
    if not isinstance(target, str) or not target:
        raise UserError(f"config node has no _target_: {node}")
    return target


def check_allowed(target: str) -> None:
    """Raise UserError unless ``target`` lies under an allow-listed module prefix."""
    if not target.startswith(ALLOWED_TARGET_PREFIXES):
        allowed = ", ".join(p.rstrip(".") for p in ALLOWED_TARGET_PREFIXES)
        raise UserError(f"_target_ '{target}' is not allowed; targets must come from: {allowed}")


def instantiate(node: DictConfig | dict[str, Any], **overrides: Any) -> Any:
    """Instantiate a ``_target_`` node after checking it against the allow-list.

    Args:
        node: Config node with ``_target_`` and keyword arguments.
        **overrides: Extra keyword arguments that win over the node's values (objects that
            cannot live in YAML, such as a precomputed kNN graph).
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate as hydra_instantiate

    target = target_of(node)
    check_allowed(target)
    where = node._get_full_key(None) if isinstance(node, DictConfig) else ""  # e.g. "clusterer"
    config = node if isinstance(node, DictConfig) else OmegaConf.create(node)
    try:
        return hydra_instantiate(config, _convert_="all", **overrides)
    except InstantiationException as error:
        cause = error.__cause__ or error
        if isinstance(cause, UserError):
            raise cause from None
        message = str(cause).splitlines()[0]
        unexpected = re.search(r"unexpected keyword argument '(\w+)'", message)
        if where and unexpected:
            key = f"{where}.{unexpected.group(1)}"
            raise UserError(f"{key} is not a parameter of {target}; remove it (~{key})") from error
        raise UserError(f"cannot build {target}{f' from {where}' if where else ''}: {message}"
                        f"{f'; check the {where}.* values (topicsweep config shows them)' if where else ''}") from error


def require_numbers(section: str, params: Mapping[str, Any], keys: Sequence[str], integer: bool = False) -> None:
    """UserError naming ``section.key=value`` when one of ``keys`` holds something else than a number
    (an integer with ``integer``) or null."""
    kinds = int if integer else (int, float)
    for key in keys:
        value = params.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise UserError(f"{section}.{key}={value}: expected {'an integer' if integer else 'a number'} or null")


def kwargs_of(node: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """The node's keyword arguments (everything but ``_target_``), resolved, as plain Python."""
    container = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    return {key: value for key, value in container.items() if key != "_target_"}
