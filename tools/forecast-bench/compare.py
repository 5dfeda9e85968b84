"""Runs statsforecast's AutoETS and CrostonOptimized on the series and rolling origins ordo's
bench used (its --out JSON), with the same MASE scale and bias definition, and prints one table:
per series MASE/bias of ordo, seasonal naive, AutoETS and CrostonOptimized.

Exit status 1 when ordo's MASE is worse than seasonal naive's on any series (CI fails then).
The second target, ordo's mean MASE within 5 % of statsforecast's (AutoETS on regular series,
CrostonOptimized on intermittent ones, by the same 1.32 average-interval cut-off ordo uses),
is printed as met or missed."""
import json
import math
import os
import sys
import warnings

import numpy as np
from statsforecast.models import AutoETS, CrostonOptimized

warnings.filterwarnings("ignore")


def scale(train, m):
    def mad(lag):
        if len(train) <= lag:
            return 0.0
        return float(np.mean(np.abs(train[lag:] - train[:-lag])))
    lag = m if m > 1 and len(train) > m else 1
    s = mad(lag)
    if s > 0:
        return s
    s1 = mad(1)
    return s1 if s1 > 0 else 1.0


def intermittent(y):
    nz = int(np.count_nonzero(y > 0))
    return nz == 0 or len(y) / nz >= 1.32


def score(model, y, cuts, h, m):
    ms, bs = [], []
    for cut in cuts:
        train, actual = y[:cut], y[cut:cut + h]
        pred = np.asarray(model().forecast(y=train, h=h)["mean"], dtype=float)
        s = scale(train, m)
        ms.append(float(np.mean(np.abs(pred - actual))) / s)
        bs.append(float(np.mean(pred - actual)) / s)
    return sum(ms) / len(ms), sum(bs) / len(bs)


def main() -> int:
    series_dir, results_path = sys.argv[1], sys.argv[2]
    with open(results_path) as f:
        results = json.load(f)
    rows, worse = [], []
    ordo_all, ref_all = [], []
    for r in results:
        name, m, h, cuts = r["name"], r["season"], r["horizon"], r["origins"]
        path = os.path.join(series_dir, f"{name}__m{m}.csv")
        with open(path) as f:
            y = np.array([float(l) for l in f.read().split()[1:]])
        if len(y) != r["length"]:
            print(f"{name}: {len(y)} values, ordo read {r['length']}", file=sys.stderr)
            return 2
        ets = score(lambda: AutoETS(season_length=m if len(y) >= 2 * m else 1), y, cuts, h, m)
        cro = score(lambda: CrostonOptimized(), y, cuts, h, m)
        ref = cro if intermittent(y[: cuts[0]]) else ets
        o, n = r["ordo"], r["seasonal_naive"]
        ordo_all.append(o["mase"])
        ref_all.append(ref[0])
        if o["mase"] > n["mase"] + 1e-9:
            worse.append(name)
        rows.append((name, m, len(y), len(cuts), o["mase"], o["bias"], n["mase"], n["bias"], ets[0], ets[1], cro[0], cro[1]))
    head = ("series", "m", "n", "orig", "ordo", "bias", "snaive", "bias", "AutoETS", "bias", "CrostonOpt", "bias")
    print("%-18s %3s %4s %4s | %7s %7s | %7s %7s | %7s %7s | %10s %7s" % head)
    for row in rows:
        print("%-18s %3d %4d %4d | %7.3f %7.3f | %7.3f %7.3f | %7.3f %7.3f | %10.3f %7.3f" % row)
    mo, mr = sum(ordo_all) / len(ordo_all), sum(ref_all) / len(ref_all)
    print(f"mean MASE: ordo {mo:.3f}, statsforecast (AutoETS regular / CrostonOptimized intermittent) {mr:.3f}, ratio {mo / mr:.3f}")
    print("target within 5 % of statsforecast: " + ("met" if mo <= mr * 1.05 else "MISSED"))
    if worse:
        print("FAIL: ordo is worse than seasonal naive on: " + ", ".join(worse))
        print(f"0 passed, 1 failed")
        return 1
    print(f"1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
