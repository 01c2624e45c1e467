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


AXIS_NAMES = ("elements", "head_dims", "variant_sets", "accumulators")


def _axis_values(op: str, axis: str, values) -> list:
    """One overridden axis, checked for shape; head dims may say "any" for ANY.
    (Whether each value is valid for the op is Sku's check.)"""
    where = f"axes: {op}.{axis}"
    if axis not in AXIS_NAMES:
        raise SkuError(f"{where}: axis unknown; valid: {{{', '.join(AXIS_NAMES)}}}")
    if not isinstance(values, list) or not values:
        raise SkuError(f"{where} = {values!r}: a non-empty list expected")
    if axis == "head_dims":
        out = []
        for v in values:
            if v == "any":
                out.append(ANY)
            elif isinstance(v, int) and not isinstance(v, bool) and v >= 0:
                out.append(v)
            else:
                raise SkuError(f"{where}: value {v!r} invalid; valid: a head dim (integer), or \"any\" or 0 "
                               f"for the generic kernel")
        return out
    if axis == "variant_sets":
        if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in values):
            raise SkuError(f"{where} = {values!r}: a list of variant lists expected, e.g. [[], [\"causal\"]]")
        return values
    if not all(isinstance(v, str) for v in values):
        raise SkuError(f"{where} = {values!r}: a list of names expected")
    return values


def merge_axes(overrides: dict) -> dict:
    """DEFAULT_AXES with `overrides` ({op: {axis: values}} or {op: {backend: {axis: values}}}) applied."""
    axes = json.loads(json.dumps(DEFAULT_AXES))
    if not isinstance(overrides, dict):
        raise SkuError(f"axes: an object {{op: {{axis: values}}}} expected, got {overrides!r}")
    for op, change in overrides.items():
        if op not in axes:
            raise SkuError(f"axes: op {op!r} unknown; valid: {{{', '.join(sorted(axes))}}}")
        if not isinstance(change, dict):
            raise SkuError(f"axes: {op} = {change!r}: an object {{axis: values}} expected")
        for key, value in change.items():
            if key in axes[op]:  # a backend's axes
                if not isinstance(value, dict):
                    raise SkuError(f"axes: {op}.{key} = {value!r}: an object {{axis: values}} expected")
                axes[op][key].update({a: _axis_values(op, a, v) for a, v in value.items()})
            elif key in AXIS_NAMES:  # an axis of the bespoke backend
                axes[op]["bespoke"][key] = _axis_values(op, key, value)
            else:
                raise SkuError(f"axes: {op}.{key} unknown; valid: a backend {{{', '.join(axes[op])}}} "
                               f"or an axis {{{', '.join(AXIS_NAMES)}}}")
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
