#!/usr/bin/env python3
"""Write a pyx12 map directory that can check X12 005010 997s.

pyx12 4.0.0 cannot read a 5010 997 at all: its maps.xml lists 997.5010.xml for GS08 005010
/ GS01 FA only inside a comment, and the package does not ship that file. This copies
pyx12's map directory to OUTDIR, adds that index entry, and derives 997.5010.xml from its
997.4010.xml with what 5010 changed in the 997, taken from pyx12's own 5010 999 map
(999.5010X231.A1.xml):
  - ISA11 (repetition separator) and ISA12 (00501) as the 999 map defines them, GS08 005010;
  - AK103 and AK203 (version / implementation convention reference, optional in a 997);
  - the 5010 code lists: AK304 <- IK304, AK403 <- IK403, AK502..AK506 <- IK502..IK506,
    AK905..AK909 <- AK905..AK909 (data elements 720/620, 723/621, 718/618, 716).
Loops, usage, element types and lengths stay the 4010 997's.

Usage: python3 pyx12_map_997_5010.py OUTDIR   (then check_x12_pyx12.py --map-path OUTDIR)
"""
import copy
import os
import shutil
import sys
import xml.etree.ElementTree as ET


def main(argv):
    if len(argv) != 1:
        print(__doc__)
        return 2
    import pyx12

    src = os.path.join(os.path.dirname(pyx12.__file__), "map")
    out = argv[0]
    shutil.copytree(src, out, dirs_exist_ok=True)
    t4 = ET.parse(os.path.join(src, "997.4010.xml"))
    t9 = ET.parse(os.path.join(src, "999.5010X231.A1.xml"))
    parents = {c: p for p in t4.iter() for c in p}

    def el(tree, xid):
        found = [e for e in tree.iter("element") if e.get("xid") == xid]
        if not found:
            raise SystemExit(f"pyx12 map has no element {xid}")
        return found[0]

    def codes(e):
        return [c.text for c in e.iter("code")]

    def set_codes(e, values):
        vc = e.find("valid_codes")
        if vc is None:
            raise SystemExit(f"{e.get('xid')} has no code list")
        for c in list(vc):
            vc.remove(c)
        for v in values:
            ET.SubElement(vc, "code").text = v

    for xid in ("ISA11", "ISA12"):
        old = el(t4, xid)
        parent = parents[old]
        parent.insert(list(parent).index(old), copy.deepcopy(el(t9, xid)))
        parent.remove(old)
    set_codes(el(t4, "GS08"), ["005010"])
    set_codes(el(t4, "AK304"), codes(el(t9, "IK304")))
    set_codes(el(t4, "AK403"), codes(el(t9, "IK403")))
    for n in range(2, 7):
        set_codes(el(t4, f"AK50{n}"), codes(el(t9, f"IK50{n}")))
    for n in range(5, 10):
        set_codes(el(t4, f"AK90{n}"), codes(el(t9, f"AK90{n}")))
    for after, new in (("AK102", "AK103"), ("AK202", "AK203")):
        anchor = el(t4, after)
        parent = parents[anchor]
        e = copy.deepcopy(el(t9, new))
        e.find("usage").text = "S"
        parent.insert(list(parent).index(anchor) + 1, e)
    t4.getroot().find("name").text = "Functional Acknowledgment 997 (005010, derived)"
    t4.write(os.path.join(out, "997.5010.xml"), encoding="utf-8", xml_declaration=True)

    index = ET.parse(os.path.join(src, "maps.xml"))
    v5010 = [v for v in index.getroot().iter("version") if v.get("icvn") == "00501"]
    if not v5010:
        raise SystemExit("pyx12 maps.xml has no 00501 version")
    entry = ET.SubElement(v5010[0], "map", vriic="005010", fic="FA", abbr="997")
    entry.text = "997.5010.xml"
    index.write(os.path.join(out, "maps.xml"), encoding="utf-8", xml_declaration=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
