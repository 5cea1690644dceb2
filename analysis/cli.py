"""Command line: ``python -m analysis indices FILE.csv`` / ``python -m analysis compare FILE.csv``.


Design: the counter design (strata = ``--strata`` or ``service_point``, fpc = ``--fpc`` or
``volume``) unless ``--psu`` or ``--weight`` is given, which selects the general design
(strata, PSUs nested in strata, sampling weights, optional fpc). Errors print one line on
stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from analysis.errors import AnalysisError

EXIT_INPUT_ERROR = 2


def _split(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="CSV file, one row per response")
    p.add_argument(
        "--measure",
        choices=["prop", "ratio", "mean", "total", "quantile"],
        default="prop",
        help="prop: share satisfied with each item; ratio: satisfied answers over all items; "
        "mean, total, quantile: of each column, any numeric column (a score, minutes waited)",
    )
    p.add_argument("--items", help="item or numeric column(s), comma-separated")
    p.add_argument(
        "--scale",
        help="declare the columns' answer scale, e.g. 1-5 (checked; default: 1-5 for prop and "
        "for q_<code> columns, no check for other columns with mean, total, quantile)",
    )
    p.add_argument(
        "--quantiles",
        default="0.5",
        help="with --measure quantile: probabilities, comma-separated (default 0.5, the median)",
    )
    p.add_argument("--satisfied-from", type=float, default=4.0)
    p.add_argument("--by", help="grouping column(s), comma-separated (cross-classified)")
    p.add_argument("--strata", help="stratum column (default: service_point)")
    p.add_argument(
        "--psu",
        help="primary sampling unit column (general design); for a multistage design one id "
        "column per stage, comma-separated (psu,person as R's ids=~psu+person)",
    )
    p.add_argument("--weight", help="sampling weight column (general design)")
    p.add_argument(
        "--fpc",
        help="population size column (default for the counter design: volume); one per --psu "
        "stage, comma-separated (N1,N2 as R's fpc=~N1+N2), to add the within-PSU variance",
    )
    p.add_argument(
        "--lonely-psu",
        choices=["fail", "adjust", "average", "certainty", "remove"],
        default="fail",
        help="strata with a single sampled PSU, as R's options(survey.lonely.psu=): fail (R's "
        "default: stop and name them), adjust, average, certainty or remove",
    )
    p.add_argument(
        "--repweights",
        metavar="PATTERN",
        help="replicate-weight columns (combined with the sampling weights), a glob such as "
        "'rw_*' or a comma-separated list; needs --weight and --rep-type (R svrepdesign)",
    )
    p.add_argument("--rep-type", choices=["JK1", "JKn", "BRR", "Fay", "bootstrap"])
    p.add_argument("--rep-rho", type=float, help="Fay's rho for --rep-type Fay")
    p.add_argument("--rep-scale", type=float, help="override R's scale rule for the replicates")
    p.add_argument(
        "--rep-rscales",
        help="per-replicate scales, comma-separated (needed by --rep-type JKn: (n_h-1)/n_h)",
    )
    p.add_argument(
        "--replicates",
        choices=["JK1", "JKn"],
        help="estimate variances with jackknife replicates made from the design (R "
        "as.svrepdesign(type=..., mse=FALSE); the fpc scales each stratum)",
    )
    p.add_argument(
        "--rep-mse",
        action="store_true",
        help="centre replicate variances at the full-sample estimate (R mse=TRUE)",
    )
    p.add_argument(
        "--rake",
        action="append",
        default=[],
        metavar="COL=MARGINS.csv",
        help="rake to population shares of COL (CSV with COL and share); repeatable",
    )
    p.add_argument("--rake-max-iterations", type=int, default=100)
    p.add_argument("--rake-tolerance", type=float, default=1e-10)
    p.add_argument("--ci", choices=["logit", "beta", "wilson", "wald"], default="logit")
    p.add_argument("--level", type=float, default=0.95, help="confidence level")
    p.add_argument("--min-n", type=int, default=30)
    p.add_argument("--format", choices=["json", "csv", "table"], default="table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Weighted satisfaction indices with survey-grade inference.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ind = sub.add_parser("indices", help="estimates by group with intervals and target verdicts")
    _add_common(ind)
    ind.add_argument(
        "--target",
        help="threshold 0.70 or band 0.70:0.75: verdict, one-sided p_value (its side in "
        "'alternative'), additional_n responses to decide with 80%% power",
    )
    ind.add_argument(
        "--elements",
        help='element indices and composite, e.g. "access=q_a1,q_a2;staff=q_s1"',
    )
    ind.add_argument("--element-weights", help='e.g. "access=0.3,staff=0.7" (default equal)')
    ind.add_argument(
        "--index", action="store_true", help="with --measure mean: the 0–100 index 100·(mean−1)/4"
    )
    cmp_ = sub.add_parser("compare", help="Rao–Scott tests and pairwise differences")
    _add_common(cmp_)
    cmp_.add_argument("--within", help="compare groups within each value of this column")
    rk = sub.add_parser(
        "ranks",
        help="league table: ranks with simultaneous 95%% intervals and shrunken estimates",
    )
    _add_common(rk)
    rk.add_argument("--draws", type=int, default=10_000, help="Monte Carlo draws (critical value)")
    rk.add_argument("--seed", type=int, default=20240101, help="seed of the Monte Carlo draws")
    rk.add_argument("--language", choices=["en", "vi"], default="en", help="of the sentences")
    return parser


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Usage(message)


def _read_csv(
    path: str, needed: Sequence[str], numeric: Sequence[str], categorical: Sequence[str]
) -> Any:
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0)
    except FileNotFoundError:
        raise AnalysisError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalysisError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    cols = list(header.columns)
    missing = [c for c in dict.fromkeys(needed) if c not in cols]
    if missing:
        raise AnalysisError(
            f"column {missing[0]!r} not found in {path} (columns: {', '.join(map(str, cols[:25]))})"
        )
    use = list(dict.fromkeys(needed))
    dtypes: dict[str, Any] = {c: "float64" for c in numeric if c in use}
    for c in categorical:
        if c in use and c not in dtypes:
            dtypes[c] = "category"
    try:
        return pd.read_csv(path, usecols=use, dtype=dtypes, engine="c", low_memory=False)
    except (ValueError, TypeError):
        pass  # a numeric column holds text: read as text and let the engine name it
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise AnalysisError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    try:
        return pd.read_csv(path, usecols=use, engine="c", low_memory=False)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise AnalysisError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


def _replicate_design(args: argparse.Namespace, data: Any) -> Any:
    from analysis.replicates import replicate_design

    clash = [
        f"--{o}" for o, v in (("psu", args.psu), ("fpc", args.fpc), ("rake", args.rake)) if v
    ] + (["--replicates"] if args.replicates else [])
    if clash:
        raise AnalysisError(
            f"--repweights carries the design: leave out {', '.join(clash)} (R svrepdesign "
            "takes the replicate columns and the full-sample weights only)"
        )
    if not args.weight:
        raise AnalysisError("--repweights needs --weight, the full-sample sampling weights")
    if not args.rep_type:
        raise AnalysisError("--repweights needs --rep-type JK1|JKn|BRR|Fay|bootstrap")
    rscales = None
    if args.rep_rscales:
        try:
            rscales = [float(v) for v in _split(args.rep_rscales)]
        except ValueError:
            raise AnalysisError(
                f"--rep-rscales {args.rep_rscales!r} must be numbers, comma-separated"
            ) from None
    return replicate_design(
        data,
        args.repweights,
        args.rep_type,
        weight=args.weight,
        rho=args.rep_rho,
        scale=args.rep_scale,
        rscales=rscales,
        mse=args.rep_mse,
    )


def _design(args: argparse.Namespace, data: Any) -> Any:
    from analysis.design import counter_design, general_design

    if args.repweights:
        return _replicate_design(args, data)
    if args.rep_type:
        raise AnalysisError("--rep-type goes with --repweights (the replicate-weight columns)")
    if args.psu or args.weight:
        design = general_design(
            data,
            strata=args.strata,
            psu=_split(args.psu),
            weight=args.weight,
            fpc=_split(args.fpc),
            lonely_psu=args.lonely_psu,
        )
    else:
        design = counter_design(
            data,
            service_point=args.strata or "service_point",
            volume=args.fpc or "volume",
            lonely_psu=args.lonely_psu,
        )
    if args.rake:
        import pandas as pd

        from analysis.weights import rake

        margins = {}
        for spec in args.rake:
            if "=" not in spec:
                raise AnalysisError(f"--rake {spec!r} must be written COL=MARGINS.csv")
            col, path = spec.split("=", 1)
            try:
                margins[col] = pd.read_csv(path, dtype={col: str})
            except FileNotFoundError:
                raise AnalysisError(f"margins file not found: {path}") from None
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise AnalysisError(f"cannot read margins file {path}: {exc}") from None
            if "share" not in margins[col].columns:
                raise AnalysisError(f"margins file {path} needs a 'share' column")
        design = rake(
            design,
            data,
            margins,
            max_iterations=args.rake_max_iterations,
            tolerance=args.rake_tolerance,
        )
    if args.replicates:
        from analysis.replicates import as_replicate_design

        return as_replicate_design(design, args.replicates, mse=args.rep_mse)
    return design


def _design_columns(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns the design needs."""
    numeric: list[str] = []
    categorical: list[str] = []
    if args.repweights:
        import fnmatch

        import pandas as pd

        try:
            header = [str(c) for c in pd.read_csv(args.file, nrows=0).columns]
        except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
            header = []  # _read_csv reports it
        for part in _split(args.repweights):
            hits = [c for c in header if fnmatch.fnmatchcase(c, part)]
            if header and not hits:
                raise AnalysisError(
                    f"--repweights {part!r} matches no column of {args.file} (columns: "
                    f"{', '.join(header[:25])})"
                )
            numeric += hits
        numeric += [c for c in (args.weight,) if c]
        return numeric, categorical
    if args.psu or args.weight:
        categorical += [c for c in (args.strata,) if c] + _split(args.psu)
        numeric += [c for c in (args.weight,) if c] + _split(args.fpc)
    else:
        if len(_split(args.fpc)) > 1:
            raise AnalysisError(
                f"--fpc {args.fpc!r} gives several stages but the counter design has one: give "
                "--psu with one id column per stage for a multistage design"
            )
        categorical.append(args.strata or "service_point")
        numeric.append(args.fpc or "volume")
    for spec in args.rake:
        if "=" in spec:
            categorical.append(spec.split("=", 1)[0])
    return numeric, categorical


def _items(args: argparse.Namespace, header_cols: list[str] | None = None) -> list[str]:
    items = _split(args.items)
    if items:
        return items
    if args.measure in ("prop", "mean"):
        return ["q_overall"]
    if args.measure == "ratio":
        raise AnalysisError("--measure ratio needs --items (the item columns to pool)")
    raise AnalysisError(f"--measure {args.measure} needs --items (the numeric column(s))")


def _scale(args: argparse.Namespace) -> tuple[int, int] | None:
    """--scale LO-HI as a pair, None when not given."""
    if not args.scale:
        return None
    parts = args.scale.replace("–", "-").split("-")
    try:
        lo, hi = (int(parts[0]), int(parts[1])) if len(parts) == 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or hi is None or lo >= hi:
        raise AnalysisError(f"--scale {args.scale!r} must be written LOW-HIGH, e.g. 1-5")
    return lo, hi


def _quantiles(args: argparse.Namespace) -> list[float]:
    try:
        qs = [float(q) for q in _split(args.quantiles)]
    except ValueError:
        raise AnalysisError(
            f"--quantiles {args.quantiles!r} must be numbers between 0 and 1, e.g. 0.25,0.5"
        ) from None
    if not qs or any(not 0 <= q <= 1 for q in qs):
        raise AnalysisError(
            f"--quantiles {args.quantiles!r} must be numbers between 0 and 1, e.g. 0.25,0.5"
        )
    return qs


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _emit(rows: list[dict[str, Any]], fmt: str, payload: dict[str, Any], key: str) -> str:
    if fmt == "json":
        return json.dumps(payload, ensure_ascii=False, allow_nan=False)
    flat = []
    for r in rows:
        d = {}
        for k, v in r.items():
            if isinstance(v, dict):
                for gk, gv in v.items():
                    d[f"{k}.{gk}" if k != "group" else gk] = gv
            elif not isinstance(v, list):
                d[k] = v
        flat.append(d)
    cols: list[str] = list(dict.fromkeys(k for d in flat for k in d))
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for d in flat:
            w.writerow({k: ("" if d.get(k) is None else d.get(k)) for k in cols})
        return buf.getvalue().rstrip("\n")

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.1f}"
        return str(v)

    table = [[cell(d.get(c)) for c in cols] for d in flat]
    widths = [
        max(len(c), *(len(r[i]) for r in table)) if table else len(c) for i, c in enumerate(cols)
    ]
    lines = ["  ".join(c.ljust(wd) for c, wd in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(wd) for v, wd in zip(r, widths, strict=True)) for r in table]
    return "\n".join(lines)


def run_indices(args: argparse.Namespace) -> str:
    from analysis import estimators

    by = _split(args.by)
    elements = estimators.parse_elements(args.elements) if args.elements else None
    items = [c for cols in elements.values() for c in cols] if elements else _items(args)
    numeric, categorical = _design_columns(args)
    data = _read_csv(
        args.file, [*items, *by, *numeric, *categorical], items + numeric, by + categorical
    )
    design = _design(args, data)
    common = dict(confidence_level=args.level, min_n=args.min_n)
    scale = _scale(args)
    if elements:
        ew = None
        if args.element_weights:
            ew = {}
            for part in _split(args.element_weights):
                if "=" not in part:
                    raise AnalysisError(f"element weight {part!r} must be written name=number")
                k, v = part.split("=", 1)
                try:
                    ew[k.strip()] = float(v)
                except ValueError:
                    raise AnalysisError(f"element weight {part!r} is not a number") from None
        ests = estimators.element_indices(
            data,
            elements,
            design,
            by or None,
            element_weights=ew,
            satisfied_from=args.satisfied_from,
            ci_method=args.ci,
            **common,
        )
    elif args.measure == "prop":
        ests = [
            e
            for item in items
            for e in estimators.estimate_proportion(
                data,
                item,
                design,
                by or None,
                satisfied_from=args.satisfied_from,
                ci_method=args.ci,
                scale=scale or (1, 5),
                **common,
            )
        ]
    elif args.measure == "total":
        ests = [
            e
            for item in items
            for e in estimators.estimate_total(
                data, item, design, by or None, scale=scale or estimators.AUTO, **common
            )
        ]
    elif args.measure == "quantile":
        qs = _quantiles(args)
        ests = [
            e
            for item in items
            for e in estimators.estimate_quantile(
                data,
                item,
                design,
                by or None,
                quantiles=qs,
                scale=scale or estimators.AUTO,
                **common,
            )
        ]
    elif args.measure == "ratio":
        ests = estimators.estimate_ratio(
            data,
            items,
            design,
            by or None,
            satisfied_from=args.satisfied_from,
            ci_method=args.ci,
            **common,
        )
    else:
        ests = [
            e
            for item in items
            for e in estimators.estimate_mean(
                data,
                item,
                design,
                by or None,
                index=args.index,
                scale=scale or estimators.AUTO,
                **common,
            )
        ]
    target = None
    tester = None
    population = None
    if args.target:
        from analysis.targets import parse_target, test_target

        target = parse_target(args.target)
        tester = test_target
        population = _populations(data, design, items, elements, args.measure)
    rows = []
    for e in ests:
        row: dict[str, Any] = {
            "group": e.group,
            "measure": e.measure,
            "n": e.n,
            "n_eff": _clean(e.n_eff),
            "estimate": e.estimate,
            "se": e.se,
            "ci_low": e.ci_low,
            "ci_high": e.ci_high,
            "df": e.df,
            "deff": e.deff,
            "status": e.status,
            "note": e.note,
        }
        if target is not None and tester is not None and population is not None:
            t = tester(e, target, population=population(e))
            spread = t.additional_n_range
            row.update(
                target=target.label(),
                p_value=t.p_value,
                alternative=t.alternative,
                verdict=t.verdict,
                additional_n=t.additional_n,
                additional_n_low=spread[0] if spread else None,
                additional_n_high=spread[1] if spread else None,
                census=t.census,
                population=t.population,
                verdict_note=t.note,
            )
        rows.append(row)
    payload = {
        "command": "indices",
        "measure": "elements" if elements else args.measure,
        "items": items,
        "by": by,
        "design": design.description,
        "lonely_psu": design.lonely_psu,
        "replicates": getattr(design, "rep_type", None),
        "ci_method": args.ci
        if (elements or args.measure in ("prop", "ratio"))
        else "woodruff"
        if args.measure == "quantile"
        else "wald",
        "confidence_level": args.level,
        "min_n": args.min_n,
        "target": target.label() if target else None,
        "deff_definition": estimators.DEFF_DEFINITION,
        "groups": rows,
    }
    if target is not None:
        payload["notes"] = INDICES_NOTES
    out = _emit(rows, args.format, payload, "groups")
    if args.format == "table":
        out += f"\n\ndesign: {design.description}\n{estimators.DEFF_DEFINITION}"
    return out


INDICES_NOTES = {
    "p_value": "one-sided, in the direction of 'alternative' (greater: above the target, less: "
    "below), from inverting the group's own interval, so p_value < (1 - level)/2 exactly when "
    "the interval excludes the target; inside a band the larger of the two one-sided p-values",
    "additional_n": "more responses for the interval to decide with 80% power if the estimate "
    "were the truth; capped at the population not yet surveyed when it is known (census); "
    "additional_n_low/high: the same for the ends of a 95% interval of the design effect when it "
    "rests on fewer than 30 degrees of freedom",
    "population": "the group's population size from the design's volumes or fpc (empty when not "
    "known: no finite population correction, or clustered PSUs)",
}
COMPARE_NOTES = {
    "p_value": "two-sided p-value of the test of each pair, per comparison",
    "ci_low": "ci_low/ci_high: per-comparison t intervals of the difference a - b, not "
    "simultaneous: they go with p_value, not with the adjusted p-values",
    "p_holm": "Holm-adjusted p-value over the pairs of one test (family-wise error)",
    "p_bh": "Benjamini-Hochberg-adjusted p-value over the pairs of one test (false discovery rate)",
    "statistic": "Rao-Scott (shares) or Wald (ratios, means) F test that the groups differ, "
    "significant when its p_value is below 1 - confidence_level",
}


def _populations(
    data: Any, design: Any, items: list[str], elements: dict[str, list[str]] | None, measure: str
) -> Any:
    """A function giving each estimate's known population size (analysis.targets)."""
    import numpy as np
    import pandas as pd

    from analysis.targets import known_population

    cache: dict[tuple[str, ...], Any] = {}

    def answered(columns: list[str]) -> Any:
        key = tuple(columns)
        if key not in cache:
            cache[key] = np.column_stack(
                [pd.to_numeric(data[c], errors="coerce").notna().to_numpy() for c in columns]
            ).any(axis=1)
        return cache[key]

    def population(e: Any) -> float | None:
        if elements and e.measure.startswith("element:"):
            rows = answered(elements[e.measure.split(":", 1)[1]])
        elif elements or measure == "ratio":
            rows = answered(items)
        else:
            rows = answered(items[:1])
        for column, value in e.group.items():
            rows = rows & (data[column] == value).to_numpy()
        return known_population(design, rows)

    return population


def run_compare(args: argparse.Namespace) -> str:
    from analysis.compare import compare_groups

    by = _split(args.by)
    if not by:
        raise AnalysisError("compare needs --by (the groups to compare, e.g. agency)")
    if args.measure not in ("prop", "ratio", "mean"):
        raise AnalysisError(
            f"compare tests --measure prop, ratio or mean, not {args.measure!r}: use indices "
            f"--measure {args.measure} for estimates by group"
        )
    items = _items(args)
    if args.measure in ("prop", "mean") and len(items) > 1:
        raise AnalysisError(
            f"compare --measure {args.measure} tests one item, but --items gives {len(items)} "
            f"({', '.join(items)}): run compare once per item, or use --measure ratio to pool them"
        )
    within = [args.within] if args.within else []
    numeric, categorical = _design_columns(args)
    data = _read_csv(
        args.file,
        [*items, *by, *within, *numeric, *categorical],
        items + numeric,
        by + within + categorical,
    )
    design = _design(args, data)
    tests = compare_groups(
        data,
        design,
        by,
        args.within,
        measure=args.measure,
        items=items,
        satisfied_from=args.satisfied_from,
        confidence_level=args.level,
        min_n=args.min_n,
    )
    rows = []
    for t in tests:
        d = t.to_dict()
        rows.append(
            {
                "within": d["within"],
                "method": d["method"],
                "statistic": d["statistic"],
                "ndf": d["ndf"],
                "ddf": d["ddf"],
                "p_value": d["p_value"],
                "pearson_chisq": d["pearson_chisq"],
                "n": d["n"],
                "groups": d["groups"],
                "confidence_level": d["confidence_level"],
                "note": d["note"],
                "pairs": d["pairs"],
            }
        )
    payload = {
        "command": "compare",
        "measure": args.measure,
        "items": items,
        "by": by,
        "within": args.within,
        "design": design.description,
        "tests": rows,
        "notes": COMPARE_NOTES,
    }
    if args.format == "json":
        return _emit(rows, "json", payload, "tests")
    pair_rows = []
    for r in rows:
        for p in r["pairs"]:
            pair_rows.append(
                {
                    **{f"within.{k}": v for k, v in r["within"].items()},
                    **{f"a.{k}": v for k, v in p["group_a"].items()},
                    **{f"b.{k}": v for k, v in p["group_b"].items()},
                    **{k: v for k, v in p.items() if k not in ("group_a", "group_b")},
                }
            )
    out = _emit(rows, args.format, payload, "tests")
    if pair_rows:
        out += "\n\n" + _emit(pair_rows, args.format, payload, "pairs")
    return out


def run_ranks(args: argparse.Namespace) -> str:
    from analysis.ranks import rank_units, summarize_rank

    by = _split(args.by)
    if not by:
        raise AnalysisError("ranks needs --by (the units to rank, e.g. agency)")
    if args.measure not in ("prop", "ratio", "mean"):
        raise AnalysisError(
            f"ranks orders units by --measure prop, ratio or mean, not {args.measure!r}"
        )
    items = _items(args)
    if args.measure in ("prop", "mean") and len(items) > 1:
        raise AnalysisError(
            f"ranks --measure {args.measure} ranks by one item, but --items gives "
            f"{len(items)} ({', '.join(items)}): use --measure ratio to pool them"
        )
    numeric, categorical = _design_columns(args)
    data = _read_csv(
        args.file, [*items, *by, *numeric, *categorical], items + numeric, by + categorical
    )
    design = _design(args, data)
    table = rank_units(
        data,
        design,
        by,
        measure=args.measure,
        items=items,
        satisfied_from=args.satisfied_from,
        confidence_level=args.level,
        min_n=args.min_n,
        draws=args.draws,
        seed=args.seed,
    )
    rows = []
    for r in table:
        d = r.to_dict()
        d["summary"] = summarize_rank(r, language=args.language)
        rows.append(d)
    payload = {
        "command": "ranks",
        "measure": args.measure,
        "items": items,
        "by": by,
        "design": design.description,
        "method": "Mogstad-Romano-Shaikh-Wilhelm (2024) simultaneous rank intervals; "
        "empirical-Bayes (Paule-Mandel) shrinkage",
        "confidence_level": args.level,
        "draws": args.draws,
        "seed": args.seed,
        "units": rows,
    }
    return _emit(rows, args.format, payload, "units")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.__class__ = _Parser
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        for sp in getattr(action, "choices", {}).values():
            sp.__class__ = _Parser
    try:
        args = parser.parse_args(argv)
        run = {"indices": run_indices, "compare": run_compare, "ranks": run_ranks}[args.command]
        out = run(args)
    except _Usage as exc:
        print(f"error: {exc} (see python -m analysis --help)", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except MemoryError:
        print("error: not enough memory for this file", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    sys.stdout.write(out + "\n")
    return 0
