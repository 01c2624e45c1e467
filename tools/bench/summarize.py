"""Reads BENCH lines from files (or stdin) and prints one table per bench:
each config, each implementation's time and rate, and the ratio of the best
baracuda SKU to every peer measured in the same run (> 1: baracuda faster).

    python3 tools/bench/summarize.py LOG [LOG ...] [--markdown]
"""
import collections
import json
import sys

PEER_PREFIXES = ("torch", "cuda")


def load(paths):
    rows = []
    streams = [open(p) for p in paths] if paths else [sys.stdin]
    for stream in streams:
        for line in stream:
            if line.startswith("BENCH "):
                try:
                    rows.append(json.loads(line[6:]))
                except json.JSONDecodeError:
                    pass
    return rows


def rate(row):
    for key, unit in (("tflops", "TFLOP/s"), ("gbps", "GB/s")):
        if key in row:
            return row[key], unit
    return None, ""


def floor_text(row):
    """The per-round ratio read-floor time / this kernel's time on the same tensors."""
    lo, hi = row["floor_ratio_range"]
    return f"of read floor x{row['floor_ratio_median']:.3f} ({lo:.3f}-{hi:.3f})"


def main(argv):
    markdown = "--markdown" in argv
    rows = load([a for a in argv if not a.startswith("--")])
    by_bench = collections.OrderedDict()
    for r in rows:
        by_bench.setdefault(r["bench"], collections.OrderedDict()).setdefault(r["config"], []).append(r)
    for bench, configs in by_bench.items():
        print(f"\n## {bench}\n" if markdown else f"\n=== {bench}")
        if markdown:
            print("| config | best baracuda SKU | time (us) | rate | peers (rate; ratio) |\n|---|---|---|---|---|")
        for config, items in configs.items():
            ours = [r for r in items if not r["impl"].startswith(PEER_PREFIXES)]
            peers = [r for r in items if r["impl"].startswith(PEER_PREFIXES)]
            best = min(ours, key=lambda r: r["median_us"]) if ours else None
            peer_text = []
            for p in peers:
                value, unit = rate(p)
                timing = f"{p['median_us']:.1f} us"
                if best and best["median_us"] > 0 and p["median_us"] > 0:
                    timing += f"; x{p['median_us'] / best['median_us']:.2f}"
                if "floor_ratio_median" in p:
                    timing += f"; {floor_text(p)}"
                peer_text.append(f"{p['impl']} {value:.0f} {unit} ({timing})" if value is not None
                                 else f"{p['impl']} ({timing})")
            if best:
                value, unit = rate(best)
                extra = f" frac_copy={best['frac_copy']:.2f}" if "frac_copy" in best else ""
                if "saved_us" in best:
                    extra += (f" saved {best['saved_us']:.1f} us vs pass {best['saved_pass_us']:.1f} us"
                              f" (at most {best['saved_ceiling_us']:.1f}; parts alone"
                              f" {best['parts_alone_us']:.1f} us)")
                if "paired_ratio_median" in best:
                    lo, hi = best["paired_ratio_range"]
                    extra += (f" paired x{best['paired_ratio_median']:.3f} ({lo:.3f}-{hi:.3f}, "
                              f"faster in {best['rounds_faster']}/{len(best['rounds_us'])} rounds)")
                if "floor_ratio_median" in best:
                    extra += f" {floor_text(best)}"
                head = f"{best['impl']} | {best['median_us']:.1f} | "
                if value is not None:
                    head += f"{value:.0f} {unit}{extra}"
            else:
                head = "- | - | -"
            if markdown:
                print(f"| {config} | {head} | {'; '.join(peer_text)} |")
            else:
                print(f"{config:44s} {head.replace(' | ', '  ')}  ||  {'; '.join(peer_text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
