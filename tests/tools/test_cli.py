"""baracuda-catalog: commands, exit codes, and agreement with the manifest."""
import json
import os
import pathlib
import subprocess
import sys
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXE = os.environ.get("BARACUDA_CATALOG", "baracuda-catalog")


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60)


class Cli(unittest.TestCase):
    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("list", "show", "explain", "matrix"):
            self.assertIn(cmd, r.stdout)
        self.assertEqual(run().returncode, 2)

    def test_list_json_matches_manifest(self):
        r = run("list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        compiled = json.loads(r.stdout)
        self.assertTrue(compiled)
        manifest = {s["name"]: s for s in json.loads((ROOT / "generated" / "manifest.json").read_text())["skus"]}
        for s in compiled:
            m = manifest[s["name"]]
            self.assertEqual(s["op"], m["op"])
            self.assertEqual(s["element"], m["element"])
            for key in ("math", "accumulator", "deterministic", "bit_stable", "batch_invariant"):
                self.assertEqual(s[key], m["guarantee"][key], (s["name"], key))
            self.assertAlmostEqual(s["max_rel_error"], m["guarantee"]["max_rel_error"], places=12)

    def test_list_filters_and_table(self):
        op = json.loads(run("list", "--json").stdout)[0]["op"]  # an op this build compiled
        r = run("list", "--op", op)
        self.assertEqual(r.returncode, 0)
        rows = [line for line in r.stdout.splitlines() if line.startswith(op + "_")]
        self.assertTrue(rows)
        self.assertIn("compiled SKUs", r.stdout)
        self.assertEqual(run("list", "--op", "gemm").returncode, 2)
        self.assertEqual(run("list", "--bogus").returncode, 2)

    def test_show(self):
        name = json.loads(run("list", "--json").stdout)[0]["name"]
        r = run("show", name)
        self.assertEqual(r.returncode, 0)
        self.assertIn("error bound", r.stdout)
        bad = run("show", "no_such_sku")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("no compiled SKU named 'no_such_sku'", bad.stderr)

    def test_explain(self):
        compiled = {s["name"] for s in json.loads(run("list", "--json").stdout)}
        r = run("explain", "--op", "kv_append", "--element", "bf16", "--head-dim", "96", "--target", "sm80")
        if "kv_append_bf16_hdany_sm80" in compiled:
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("chosen: kv_append_bf16_hdany_sm80", r.stdout)
        if "kv_append_bf16_hd128_sm80" in compiled:
            self.assertIn("kv_append_bf16_hd128_sm80: rejected: head dim 128, problem is 96", r.stdout)
        forced = run("explain", "--op", "kv_append", "--force", "nope", "--target", "sm80")
        self.assertEqual(forced.returncode, 1)
        self.assertIn("chosen: none", forced.stdout)
        invalid = run("explain", "--op", "attn_fwd", "--heads-q", "12", "--heads-kv", "5", "--target", "sm80")
        self.assertEqual(invalid.returncode, 1)
        self.assertIn("heads_q = 12: must be a multiple of heads_kv = 5", invalid.stdout)
        self.assertEqual(run("explain", "--target", "hopper").returncode, 2)

    def test_matrix(self):
        r = run("matrix")
        self.assertEqual(r.returncode, 0)
        self.assertIn("| op | backend | element |", r.stdout)


if __name__ == "__main__":
    sys.exit(unittest.main())
