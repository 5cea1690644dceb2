"""Peer implementations of benchmark 1 (share satisfied by agency, logit CI, design A).

Run as ``python -m benchmarks.peers svy|samplics FILE.csv``; each reads the CSV itself so that the
timing covers the whole process, as for ``python -m analysis``.
"""

from __future__ import annotations

import sys
import warnings


def run_svy(path: str) -> None:
    import polars as pl
    import svy

    df = pl.read_csv(path).with_columns((pl.col("q_overall") >= 4).cast(pl.Int64).alias("sat"))
    sample = svy.Sample(df, svy.Design(stratum="service_point", wgt="weight", pop_size="volume"))
    est = sample.estimation.prop("sat", by="agency", ci_method="logit")
    print(est)


def run_samplics(path: str) -> None:
    import pandas as pd

    warnings.simplefilter("ignore")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    df = pd.read_csv(path)
    sat = (df["q_overall"] >= 4).astype(int)
    est = TaylorEstimator(PopParam.prop, ciprop_method="logit")
    # fpc omitted: samplics expects per-stratum fractions; the timing is what matters here
    est.estimate(y=sat, samp_weight=df["weight"], stratum=df["service_point"], domain=df["agency"])
    print(est.to_dataframe().head())


if __name__ == "__main__":
    {"svy": run_svy, "samplics": run_samplics}[sys.argv[1]](sys.argv[2])
