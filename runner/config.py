"""Compose, validate, flatten and dump the run configuration.

The configuration lives in Hydra config groups under ``conf/`` (one YAML per option). This module
is the only place that talks to Hydra's compose API; everything else receives a ``DictConfig``.
"""

from __future__ import annotations

import functools
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

    parsed = _parse_overrides(overrides)
    if config_file is not None:
        if not config_file.is_file():
            raise UserError(f"config file not found: {config_file}")
        directory, name = config_file.resolve().parent, config_file.stem
        _refuse_group_overrides(parsed, config_file)
    else:
        directory, name = config_dir(), CONFIG_NAME
    try:
        with initialize_config_dir(config_dir=str(directory), version_base=None):
            cfg = hydra_compose(config_name=name, overrides=list(overrides))
    except HydraException as error:
        raise UserError(_one_line_hydra_error(str(error))) from error
    except OmegaConfBaseException as error:
        raise UserError(f"bad config value: {error}".splitlines()[0]) from error
    groups = _groups(config_file)
    values = [o for o in parsed if o.key_or_group not in groups]
    if values:
        if config_file is not None:
            defaults = OmegaConf.to_container(OmegaConf.load(config_file), resolve=False)
        else:
            defaults = _defaults(str(directory), tuple(o.input_line for o in parsed if o.key_or_group in groups))
        _check_value_types(values, defaults)
    return cfg


class ShapeComposer:
    """:func:`compose` for many override lists that differ only in values, composing each *shape* once.

    Hydra's compose (defaults list, YAML files) is the largest per-trial cost of a sweep beyond the
    pipeline itself. The trials of a sweep differ in value overrides (``reducer.min_dist=0.1``) far
    more often than in config groups (``clusterer=kmeans``), so the config is composed once per
    *shape*: the group choices and ``+``/``~`` overrides. Value overrides are then applied to a copy
    as Hydra applies them after composition (parsed by its override grammar, ``OmegaConf.update``
    with merge, in order) and type-checked like :func:`compose` checks them; the result equals
    ``compose(overrides)`` (tested).
    """

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, ...], DictConfig] = {}

    def __call__(self, overrides: Sequence[str]) -> DictConfig:
        """The composed (unresolved) config of ``overrides``, like :func:`compose`.

        Raises:
            UserError: Unknown group option, unknown key, a wrong-typed value or an unparsable override.
        """
        import copy

        from hydra.core.override_parser.overrides_parser import OverridesParser
        from hydra.errors import HydraException

        try:
            parsed = OverridesParser.create().parse_overrides(list(overrides))
        except HydraException as error:
            raise UserError(_one_line_hydra_error(str(error))) from error
        groups = _groups(None)
        values = [o for o in parsed if _is_value_change(o, groups)]
        shape = tuple(o.input_line for o in parsed if not _is_value_change(o, groups))
        if shape not in self._shapes:
            self._shapes[shape] = compose(shape)
        cfg = copy.deepcopy(self._shapes[shape])
        if values:
            _check_value_types(values, _defaults(str(config_dir()), tuple(o.input_line for o in parsed
                                                                          if o.key_or_group in groups)))
        for override in values:
            try:
                OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
            except OmegaConfBaseException as error:
                raise UserError(f"unknown config key '{override.key_or_group}' (see `topicsweep config` for the "
                                f"keys)") from error
        return cfg


def _is_value_change(override: Any, groups: set[str]) -> bool:
    """A plain ``key=value`` override of a config value (not a group choice, addition, deletion or package)."""
    return (not override.is_delete() and not override.is_add() and not override.is_force_add()
            and not override.is_sweep_override() and override.package is None
            and override.key_or_group not in groups)


def _parse_overrides(overrides: Sequence[str]) -> list[Any]:
    """Hydra's parsed overrides; deletions (``~key``) and additions (``+key=...``) are left out."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as error:
        raise UserError(_one_line_hydra_error(str(error))) from error
    return [o for o in parsed if not o.is_delete() and not o.is_add()]


def _groups(config_file: Path | None) -> set[str]:
    """Config groups available to overrides: the directories under conf/, none for a standalone file."""
    return set() if config_file is not None else {p.name for p in config_dir().iterdir() if p.is_dir()}


def _refuse_group_overrides(parsed: Sequence[Any], config_file: Path) -> None:
    """``group=option`` cannot work on a standalone file: say so, with the value overrides that do the same."""
    groups = {p.name for p in config_dir().iterdir() if p.is_dir()}
    for override in parsed:
        group, option = override.key_or_group, override.value()
        if group not in groups or override.package is not None or not isinstance(option, str):
            continue
        head = (f"'{override.input_line}' picks an option of config group '{group}', but a standalone config file "
                f"({config_file}) has no config groups")
        equivalent = _value_overrides_for(group, option, OmegaConf.load(config_file).get(group))
        if equivalent:
            raise UserError(f"{head}; use value overrides instead: {' '.join(equivalent)}")
        raise UserError(f"{head}; change its {group}.* values (see `topicsweep config {group}={option}`), or run "
                        f"without --config-file")


def _value_overrides_for(group: str, option: str, current: Any) -> list[str]:
    """``group.key=value`` overrides that turn the file's ``group`` node into the option's (empty when none can)."""
    path = config_dir() / group / f"{option}.yaml"
    if not path.is_file() or not isinstance(current, DictConfig):
        return []
    wanted = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    have = OmegaConf.to_container(current, resolve=False)
    if not isinstance(wanted, dict) or "defaults" in wanted:
        return []  # a global package or a defaults list: not reachable by value overrides
    flat_wanted, flat_have = dict(_leaves(wanted)), dict(_leaves(have))
    if set(flat_wanted) != set(flat_have):
        return []  # other keys (e.g. another _target_'s parameters)
    return [f"{group}.{key}={_override_text(value)}" for key, value in flat_wanted.items() if flat_have[key] != value]


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, node


def _override_text(value: Any) -> str:
    """A value as Hydra's override grammar writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ",".join(_override_text(v) for v in value) + "]"
    return str(value)


@functools.lru_cache(maxsize=32)
def _defaults(directory: str, group_overrides: tuple[str, ...]) -> dict[str, Any]:
    """The config composed with the group choices only (what each value override replaces), unresolved."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=directory, version_base=None):
        cfg = hydra_compose(config_name=CONFIG_NAME, overrides=list(group_overrides))
    return OmegaConf.to_container(cfg, resolve=False)


def _check_value_types(overrides: Sequence[Any], defaults: dict[str, Any]) -> None:
    """A value override must keep the kind of a numeric or boolean default: ``clusterer.min_cluster_size=abc``
    is refused, naming the key and the default (a null default or a text default accepts anything)."""
    for override in overrides:
        value, default = override.value(), _lookup(defaults, override.key_or_group)
        if value is None or isinstance(default, str) or default is None:
            continue
        if isinstance(value, str) and "${" in value:
            continue  # an interpolation: its type is known once resolved
        if isinstance(default, bool):
            expected, fits = "true or false", isinstance(value, bool)
        elif isinstance(default, int):
            expected, fits = "an integer", isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, float):
            expected, fits = "a number", isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            continue
        if not fits:
            raise UserError(f"{override.input_line}: expected {expected} (the default is "
                            f"{_override_text(default)})")


def _lookup(tree: Any, key: str) -> Any:
    """The value at a dotted key of a nested dict (None when absent)."""
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


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
