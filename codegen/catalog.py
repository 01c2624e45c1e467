"""The default catalog: the product of each op's axes, minus named filters.

Users who need other head dims pass their own axes (see README, "Adding head
dims"): `python3 -m codegen --axes my_axes.json`, where the JSON maps an op to
the axes it overrides, e.g. {"attn_fwd": {"head_dims": [64, 72, 128]}}.
"""
from __future__ import annotations

import itertools
import json

from .sku import ANY, ELEMENTS, Sku, SkuError

# Per op: the axes whose product is the catalog. "variant_sets" lists the
# variant combinations to build; "backends" maps a backend to its own axes.
DEFAULT_AXES = {
    "kv_append": {
        "bespoke": {"elements": list(ELEMENTS), "head_dims": [64, 128, 256, ANY],
                    "variant_sets": [[], ["paged"]]},
    },
    "attn_fwd": {
        "bespoke": {"elements": ["f16", "bf16"], "head_dims": [64, 80, 96, 128, 192, 256],
                    "variant_sets": [[], ["causal"]]},
        "reference": {"elements": list(ELEMENTS), "head_dims": [ANY], "accumulators": ["f32", "f64"],
                      "variant_sets": [[], ["causal"]]},
    },
    "attn_decode": {
        "bespoke": {"elements": ["f16", "bf16"], "head_dims": [64, 128, 256],
                    "variant_sets": [[], ["fixedsplit"], ["paged"], ["paged", "fixedsplit"]]},
    },
    "rope": {
        "bespoke": {"elements": list(ELEMENTS), "head_dims": [64, 128, 256, ANY],
                    "variant_sets": [["neox"], ["gptj"]]},
    },
    "rope_kv_append": {
        "bespoke": {"elements": list(ELEMENTS), "head_dims": [64, 128, 256, ANY],
                    "variant_sets": [["neox"], ["gptj"], ["neox", "paged"], ["gptj", "paged"]]},
    },
}

# Named filters: combinations the axes produce that the catalog leaves out.
FILTERS = {
    # f64 RoPE is a precision path, not a speed path: head-dim
    # specializations buy nothing over the generic kernel there.
    "rope_f64_only_generic": lambda s: s.op.startswith("rope") and s.element == "f64" and s.head_dim_qk != ANY,
}


def merge_axes(overrides: dict) -> dict:
    """DEFAULT_AXES with `overrides` ({op: {axis: values}} or {op: {backend: {axis: values}}}) applied."""
    axes = json.loads(json.dumps(DEFAULT_AXES))
    for op, change in overrides.items():
        if op not in axes:
            raise SkuError(f"axes: op {op!r} unknown; valid: {{{', '.join(sorted(axes))}}}")
        for key, value in change.items():
            if key in axes[op]:  # a backend's axes
                axes[op][key].update(value)
            else:  # an axis of the bespoke backend
                axes[op]["bespoke"][key] = value
    return axes


def build(axes: dict | None = None) -> list[Sku]:
    """Every SKU of the catalog, sorted by name. Raises SkuError on an invalid or duplicate SKU."""
    axes = DEFAULT_AXES if axes is None else axes
    skus: dict[str, Sku] = {}
    for op, backends in axes.items():
        for backend, ax in backends.items():
            for element, hd, variants, acc in itertools.product(
                    ax["elements"], ax["head_dims"], ax["variant_sets"], ax.get("accumulators", ["f32"])):
                sku = Sku(op=op, element=element, head_dim_qk=hd, variants=frozenset(variants),
                          backend=backend, accumulator=acc)
                if any(f(sku) for f in FILTERS.values()):
                    continue
                if sku.name in skus:
                    raise SkuError(f"duplicate SKU name {sku.name}")
                skus[sku.name] = sku
    return [skus[name] for name in sorted(skus)]
