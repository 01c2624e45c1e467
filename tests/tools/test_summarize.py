"""tools/bench/summarize.py: the table the GPU check prints last."""
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "bench" / "summarize.py"


def bench_line(**row):
    return "BENCH " + json.dumps(row)


def summarize(lines, *flags):
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write("\n".join(lines) + "\nnot a bench line\nBENCH {broken json\n")
        path = f.name
    r = subprocess.run([sys.executable, str(SCRIPT), path, *flags], capture_output=True, text=True, timeout=60)
    pathlib.Path(path).unlink()
    return r


class Summarize(unittest.TestCase):
    def test_best_sku_and_peer_ratio(self):
        r = summarize([
            bench_line(bench="rope", config="c1", impl="rope_slow", median_us=200.0, gbps=1000.0),
            bench_line(bench="rope", config="c1", impl="rope_fast", median_us=100.0, gbps=2000.0, frac_copy=0.97),
            bench_line(bench="rope", config="c1", impl="torch_compile", median_us=110.0, gbps=1800.0),
        ])
        self.assertEqual(r.returncode, 0, r.stderr)
        row = next(l for l in r.stdout.splitlines() if l.startswith("c1"))
        self.assertIn("rope_fast", row)
        self.assertNotIn("rope_slow", row)
        self.assertIn("frac_copy=0.97", row)
        self.assertIn("torch_compile 1800 GB/s (110.0 us; x1.10)", row)

    def test_fused_saved_pass(self):
        r = summarize([
            bench_line(bench="rope_kv_append", config="f", impl="rope_kv_append_x", median_us=73.0, gbps=2760.0,
                       frac_copy=0.974, saved_us=11.55, saved_pass_us=11.63, saved_ceiling_us=13.31,
                       parts_alone_us=90.72),
            bench_line(bench="rope_kv_append", config="f", impl="rope_x+kv_append_x", median_us=84.5, gbps=2380.0),
            bench_line(bench="rope_kv_append", config="f", impl="cuda_fused_pattern_floor", median_us=72.5,
                       gbps=2779.0),
        ], "--markdown")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("## rope_kv_append", r.stdout)
        row = next(l for l in r.stdout.splitlines() if l.startswith("| f |"))
        self.assertIn("rope_kv_append_x | 73.0 |", row)
        self.assertIn("frac_copy=0.97 saved 11.6 us vs pass 11.6 us (at most 13.3; parts alone 90.7 us)", row)
        self.assertIn("cuda_fused_pattern_floor 2779 GB/s (72.5 us; x0.99)", row)


if __name__ == "__main__":
    unittest.main()
