"""Compose, validate, flatten and dump the run configuration.

The configuration lives in Hydra config groups under ``conf/`` (one YAML per option). This module
is the only place that talks to Hydra's compose API; everything else receives a ``DictConfig``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from runner.errors import UserError

CONFIG_NAME = "config"
_PASSWORD_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@/\s]+)@")


def config_dir() -> Path:
    """Directory holding the Hydra config groups.

    ``$TOPICSWEEP_CONFIG_DIR`` wins; otherwise ``./conf`` when the working directory is a TopicSweep
    project, else the ``conf/`` shipped next to the installed package.
    """
    from_env = os.environ.get("TOPICSWEEP_CONFIG_DIR")
    if from_env:
        return Path(from_env).resolve()
    local = Path.cwd() / "conf"
    if (local / f"{CONFIG_NAME}.yaml").is_file():
        return local.resolve()
    return (Path(__file__).resolve().parent.parent / "conf").resolve()


def compose(overrides: Sequence[str] = (), config_file: Path | None = None) -> DictConfig:
    """Compose the run config from the config groups (or from a standalone file) plus overrides.

    Args:
        overrides: Hydra overrides such as ``clusterer=kmeans`` or ``reducer.min_dist=0.1``.
        config_file: A standalone config (for example one written by ``topicsweep best``); group
            overrides are not available then, value overrides are.

    Raises:
        UserError: Unknown group option, unknown key or an unparsable override.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException

    if config_file is not None:
        if not config_file.is_file():
            raise UserError(f"config file not found: {config_file}")
        directory, name = config_file.resolve().parent, config_file.stem
    else:
        directory, name = config_dir(), CONFIG_NAME
    try:
        with initialize_config_dir(config_dir=str(directory), version_base=None):
            cfg = hydra_compose(config_name=name, overrides=list(overrides))
    except HydraException as error:
        raise UserError(_one_line_hydra_error(str(error))) from error
    except OmegaConfBaseException as error:
        raise UserError(f"bad config value: {error}".splitlines()[0]) from error
    return cfg


def _one_line_hydra_error(message: str) -> str:
    """Turn Hydra's multi-line errors into one line that still lists the available options."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if "Available options" in message:
        head = lines[0]
        group = re.search(r"Available options in '([^']+)'", message)
        start = next(i for i, line in enumerate(lines) if line.startswith("Available options"))
        options = []
        for line in lines[start + 1 :]:
            if line.startswith("Config search path"):
                break
            options.append(line)
        return f"{head}; available options for {group.group(1) if group else 'this group'}: {', '.join(options)}"
    if message.startswith("Could not override"):
        key = re.search(r"Could not override '([^']+)'", message)
        return f"unknown config key '{key.group(1) if key else message}' (see `topicsweep config` for the keys)"
    return "; ".join(line for line in lines if not line.startswith("See https://"))


def resolve(cfg: DictConfig, require_values: bool = True) -> DictConfig:
    """Return a resolved copy (interpolations replaced by values); errors name the key.

    Args:
        cfg: Composed config.
        require_values: Fail on keys still marked ``???`` (a run needs them; printing does not).
    """
    try:
        container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=require_values)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None)
        raise UserError(f"config key '{key}' has no value: set it with {key}=..." if key else str(error)) from error
    return OmegaConf.create(container)


def to_yaml(cfg: DictConfig) -> str:
    """YAML text of a config, with passwords in URLs masked."""
    return mask_secrets(OmegaConf.to_yaml(cfg))


def flatten(cfg: DictConfig | dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten a nested config into ``{"a.b.c": "value"}`` strings (what MLflow shows as params).

    Lists become their YAML-ish string (``[1, 1]``); secrets in URLs are masked.
    """
    items = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    return dict(_walk(items, prefix))


def _walk(node: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if not node and prefix:
            yield prefix, "{}"
        for key, value in node.items():
            yield from _walk(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, (list, tuple, ListConfig)):
        yield prefix, mask_secrets(str(list(node)))
    else:
        yield prefix, mask_secrets("null" if node is None else str(node))


def mask_secrets(text: str) -> str:
    """Replace the password in every ``scheme://user:password@host`` URL by ``***``."""
    return _PASSWORD_IN_URL.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", text)


def select(cfg: DictConfig, key: str, default: Any = None) -> Any:
    """``OmegaConf.select`` with a default, for optional keys."""
    value = OmegaConf.select(cfg, key, default=default)
    return default if value is None else value
