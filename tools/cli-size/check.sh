#!/usr/bin/env bash
# The command line stays thin (ARCHITECTURE.md): no file of the `ordo` command over 400 lines.
# Business logic and scenarios belong in the library crates; a CLI file that grows past the
# bound is the sign that logic crept in. Exit 1 names the files.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAX=400
over=$(find engine/cli/src -name '*.rs' -print0 | xargs -0 wc -l | awk -v max="$MAX" '$2 != "total" && $1 > max { print $2 " (" $1 " lines)" }')
if [ -n "$over" ]; then
  echo "CLI files over $MAX lines (move the logic into a library crate):" >&2
  echo "$over" >&2
  exit 1
fi
echo "ok  no file under engine/cli/src over $MAX lines"
