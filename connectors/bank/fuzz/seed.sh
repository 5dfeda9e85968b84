#!/usr/bin/env bash
# Seeds each target's corpus with the matching fixtures (corpus/ is not committed).
cd "$(dirname "$0")"
F=../tests/fixtures
mkdir -p corpus/camt corpus/mt940 corpus/bai2 corpus/csv
cp $F/*.xml corpus/camt/; cp $F/*.sta corpus/mt940/; cp $F/*.bai2 corpus/bai2/; cp $F/*.csv corpus/csv/
