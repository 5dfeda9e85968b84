#!/usr/bin/env python3
"""Compare ordo-bank's normalized JSON (``cargo run -p ordo-bank --example parse``) with an
oracle's JSON (check_mt940.py / check_bai2.py output). Our own code; exit 0 = agree,
1 = disagreement (printed), 2 = bad input.

usage: compare.py mt940|bai2 ORACLE.json ORDO.json
"""
import json
import sys
from decimal import Decimal


def signed(e):
    a = Decimal(str(e["amount"]))
    return a if e["direction"] == "credit" else -a


def fail(msgs):
    for m in msgs:
        print("  DIFF " + m)
    return 1 if msgs else 0


def mt940(oracle, ours):
    diffs = []
    ost = oracle["statements"]
    if len(ost) != len(ours):
        return fail([f"statements: oracle {len(ost)}, ordo {len(ours)}"])
    for i, (o, s) in enumerate(zip(ost, ours)):
        if len(o["entries"]) != len(s["entries"]):
            diffs.append(f"stmt {i}: entries oracle {len(o['entries'])}, ordo {len(s['entries'])}")
            continue
        for j, (oe, se) in enumerate(zip(o["entries"], s["entries"])):
            oa = Decimal(oe["amount"])
            # mt-940 (Options.all): C/RD positive, D/RC negative.
            if signed(se) != oa:
                diffs.append(f"stmt {i} entry {j}: oracle {oa}, ordo {signed(se)}")
        for key in ("opening", "closing"):
            ob = o.get(key)
            sb = s.get(key)
            if ob is None or sb is None:
                continue
            ov = Decimal(ob["amount"])  # the oracle signs balances already (D negative)
            if ov != Decimal(str(sb["amount"])):
                diffs.append(f"stmt {i} {key}: oracle {ov}, ordo {sb['amount']}")
    return fail(diffs)


def bai2(oracle, ours):
    diffs = []
    accts = [a for g in oracle["groups"] for a in g["accounts"]]
    if len(accts) != len(ours):
        return fail([f"accounts: oracle {len(accts)}, ordo {len(ours)}"])
    for i, (o, s) in enumerate(zip(accts, ours)):
        if o["account"] != s["account"]:
            diffs.append(f"account {i}: oracle {o['account']}, ordo {s['account']}")
        if len(o["details"]) != len(s["entries"]):
            diffs.append(f"account {i}: details oracle {len(o['details'])}, ordo {len(s['entries'])}")
        oc = sum(Decimal(d["amount"]) for d in o["details"] if d["type"]["kind"] == "credit")
        od = sum(Decimal(d["amount"]) for d in o["details"] if d["type"]["kind"] == "debit")
        sc = sum(Decimal(str(e["amount"])) for e in s["entries"] if e["direction"] == "credit")
        sd = sum(Decimal(str(e["amount"])) for e in s["entries"] if e["direction"] == "debit")
        if (oc, od) != (sc, sd):
            diffs.append(f"account {i}: credits/debits oracle {oc}/{od}, ordo {sc}/{sd}")
        bal = {x["type"]["code"]: Decimal(x["amount"]) for x in o["summaries"] if x["amount"] is not None}
        for code, key in (("010", "opening"), ("015", "closing")):
            if code in bal and s.get(key) is not None and Decimal(str(s[key]["amount"])) != bal[code]:
                diffs.append(f"account {i} {key}: oracle {bal[code]}, ordo {s[key]['amount']}")
    return fail(diffs)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("mt940", "bai2"):
        print(__doc__)
        return 2
    with open(sys.argv[2]) as f:
        oracle = json.load(f)
    with open(sys.argv[3]) as f:
        ours = json.load(f)
    return {"mt940": mt940, "bai2": bai2}[sys.argv[1]](oracle, ours)


if __name__ == "__main__":
    sys.exit(main())
