"""Writes the public sales series the forecast bench uses as NAME__mSEASON.csv files (one
number per line after a `value` header) into the folder given. The data ship inside the
pmdarima package (pmdarima.datasets, bundled with the wheel; no download); see README.md in
this folder for each series' source."""
import os
import sys

import pmdarima.datasets as ds

# name: (loader, season length, in the CI subset)
SERIES = {
    "wineind": (ds.load_wineind, 12, True),
    "airpassengers": (ds.load_airpassengers, 12, True),
    "ausbeer": (ds.load_ausbeer, 4, True),
    "woolyrnq": (ds.load_woolyrnq, 4, False),
}


def main() -> int:
    out, subset = sys.argv[1], "--ci" in sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for name, (load, m, ci) in SERIES.items():
        if subset and not ci:
            continue
        y = [float(v) for v in load()]
        # ausbeer ends with an empty (NaN) quarter: trailing gaps are not data.
        while y and y[-1] != y[-1]:
            y.pop()
        if any(v != v or v < 0 for v in y):
            print(f"{name}: missing or negative values", file=sys.stderr)
            return 2
        with open(os.path.join(out, f"{name}__m{m}.csv"), "w") as f:
            f.write("value\n" + "".join(f"{v!r}\n" for v in y))
    return 0


if __name__ == "__main__":
    sys.exit(main())
