"""What a reviewer must be told about how a configuration was selected, in the console and the methods text.

- ``reducer.random_state`` searched with ``seeds: 1``: the selection partly picks the luckiest seed.
- A gold-label metric (NMI, ARI) among the objectives, constraints or select rule: the selection is
  supervised, and the result is not what an unsupervised user could have chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.models.base import SEED_KEYS
from runner.names import metric_label, metric_short

GOLD_LABEL_METRICS = ("nmi", "ari")
_ROLES = {"objective": ("objective", "优化目标"), "constraint": ("constraint", "约束条件"),
          "select": ("selection rule", "选择规则")}


@dataclass(frozen=True)
class Caveat:
    """One caveat: a console warning and a sentence for each methods paragraph."""

    kind: str
    console: str
    english: str
    chinese: str


def selection_caveats(spec: Mapping[str, Any]) -> list[Caveat]:
    """The caveats of a study's sweep definition (``topicsweep_spec``)."""
    found = []
    searched = [key for key in SEED_KEYS if key in spec["params"]]
    if searched and int(spec["seeds"]) == 1:
        found.append(luckiest_seed(searched[0]))
    uses = gold_label_uses(spec)
    if uses:
        found.append(supervised(uses))
    return found


def luckiest_seed(key: str = SEED_KEYS[0]) -> Caveat:
    part = key.split(".")[0]
    return Caveat(
        "luckiest_seed",
        f"{key} was searched with seeds: 1, so the chosen trial is partly the luckiest {part} seed; "
        f"for a paper, remove {key} from params and set seeds: K (e.g. seeds: 5) to report mean ± sd "
        "over K seeds",
        f"Caution: the {part}'s random seed (random_state) was searched as a hyperparameter with one seed per "
        "configuration (seeds: 1), so the selected configuration is partly the luckiest seed and its scores are "
        "optimistic; evaluating every configuration over K seeds (seeds: K) and reporting mean ± sd avoids this.",
        f"注意：{'降维' if part == 'reducer' else '模型'}的随机种子（random_state）被当作超参数搜索，且每组配置只在一个种子上评估（seeds: 1），"
        "因此所选配置在一定程度上是挑中了最幸运的随机种子，其得分偏乐观；在 K 个种子上评估每组配置（seeds: K）"
        "并报告均值 ± 标准差可以避免这一问题。",
    )


def gold_label_uses(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    """Gold-label metrics the selection used, each with its roles (objective, constraint, select)."""
    select = spec.get("select") or {}
    by_role = {
        "objective": list(spec.get("objectives") or {}),
        "constraint": [c[0] for c in spec.get("constraints") or []],
        "select": list((select.get("weights") if select.get("rule") == "weighted" else select.get("order")) or []),
    }
    uses: dict[str, list[str]] = {}
    for role, metrics in by_role.items():
        for metric in metrics:
            if metric in GOLD_LABEL_METRICS and role not in uses.setdefault(metric, []):
                uses[metric].append(role)
    return {metric: roles for metric, roles in uses.items() if roles}


def supervised(uses: Mapping[str, list[str]]) -> Caveat:
    english_uses = "; ".join(f"{metric_short(m)} as {', '.join(_ROLES[r][0] for r in roles)}"
                             for m, roles in uses.items())
    chinese_uses = "；".join(f"{metric_label(m, 'zh')}用作{'、'.join(_ROLES[r][1] for r in roles)}"
                            for m, roles in uses.items())
    return Caveat(
        "supervised",
        f"the selection used gold labels ({english_uses}): this is supervised model selection; say so in the "
        "paper and do not compare it with unsupervised selections",
        f"Because the selection used the gold labels ({english_uses}), this is supervised model selection: the "
        "reported configuration depends on labels that an unsupervised analysis would not have.",
        f"由于模型选择使用了金标准类别标签（{chinese_uses}），这属于有监督的模型选择：所报告的配置依赖于"
        "无监督分析中无法获得的标签。",
    )
