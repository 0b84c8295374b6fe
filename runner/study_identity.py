"""What a study's trials were computed on, stored with the study, and checked on every resume.

Trials of one study are comparable only when they ran on the same corpus (content hash), the same
base config (minus keys that cannot change a result: paths, tracking, outputs, run name, devices,
the dataset's path and name), the same search space, objectives, constraints and seeds. That
definition is stored in the study's user attributes when the study is created. A resume with a
different corpus is always refused (the way out is another study); a resume with another
definition is refused unless the user passes ``--extend``, which records the new definition in the
study's history of definitions (``topicsweep_definitions``).

n_trials, storage, workers, timeout, sampler, select rule and reducer budget are not part of it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig

from runner.config import flatten
from runner.data import Corpus
from runner.errors import UserError
from runner.sweep_spec import SweepSpec, distribution_of

IDENTITY_ATTR = "topicsweep_identity"
HISTORY_ATTR = "topicsweep_definitions"
SPEC_ATTR = "topicsweep_spec"
OVERRIDES_ATTR = "topicsweep_base_overrides"

_NO_RESULT_PREFIXES = ("paths.", "tracking.", "outputs.", "topics.over_time.")
_NO_RESULT_KEYS = ("run_name", "dataset.path", "dataset.name", "topics.hierarchy", "topics.hierarchy_level")
_SHOWN_DIFFERENCES = 3
_WAY_OUT = "use study=NEW_NAME for a new study, or --extend to continue this one with the new definition"


def result_config(base: DictConfig, searched: Iterable[str]) -> dict[str, str]:
    """The flattened base config without the keys that do not change a trial's results.

    Left out: ``paths.*``, ``tracking.*``, ``outputs.*``, ``run_name``, every ``*.device``,
    ``dataset.path`` and ``dataset.name`` (the corpus is identified by its content hash), the
    analyses drawn after a run (``topics.hierarchy*``, ``topics.over_time.*``), and the searched keys
    (each trial sets them; a searched config group replaces its whole subtree).
    """
    searched = tuple(searched)
    return {key: value for key, value in sorted(flatten(base).items())
            if not (key.startswith(_NO_RESULT_PREFIXES) or key in _NO_RESULT_KEYS or key.rsplit(".", 1)[-1] == "device"
                    or any(key == p or key.startswith(f"{p}.") for p in searched))}


def definition(spec: SweepSpec, base: DictConfig, corpus: Corpus) -> dict[str, Any]:
    """What defines the results of a study's trials (JSON-friendly, stored as a user attribute)."""
    return {
        "dataset": {"hash": corpus.content_hash, "name": corpus.name, "n_documents": len(corpus)},
        "base": result_config(base, spec.params),
        "params": dict(spec.params),
        "objectives": dict(spec.objectives),
        "constraints": [c.describe() for c in spec.constraints],
        "seeds": spec.seeds,
    }


def corpus_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """'corpus A (N documents, sha256 …) -> corpus B (…)' when the corpora differ, else None."""
    if old["dataset"]["hash"] == new["dataset"]["hash"]:
        return None
    return f"{_corpus(old['dataset'])}, this sweep's is {_corpus(new['dataset'])}"


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two definitions of the same corpus, one phrase per part, most important first."""
    found = []
    if list(old["objectives"].items()) != list(new["objectives"].items()):
        found.append(f"objectives {_objectives(old['objectives'])} -> {_objectives(new['objectives'])}")
    space = _space_changes(old["params"], new["params"])
    if space:
        found.append(f"search space: {space}")
    base = _mapping_changes(old["base"], new["base"])
    if base:
        found.append(f"base config: {base}")
    if old.get("constraints") != new.get("constraints"):
        found.append(f"constraints [{'; '.join(old.get('constraints', []))}] -> [{'; '.join(new['constraints'])}]")
    if old.get("seeds") != new.get("seeds"):
        found.append(f"seeds {old.get('seeds')} -> {new['seeds']}")
    return found


def reconcile(study: Any, current: dict[str, Any], spec: SweepSpec, base_overrides: list[str], *, extend: bool,
              where: str) -> None:
    """Store the definition with a new study, or check a resumed one against it.

    A study without a stored definition is new (or predates this check) and gets the current one.
    A study whose trials none completed or run may be redefined freely, except for its corpus.

    Raises:
        UserError: Another corpus (always), or another definition without ``extend``.
    """
    from optuna.trial import TrialState

    stored = study.user_attrs.get(IDENTITY_ATTR)
    if stored is None:
        reason = "created" if not study.get_trials(deepcopy=False) else "adopted"
        _store(study, current, spec, base_overrides, reason, history=[])
        return
    corpus = corpus_difference(stored, current)
    if corpus:
        raise UserError(f"{where} holds trials on {corpus}: a study never mixes corpora; "
                        f"give this corpus its own study with study=NEW_NAME")
    changes = differences(stored, current)
    if not changes:
        if study.user_attrs.get(SPEC_ATTR) != spec.to_dict():  # n_trials or select changed: not the definition
            study.set_user_attr(SPEC_ATTR, spec.to_dict())
        return
    started = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
    if started and not extend:
        raise UserError(f"{where} was run with another definition (stored -> this sweep): {'; '.join(changes)}; "
                        f"{_WAY_OUT}")
    _store(study, current, spec, base_overrides, "extended" if started else "redefined",
           history=list(study.user_attrs.get(HISTORY_ATTR, [])), changes=changes)


def _store(study: Any, current: dict[str, Any], spec: SweepSpec, base_overrides: list[str], reason: str,
           history: list[dict[str, Any]], changes: list[str] | None = None) -> None:
    entry = {"reason": reason, "from_trial": len(study.get_trials(deepcopy=False)),
             "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "changes": changes or [], "definition": current}
    study.set_user_attr(IDENTITY_ATTR, current)
    study.set_user_attr(HISTORY_ATTR, [*history, entry])
    study.set_user_attr(SPEC_ATTR, spec.to_dict())
    study.set_user_attr(OVERRIDES_ATTR, list(base_overrides))


def _corpus(dataset: dict[str, Any]) -> str:
    return f"corpus '{dataset['name']}' ({dataset['n_documents']} documents, sha256 {dataset['hash'][:12]})"


def _objectives(objectives: dict[str, str]) -> str:
    return ", ".join(f"{metric} ({direction})" for metric, direction in objectives.items())


def _space_changes(old: dict[str, str], new: dict[str, str]) -> str:
    parts = []
    added, removed = [k for k in new if k not in old], [k for k in old if k not in new]
    if added:
        parts.append(f"added {', '.join(added)}")
    if removed:
        parts.append(f"removed {', '.join(removed)}")
    changed = [k for k in new if k in old and not _same_distribution(k, old[k], new[k])]
    if changed:
        parts.append("changed " + ", ".join(f"{k} {old[k]} -> {new[k]}" for k in changed))
    return "; ".join(parts)


def _same_distribution(key: str, old: str, new: str) -> bool:
    if old == new:
        return True
    try:
        return distribution_of(key, old) == distribution_of(key, new)
    except UserError:  # an expression the current grammar no longer reads
        return False


def _mapping_changes(old: dict[str, str], new: dict[str, str]) -> str:
    """Keys whose value changed. A key only one side has is a setting that a newer (or older) TopicSweep
    added with a default that keeps the earlier behaviour, so it does not count as a change."""
    keys = [k for k in sorted(set(old) & set(new)) if old[k] != new[k]]
    shown = [f"{k} {_short(old.get(k))} -> {_short(new.get(k))}" for k in keys[:_SHOWN_DIFFERENCES]]
    more = f" (and {len(keys) - _SHOWN_DIFFERENCES} more)" if len(keys) > _SHOWN_DIFFERENCES else ""
    return ", ".join(shown) + more


def _short(value: str | None) -> str:
    if value is None:
        return "(absent)"
    return value if len(value) <= 60 else value[:57] + "..."
