#!/usr/bin/env bash
# A copy of the project whose generated/ comes from other catalog axes (this
# tree's generated/ stays the default catalog). Prints the specialized head
# dims the axes name, comma-separated, for -Dhead_dims. Repeated calls update
# the copy in place (unchanged files keep their times: builds stay incremental).
#   tools/axes_tree.sh AXES.json DEST
set -euo pipefail
axes=$(realpath "$1")
dest=$(realpath -m "$2")
cd "$(dirname "$0")/.."
mkdir -p "$dest"
cp -a meson.build meson.options codegen templates generated runtime tests tools "$dest"/
(cd "$dest" && python3 -m codegen --axes "$axes" >&2)
python3 -c 'import json, sys
d = {v for op in json.load(open(sys.argv[1])).values() for v in op.get("head_dims", [])}
print(",".join(str(v) for v in sorted(v for v in d if isinstance(v, int) and v > 0)))' "$axes"
