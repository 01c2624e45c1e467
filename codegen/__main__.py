"""python3 -m codegen [--out DIR] [--axes FILE.json] [--check]

Writes the generated catalog: one .cu per SKU, the registry table, the
manifest, the support matrix and the Meson source list. Output is
byte-for-byte deterministic; files whose content is unchanged are not
rewritten, and files no SKU produces any more are removed.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

from . import emit
from .catalog import build, merge_axes
from .sku import SkuError

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m codegen", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "generated",
                    help="output folder (default: generated/)")
    ap.add_argument("--axes", type=pathlib.Path,
                    help='JSON file overriding catalog axes, e.g. {"attn_fwd": {"head_dims": [64, 72, 128]}}')
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if the output folder differs from what would be written")
    args = ap.parse_args(argv)
    try:
        axes = merge_axes(json.loads(args.axes.read_text())) if args.axes else None
        skus = build(axes)
    except (SkuError, OSError, json.JSONDecodeError) as err:
        print(f"codegen: {err}", file=sys.stderr)
        return 2
    files = emit.render_all(skus)
    if args.check:
        stale = emit.diff(files, args.out)
        for line in stale:
            print(line)
        return 1 if stale else 0
    written, removed = emit.write(files, args.out)
    print(f"codegen: {len(skus)} SKUs, {len(files)} files in {args.out} "
          f"({written} written, {removed} removed, {len(files) - written} unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
