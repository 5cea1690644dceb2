"""Survey statistics for citizen-satisfaction indices (pure numpy / pandas / scipy).

Public API: designs (:func:`counter_design`, :func:`general_design` with multistage ids and
lonely-PSU rules, replicate weights :func:`replicate_design`, :func:`as_replicate_design`),
calibration (:func:`rake`, :func:`post_stratify`, :func:`trim_weights`), estimators by group
(:func:`estimate_proportion`, :func:`estimate_ratio`, :func:`estimate_mean`,
:func:`estimate_total`, :func:`estimate_quantile`, league tables :func:`rank_units` and
:func:`rank_estimates`,
:func:`comprehensive_satisfaction`, :func:`element_indices`), targets (:func:`test_target`),
comparisons (:func:`compare_groups`, each unit against its aggregate
:func:`compare_to_reference`, :func:`compare_periods`, :func:`linear_trend`,
:func:`cronbach_alpha`), presentation rules and plain-language summaries. Results are frozen
dataclasses (:mod:`analysis.results`). Imports are lazy so that the command line starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AnalysisError": "analysis.errors",
    "SurveyDesign": "analysis.design",
    "counter_design": "analysis.design",
    "general_design": "analysis.design",
    "rake": "analysis.weights",
    "post_stratify": "analysis.weights",
    "trim_weights": "analysis.weights",
    "Estimate": "analysis.results",
    "Target": "analysis.results",
    "TargetTest": "analysis.results",
    "ComparisonTest": "analysis.results",
    "PairwiseDifference": "analysis.results",
    "LinearTrend": "analysis.results",
    "Reliability": "analysis.results",
    "estimate_proportion": "analysis.estimators",
    "estimate_ratio": "analysis.estimators",
    "estimate_mean": "analysis.estimators",
    "estimate_total": "analysis.estimators",
    "estimate_quantile": "analysis.estimators",
    "numeric_values": "analysis.estimators",
    "DEFF_DEFINITION": "analysis.estimators",
    "LONELY_PSU_RULES": "analysis.design",
    "ReplicateDesign": "analysis.replicates",
    "replicate_design": "analysis.replicates",
    "as_replicate_design": "analysis.replicates",
    "RankInterval": "analysis.ranks",
    "rank_units": "analysis.ranks",
    "rank_estimates": "analysis.ranks",
    "ReferenceComparison": "analysis.reference",
    "compare_to_reference": "analysis.reference",
    "compare_cells_to_reference": "analysis.reference",
    "summarize_rank": "analysis.ranks",
    "comprehensive_satisfaction": "analysis.estimators",
    "element_indices": "analysis.estimators",
    "answer_distribution": "analysis.estimators",
    "parse_elements": "analysis.estimators",
    "kish_effective_n": "analysis.estimators",
    "to_frame": "analysis.estimators",
    "korn_graubard_interval": "analysis.intervals",
    "logit_interval": "analysis.intervals",
    "wilson_interval": "analysis.intervals",
    "wald_interval": "analysis.intervals",
    "clopper_pearson_interval": "analysis.intervals",
    "test_target": "analysis.targets",
    "parse_target": "analysis.targets",
    "compare_groups": "analysis.compare",
    "compare_periods": "analysis.compare",
    "linear_trend": "analysis.compare",
    "cronbach_alpha": "analysis.compare",
    "rao_scott_test": "analysis.compare",
    "holm_adjust": "analysis.compare",
    "bh_adjust": "analysis.compare",
    "nchs_proportion_standard": "analysis.presentation",
    "minimum_sample_ok": "analysis.presentation",
    "summarize_estimate": "analysis.summaries",
    "summarize_difference": "analysis.summaries",
    "summarize_test": "analysis.summaries",
    "format_percent": "analysis.summaries",
}
# The official ratios of Decision 766/QĐ-TTg (analysis/official.py).
_EXPORTS.update(
    dict.fromkeys(
        (
            "DossierRatio",
            "ComplaintRatios",
            "CriteriaGrade",
            "RatedShare",
            "overdue_mask",
            "dossier_ratio",
            "dossier_ratios",
            "complaint_ratios",
            "item_points",
            "criteria_grade",
            "rated_share",
            "reconciliation_sentence",
        ),
        "analysis.official",
    )
)

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    return getattr(import_module(module), name)
