"""The SKU record: one compiled kernel specialization, and everything derived from it.

A `Sku` is validated on construction; an invalid combination raises `SkuError`
with a reason that lists the valid values. Every other fact about a SKU (its
name, its kernel entry, its precision guarantee, its tuning priority) is a
derived property here, the one place it is computed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

ANY = 0  # head dim of a generic kernel

ELEMENTS = ("f16", "bf16", "f32", "f64")
CPP_TYPE = {"f16": "__half", "bf16": "__nv_bfloat16", "f32": "float", "f64": "double"}
# Unit roundoff (half an ulp at 1.0) of each element type.
UNIT_ROUNDOFF = {"bf16": 2.0**-9, "f16": 2.0**-11, "f32": 2.0**-24, "f64": 2.0**-53}
ARCHES = ("sm80", "sm90a")
BACKENDS = ("bespoke", "reference")
ACCUMULATORS = ("f32", "f64")
# Variant flags in name order. Problem flags must match the caller's problem;
# implementation flags choose among equivalent kernels.
VARIANTS = ("causal", "paged", "neox", "gptj", "fixedsplit")
CPP_VARIANT = {"causal": "kVariantCausal", "paged": "kVariantPaged", "neox": "kVariantRopeNeox",
               "gptj": "kVariantRopeGptj", "fixedsplit": "kVariantFixedSplit"}


class SkuError(ValueError):
    """An invalid SKU combination; the message says why and lists valid values."""


@dataclass(frozen=True)
class OpSpec:
    category: str
    header: str                    # kernel header under runtime/kernels/
    elements: dict                 # backend -> allowed elements
    variants: frozenset            # allowed variant flags
    arches: tuple = ("sm80",)
    backends: tuple = ("bespoke",)
    max_head_dim: int = 256
    head_dim_multiple: int = 8     # specialized head dims must be multiples of this
    any_head_dim: bool = True      # a generic kernel exists
    split_head_dims: bool = False  # qk and v head dims may differ
    head_dims: tuple = ()          # when set: the only specialized head dims the kernel implements

    def head_dim_ok(self, hd: int) -> bool:
        if self.head_dims:
            return hd in self.head_dims
        return hd % self.head_dim_multiple == 0 and self.head_dim_multiple <= hd <= self.max_head_dim

    def head_dim_rule(self) -> str:
        if self.head_dims:
            return _choices(self.head_dims)
        return f"multiples of {self.head_dim_multiple} in [{self.head_dim_multiple}, {self.max_head_dim}]"


OPS = {
    "kv_append": OpSpec(
        category="kv_cache", header="kv_append.cuh",
        elements={"bespoke": ELEMENTS}, variants=frozenset({"paged"}), split_head_dims=True),
    "attn_fwd": OpSpec(
        category="attention", header="attn_fwd_sm80.cuh",
        elements={"bespoke": ("f16", "bf16"), "reference": ELEMENTS},
        variants=frozenset({"causal"}), backends=("bespoke", "reference"),
        max_head_dim=256, head_dim_multiple=16, split_head_dims=True),
    "attn_decode": OpSpec(
        category="attention", header="attn_decode_sm80.cuh",
        elements={"bespoke": ("f16", "bf16")}, variants=frozenset({"paged", "fixedsplit"}),
        head_dims=(64, 128, 256), any_head_dim=False),  # decode_sm80::Config: rows of 8, 16 or 32 vectors
    "rope": OpSpec(
        category="rope", header="rope.cuh",
        elements={"bespoke": ELEMENTS}, variants=frozenset({"neox", "gptj"})),
    "rope_kv_append": OpSpec(
        category="rope", header="rope.cuh",
        elements={"bespoke": ELEMENTS}, variants=frozenset({"neox", "gptj", "paged"})),
}
KERNEL_FN = {
    ("kv_append", "bespoke"): "kv_append",
    ("attn_fwd", "bespoke"): "attn_fwd_sm80",
    ("attn_fwd", "reference"): "attn_reference",
    ("attn_decode", "bespoke"): "attn_decode_sm80",
    ("rope", "bespoke"): "rope",
    ("rope_kv_append", "bespoke"): "rope_kv_append",
}
REFERENCE_HEADER = "attn_reference.cuh"


def _choices(values) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


@dataclass(frozen=True)
class Sku:
    op: str
    element: str
    head_dim_qk: int                       # ANY for a generic kernel
    head_dim_v: int | None = None          # None: same as head_dim_qk
    variants: frozenset = frozenset()
    arch: str = "sm80"
    backend: str = "bespoke"
    accumulator: str = "f32"
    aux_element: str | None = None         # e.g. an fp8 cache element; none yet

    def __post_init__(self):
        if self.head_dim_v is None:
            object.__setattr__(self, "head_dim_v", self.head_dim_qk)
        object.__setattr__(self, "variants", frozenset(self.variants))
        spec = OPS.get(self.op)
        if spec is None:
            raise SkuError(f"op {self.op!r} unknown; valid: {_choices(sorted(OPS))}")
        if self.backend not in spec.backends:
            raise SkuError(f"{self.op}: backend {self.backend!r} invalid; valid: {_choices(spec.backends)}")
        if self.element not in spec.elements[self.backend]:
            raise SkuError(f"{self.op} ({self.backend}): element {self.element!r} invalid; "
                           f"valid: {_choices(spec.elements[self.backend])}")
        if self.aux_element is not None:
            raise SkuError(f"{self.op}: aux element {self.aux_element!r} invalid; no op has one yet (valid: none)")
        if self.arch not in spec.arches:
            raise SkuError(f"{self.op}: arch {self.arch!r} invalid; valid: {_choices(spec.arches)}")
        if self.accumulator not in ACCUMULATORS:
            raise SkuError(f"accumulator {self.accumulator!r} invalid; valid: {_choices(ACCUMULATORS)}")
        if self.accumulator != "f32" and self.backend != "reference":
            raise SkuError(f"{self.op}: accumulator {self.accumulator!r} needs backend 'reference' "
                           f"(bespoke kernels accumulate in f32)")
        unknown = self.variants - spec.variants
        if unknown:
            raise SkuError(f"{self.op}: variant {_choices(sorted(unknown))} invalid; "
                           f"valid: {_choices(sorted(spec.variants))}")
        if self.op.startswith("rope") and len(self.variants & {"neox", "gptj"}) != 1:
            raise SkuError(f"{self.op}: exactly one RoPE style needed; valid: {{neox, gptj}}")
        self._check_head_dims(spec)

    def _check_head_dims(self, spec: OpSpec):
        generic = self.head_dim_qk == ANY or self.head_dim_v == ANY
        if self.backend == "reference":
            if self.head_dim_qk != ANY or self.head_dim_v != ANY:
                raise SkuError(f"{self.op}: reference kernels take any head dim; valid head dims: {{any}}")
            return
        if generic:
            if not spec.any_head_dim:
                raise SkuError(f"{self.op}: no generic kernel; valid head dims: {spec.head_dim_rule()}")
            if self.head_dim_qk != self.head_dim_v:
                raise SkuError(f"{self.op}: a generic SKU has head dims any/any, got "
                               f"{self.head_dim_qk}/{self.head_dim_v}")
            return
        for label, hd in (("qk", self.head_dim_qk), ("v", self.head_dim_v)):
            if not spec.head_dim_ok(hd):
                any_ = " or any" if spec.any_head_dim else ""
                raise SkuError(f"{self.op}: head dim {label}={hd} invalid; valid: {spec.head_dim_rule()}{any_}")
        if self.head_dim_qk != self.head_dim_v and (not spec.split_head_dims or self.backend == "bespoke"
                                                    and self.op != "kv_append"):
            raise SkuError(f"{self.op} ({self.backend}): head dims qk={self.head_dim_qk} and v={self.head_dim_v} "
                           f"must be equal")

    # ------------------------------------------------------------ naming --
    @property
    def name(self) -> str:
        if self.head_dim_qk == ANY:
            hd = "hdany"
        elif self.head_dim_qk == self.head_dim_v:
            hd = f"hd{self.head_dim_qk}"
        else:
            hd = f"hd{self.head_dim_qk}x{self.head_dim_v}"
        parts = [self.op, self.element] + ([self.aux_element] if self.aux_element else []) + [hd]
        parts += [v for v in VARIANTS if v in self.variants]
        parts.append(self.arch)
        if self.backend == "reference":
            parts += ["ref", f"{self.accumulator}acc"]
        return "_".join(parts)

    @property
    def spec(self) -> OpSpec:
        return OPS[self.op]

    # ------------------------------------------------------ kernel entry --
    @property
    def kernel_header(self) -> str:
        return REFERENCE_HEADER if self.backend == "reference" else self.spec.header

    @property
    def kernel_fn(self) -> str:
        return KERNEL_FN[(self.op, self.backend)]

    @property
    def template_args(self) -> tuple:
        t = CPP_TYPE[self.element]
        flag = lambda v: "true" if v in self.variants else "false"  # noqa: E731
        style = "RopeStyle::neox" if "neox" in self.variants else "RopeStyle::gptj"
        if self.op == "kv_append":
            return (t, str(self.head_dim_qk), flag("paged"))
        if self.op == "attn_fwd" and self.backend == "reference":
            return (t, CPP_TYPE[self.accumulator], flag("causal"))
        if self.op == "attn_fwd":
            return (t, str(self.head_dim_qk), flag("causal"))
        if self.op == "attn_decode":
            return (t, str(self.head_dim_qk), flag("paged"), flag("fixedsplit"))
        if self.op == "rope":
            return (t, str(self.head_dim_qk), style)
        return (t, str(self.head_dim_qk), style, flag("paged"))

    # ------------------------------------------------ precision guarantee --
    @property
    def guarantee(self) -> dict:
        """Derived from the SKU's data; the GPU tests check every field."""
        u = UNIT_ROUNDOFF[self.element]
        if self.op == "kv_append":
            # A bit-exact copy.
            return dict(math="exact", accumulator="none", deterministic=True, bit_stable=True,
                        batch_invariant=True, max_rel_error=0.0)
        if self.op.startswith("rope"):
            # Angles and rotation in f32 (f64 for f64): operand rounding of the
            # output (u), plus the angle error |p| * u_math for |p| <= 2^17.
            math = "f64" if self.element == "f64" else "f32"
            bound = 2 * u + 2.0**17 * 4 * UNIT_ROUNDOFF[math]
            return dict(math=math, accumulator=math, deterministic=True, bit_stable=True,
                        batch_invariant=True, max_rel_error=bound)
        if self.backend == "reference":
            # Products, exp and sums in the accumulator; error = output rounding
            # plus a streaming-sum term of 256 roundoffs of the accumulator.
            acc_u = UNIT_ROUNDOFF[self.accumulator]
            return dict(math=self.accumulator, accumulator=self.accumulator, deterministic=True,
                        bit_stable=True, batch_invariant=True, max_rel_error=2 * u + 256 * acc_u)
        # Tensor-core kernels: operands and P in the element type, f32 sums.
        # Observed error is ~2u (output rounding + P rounding); bound 4u.
        batch_invariant = self.op != "attn_decode" or "fixedsplit" in self.variants
        return dict(math=self.element, accumulator="f32", deterministic=True, bit_stable=True,
                    batch_invariant=batch_invariant, max_rel_error=4 * u)

    @property
    def priority(self) -> int:
        """Rank among otherwise equal SKUs when the objective is fastest (lower first)."""
        # A fixed split size keeps batch invariance but gives up the adaptive
        # split count that fills the GPU.
        return 1 if "fixedsplit" in self.variants else 0

    # ------------------------------------------------------- registry row --
    def row(self) -> dict:
        """Plain data for the registry table, manifest and support matrix."""
        g = self.guarantee
        problem_variants = [v for v in VARIANTS if v in self.variants]
        return {
            "name": self.name,
            "category": self.spec.category,
            "op": self.op,
            "element": self.element,
            "aux_element": self.aux_element or "none",
            "head_dim_qk": self.head_dim_qk,
            "head_dim_v": self.head_dim_v,
            "head_dim_label": "any" if self.head_dim_qk == ANY else str(self.head_dim_qk),
            "variants": problem_variants,
            "cpp_variant": " | ".join(CPP_VARIANT[v] for v in problem_variants) or "kVariantNone",
            "arch": self.arch,
            "backend": self.backend,
            "guarantee": g,
            "max_rel_error_cpp": repr(float(g["max_rel_error"])),
            "priority": self.priority,
            "kernel_header": self.kernel_header,
            "kernel_fn": self.kernel_fn,
            "template_args": list(self.template_args),
        }

    def replace(self, **changes) -> "Sku":
        return dataclasses.replace(self, **changes)
