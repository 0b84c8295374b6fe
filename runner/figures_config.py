"""Settings of a run's figures, hierarchy, topics over time and saved model, validated before any stage runs.

Every key has a default, so configs stored before these options existed (a sweep's trials) still work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from runner.config import select
from runner.errors import UserError

FIGURES = ("barchart", "intertopic", "documents", "hierarchy", "heatmap", "distribution")
DEFAULT_FIGURES = ("barchart", "intertopic", "heatmap", "distribution")
FIGURE_FORMATS = ("png", "pdf", "svg")


@dataclass(frozen=True)
class FigureSettings:
    """What :func:`runner.figures.render_figures` produces for a run.

    Attributes:
        figures: Figure names from :data:`FIGURES`, in the configured order.
        formats: Static file formats (``png``, ``pdf``, ``svg``).
        dpi: Resolution of the PNG files.
        documents_max: The document map shows at most this many documents (a seeded sample beyond).
        hierarchy: Write the topic hierarchy tables (``topics.hierarchy``).
        hierarchy_level: Also write the topics merged into this many groups (``topics.hierarchy_level``).
        nr_bins: Time bins of topics over time (``topics.over_time.nr_bins``; None = one per timestamp).
        global_tuning: ``topics_over_time``'s global tuning.
        evolution_tuning: ``topics_over_time``'s evolution tuning.
        save_model: Save the fitted BERTopic model (safetensors) in the run directory.
    """

    figures: tuple[str, ...] = DEFAULT_FIGURES
    formats: tuple[str, ...] = ("png", "pdf")
    dpi: int = 300
    documents_max: int = 20000
    hierarchy: bool = False
    hierarchy_level: int | None = None
    nr_bins: int | None = 20
    global_tuning: bool = True
    evolution_tuning: bool = True
    save_model: bool = False


def figure_settings(cfg: DictConfig) -> FigureSettings:
    """The validated settings of a resolved config; bad values raise :class:`UserError`."""
    default = FigureSettings()
    figures = _names(cfg, "outputs.figures", FIGURES, default.figures)
    formats = _names(cfg, "outputs.figure_formats", FIGURE_FORMATS, default.formats)
    dpi = _integer(cfg, "outputs.figure_dpi", default.dpi, minimum=30)
    documents_max = _integer(cfg, "outputs.documents_max", default.documents_max, minimum=100)
    level = _optional(cfg, "topics.hierarchy_level")
    if level is not None:
        level = _integer(cfg, "topics.hierarchy_level", 0, minimum=1)
    nr_bins = _optional(cfg, "topics.over_time.nr_bins")
    if nr_bins is not None:
        nr_bins = _integer(cfg, "topics.over_time.nr_bins", 0, minimum=1)
    return FigureSettings(
        figures=figures, formats=formats, dpi=dpi, documents_max=documents_max,
        hierarchy=_flag(cfg, "topics.hierarchy", default.hierarchy) or level is not None,
        hierarchy_level=level, nr_bins=nr_bins,
        global_tuning=_flag(cfg, "topics.over_time.global_tuning", default.global_tuning),
        evolution_tuning=_flag(cfg, "topics.over_time.evolution_tuning", default.evolution_tuning),
        save_model=_flag(cfg, "outputs.save_model", default.save_model))


def check_outputs(cfg: DictConfig) -> None:
    """Validate the figure, hierarchy, topics-over-time and model-saving settings."""
    figure_settings(cfg)


def _optional(cfg: DictConfig, key: str) -> Any:
    """The value at ``key``, or None when it is missing or null."""
    return OmegaConf.select(cfg, key, default=None)


def _names(cfg: DictConfig, key: str, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    value = _optional(cfg, key)
    if value is None:
        return default
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, ListConfig)):
        raise UserError(f"{key} must be a list of {', '.join(allowed)}, not '{value}'")
    unknown = [str(name) for name in value if name not in allowed]
    if unknown:
        raise UserError(f"{key}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)} "
                        f"(e.g. {key}=[{','.join(default)}], or {key}=[] for none)")
    return tuple(dict.fromkeys(str(name) for name in value))


def _integer(cfg: DictConfig, key: str, default: int, minimum: int) -> int:
    value = select(cfg, key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"{key} must be an integer >= {minimum}, not '{value}'")
    return value


def _flag(cfg: DictConfig, key: str, default: bool) -> bool:
    value = select(cfg, key, default)
    if not isinstance(value, bool):
        raise UserError(f"{key} must be true or false, not '{value}'")
    return value
