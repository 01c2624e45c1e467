"""Generator tests: SKU validation, naming, determinism, freshness checks."""
import json
import pathlib
import re
import tempfile
import unittest

from codegen import __main__ as cli
from codegen import emit
from codegen.catalog import build, merge_axes
from codegen.sku import ANY, Sku, SkuError

NAME = re.compile(r"^(kv_append|attn_fwd|attn_decode|rope|rope_kv_append)_(f16|bf16|f32|f64)_hd(any|\d+(x\d+)?)"
                  r"(_causal)?(_paged)?(_neox)?(_gptj)?(_fixedsplit)?_(sm80|sm90a)(_ref_(f32|f64)acc)?$")


class SkuRecord(unittest.TestCase):
    def assert_rejected(self, fragment, **fields):
        with self.assertRaises(SkuError) as ctx:
            Sku(**fields)
        self.assertIn(fragment, str(ctx.exception))

    def test_invalid_combinations_name_the_valid_values(self):
        self.assert_rejected("valid: {attn_decode, attn_fwd, kv_append, rope, rope_kv_append}",
                             op="matmul", element="f16", head_dim_qk=64)
        self.assert_rejected("valid: {f16, bf16}", op="attn_fwd", element="f32", head_dim_qk=64)
        self.assert_rejected("valid: {sm80}", op="kv_append", element="f16", head_dim_qk=64, arch="sm90a")
        self.assert_rejected("valid: {causal}", op="attn_fwd", element="f16", head_dim_qk=64,
                             variants={"paged"})
        self.assert_rejected("multiples of 16 in [16, 256] or any", op="attn_fwd", element="f16", head_dim_qk=72)
        self.assert_rejected("needs backend 'reference'", op="attn_fwd", element="f16", head_dim_qk=64,
                             accumulator="f64")
        self.assert_rejected("exactly one RoPE style", op="rope", element="f16", head_dim_qk=64)
        self.assert_rejected("valid head dims: {any}", op="attn_fwd", element="f16", head_dim_qk=64,
                             backend="reference")
        self.assert_rejected("no generic kernel", op="attn_decode", element="f16", head_dim_qk=ANY)
        self.assert_rejected("must be equal", op="attn_fwd", element="f16", head_dim_qk=64, head_dim_v=128)

    def test_names(self):
        self.assertEqual(Sku("kv_append", "bf16", 128).name, "kv_append_bf16_hd128_sm80")
        self.assertEqual(Sku("kv_append", "f32", ANY).name, "kv_append_f32_hdany_sm80")
        self.assertEqual(Sku("kv_append", "f16", 64, 128).name, "kv_append_f16_hd64x128_sm80")
        self.assertEqual(Sku("attn_fwd", "bf16", 128, variants={"causal"}).name, "attn_fwd_bf16_hd128_causal_sm80")
        self.assertEqual(Sku("attn_fwd", "f32", ANY, variants={"causal"}, backend="reference",
                             accumulator="f64").name, "attn_fwd_f32_hdany_causal_sm80_ref_f64acc")
        self.assertEqual(Sku("attn_decode", "f16", 128, variants={"fixedsplit", "paged"}).name,
                         "attn_decode_f16_hd128_paged_fixedsplit_sm80")

    def test_guarantees_are_derived(self):
        g = Sku("kv_append", "bf16", 128).guarantee
        self.assertEqual((g["math"], g["max_rel_error"], g["bit_stable"]), ("exact", 0.0, True))
        self.assertFalse(Sku("attn_decode", "bf16", 128).guarantee["batch_invariant"])
        self.assertTrue(Sku("attn_decode", "bf16", 128, variants={"fixedsplit"}).guarantee["batch_invariant"])
        flash = Sku("attn_fwd", "bf16", 128).guarantee
        self.assertEqual((flash["math"], flash["accumulator"]), ("bf16", "f32"))
        ref64 = Sku("attn_fwd", "f64", ANY, backend="reference", accumulator="f64").guarantee
        self.assertLess(ref64["max_rel_error"], 1e-12)
        self.assertLess(Sku("attn_fwd", "f16", 64).guarantee["max_rel_error"], flash["max_rel_error"])


class Catalog(unittest.TestCase):
    def test_default_catalog(self):
        skus = build()
        names = [s.name for s in skus]
        self.assertEqual(names, sorted(set(names)))
        for n in names:
            self.assertRegex(n, NAME)
        ops = {s.op for s in skus}
        self.assertEqual(ops, {"kv_append", "attn_fwd", "attn_decode", "rope", "rope_kv_append"})
        # The head dims and elements are all there.
        for hd in (64, 80, 96, 128, 192, 256):
            for causal in ("", "_causal"):
                self.assertIn(f"attn_fwd_bf16_hd{hd}{causal}_sm80", names)
        for e in ("f16", "bf16", "f32", "f64"):
            for hd in ("64", "128", "256", "any"):
                self.assertIn(f"kv_append_{e}_hd{hd}_sm80", names)
        # Named filter: f64 RoPE only generic.
        self.assertNotIn("rope_f64_hd128_neox_sm80", names)
        self.assertIn("rope_f64_hdany_neox_sm80", names)

    def test_user_axes_add_a_head_dim(self):
        skus = build(merge_axes({"attn_fwd": {"head_dims": [64, 112]}}))
        names = {s.name for s in skus}
        self.assertIn("attn_fwd_f16_hd112_causal_sm80", names)
        self.assertNotIn("attn_fwd_f16_hd128_sm80", names)
        self.assertIn("attn_fwd_f16_hdany_sm80_ref_f64acc", names)  # other backends keep their axes
        with self.assertRaises(SkuError):
            build(merge_axes({"attn_fwd": {"head_dims": [72]}}))
        with self.assertRaises(SkuError):
            merge_axes({"gemm": {}})

    def test_user_axes_any_and_off_catalog_dims(self):
        names = {s.name for s in build(merge_axes({"kv_append": {"head_dims": [96, "any"]},
                                                   "rope": {"head_dims": [80, 0]}}))}
        self.assertIn("kv_append_bf16_hd96_paged_sm80", names)
        self.assertIn("kv_append_f64_hdany_sm80", names)
        self.assertIn("rope_f32_hd80_gptj_sm80", names)
        self.assertIn("rope_f32_hdany_gptj_sm80", names)

    def test_user_axes_errors_name_the_field_and_value(self):
        cases = [
            ({"attn_decode": {"head_dims": [192]}}, "head dim qk=192 invalid; valid: {64, 128, 256}"),
            ({"rope": {"head_dim": [64]}}, "rope.head_dim unknown"),
            ({"rope": {"head_dims": ["64"]}}, "value '64' invalid"),
            ({"rope": {"head_dims": [True]}}, "value True invalid"),
            ({"rope": {"head_dims": 64}}, "rope.head_dims = 64: a non-empty list expected"),
            ({"rope": {"head_dims": []}}, "a non-empty list expected"),
            ({"attn_fwd": {"reference": {"accumulators": "f64"}}}, "attn_fwd.accumulators"),
            ({"attn_fwd": {"variant_sets": ["causal"]}}, "a list of variant lists expected"),
            ({"attn_fwd": []}, "an object {axis: values} expected"),
            ([], "an object {op: {axis: values}} expected"),
        ]
        for overrides, message in cases:
            with self.subTest(overrides=overrides):
                with self.assertRaises(SkuError) as ctx:
                    build(merge_axes(overrides))
                self.assertIn(message, str(ctx.exception))


class Emit(unittest.TestCase):
    def test_deterministic_and_marked_generated(self):
        a = emit.render_all(build())
        b = emit.render_all(build())
        self.assertEqual(a, b)
        for rel, text in a.items():
            self.assertIn("Generated by `python3 -m codegen`" if not rel.endswith(".json") else "do not edit", text)
        self.assertIn("BK_SKU(kv_append_bf16_hd128_sm80,", a["registry.inc"])
        cu = a["sku/attn_fwd_bf16_hd128_causal_sm80.cu"]
        self.assertIn("kernels::attn_fwd_sm80<__nv_bfloat16, 128, true>(ctx)", cu)
        manifest = json.loads(a["manifest.json"])
        self.assertEqual(len(manifest["skus"]), len(build()))

    def test_write_check_and_unchanged_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp)
            self.assertEqual(cli.main(["--out", tmp]), 0)
            self.assertEqual(cli.main(["--out", tmp, "--check"]), 0)
            reg = out / "registry.inc"
            before = reg.stat().st_mtime_ns
            self.assertEqual(cli.main(["--out", tmp]), 0)
            self.assertEqual(reg.stat().st_mtime_ns, before)  # unchanged: not rewritten
            reg.write_text(reg.read_text() + "// edited\n")
            self.assertEqual(cli.main(["--out", tmp, "--check"]), 1)
            (out / "sku" / "stale_sku.cu").write_text("old\n")
            self.assertEqual(cli.main(["--out", tmp]), 0)
            self.assertFalse((out / "sku" / "stale_sku.cu").exists())
            self.assertEqual(cli.main(["--out", tmp, "--check"]), 0)

    def test_bad_axes_file_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            axes = pathlib.Path(tmp) / "axes.json"
            axes.write_text('{"attn_fwd": {"head_dims": [72]}}')
            self.assertEqual(cli.main(["--out", tmp, "--axes", str(axes)]), 2)


if __name__ == "__main__":
    unittest.main()
