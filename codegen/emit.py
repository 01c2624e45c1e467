"""Render SKU rows through the Jinja templates into a {relative path: text} map."""
from __future__ import annotations

import json
import pathlib

import jinja2

from .sku import Sku

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"
SKU_DIR = "sku"
# Files the generator owns in the output folder (anything else is left alone).
OWNED_GLOBS = ("sku/*.cu", "registry.inc", "manifest.json", "SUPPORT.md", "meson.build")


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def _support_rows(rows: list[dict]) -> list[dict]:
    """One support-matrix line per (op, backend, element, variants): the head dims built."""
    table: dict[tuple, list] = {}
    for r in rows:
        key = (r["op"], r["backend"], r["element"], ",".join(r["variants"]) or "-", r["arch"])
        hd = "any" if r["head_dim_qk"] == 0 else str(r["head_dim_qk"])
        if r["backend"] == "reference":
            hd = f"any ({r['guarantee']['accumulator']} acc)"
        table.setdefault(key, []).append(hd)
    return [dict(op=k[0], backend=k[1], element=k[2], variants=k[3], arch=k[4], head_dims=", ".join(v))
            for k, v in sorted(table.items())]


def render_all(skus: list[Sku]) -> dict[str, str]:
    env = _env()
    rows = [s.row() for s in skus]
    files = {}
    sku_tpl = env.get_template("sku.cu.j2")
    for r in rows:
        files[f"{SKU_DIR}/{r['name']}.cu"] = sku_tpl.render(sku=r)
    files["registry.inc"] = env.get_template("registry.inc.j2").render(rows=rows)
    files["meson.build"] = env.get_template("meson.build.j2").render(rows=rows, sku_dir=SKU_DIR)
    files["SUPPORT.md"] = env.get_template("SUPPORT.md.j2").render(rows=rows, support=_support_rows(rows))
    manifest = {"generator": "python3 -m codegen", "note": "Generated; do not edit.", "skus": rows}
    for r in manifest["skus"]:
        r.pop("max_rel_error_cpp")
        r.pop("cpp_variant")
    files["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    return files


def _owned(out: pathlib.Path) -> set[str]:
    return {p.relative_to(out).as_posix() for g in OWNED_GLOBS for p in out.glob(g)}


def diff(files: dict[str, str], out: pathlib.Path) -> list[str]:
    """Lines naming every file that differs between `files` and `out`."""
    lines = []
    for rel, text in sorted(files.items()):
        path = out / rel
        if not path.exists():
            lines.append(f"missing: {rel}")
        elif path.read_text() != text:
            lines.append(f"differs: {rel}")
    lines += [f"extra: {rel}" for rel in sorted(_owned(out) - set(files))] if out.exists() else []
    return lines


def write(files: dict[str, str], out: pathlib.Path) -> tuple[int, int]:
    """Writes changed files, removes owned files no SKU produces. Returns (written, removed)."""
    written = 0
    for rel, text in sorted(files.items()):
        path = out / rel
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written += 1
    stale = _owned(out) - set(files) if out.exists() else set()
    for rel in stale:
        (out / rel).unlink()
    return written, len(stale)
