// The registry table (generated/registry.inc, rows of what Meson compiled)
// and selection: filters, each a small function returning its reason, then
// ranking. `select` and `explain` run the same filters.
#include "baracuda/catalog.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <tuple>

#include "enabled_skus.h"  // BK_HAS_<name> for every compiled SKU (Meson)

namespace baracuda::sku {
#define BK_SKU(name, ...) Status name(const LaunchContext&);
#include "registry.inc"
#undef BK_SKU
}  // namespace baracuda::sku

namespace baracuda {
namespace {

#define BK_SKU(name, cat, op, el, aux, hqk, hv, var, arch, backend, math, acc, det, bits, binv, err, prio) \
  KernelSku{#name, OpCategory::cat, OpKind::op, Element::el, Element::aux, hqk, hv, var,                 \
            ArchClass::arch, Backend::backend,                                                         \
            PrecisionGuarantee{MathPrecision::math, Element::acc, det, bits, binv, err}, prio, &sku::name},
constexpr KernelSku kTable[] = {
#include "registry.inc"
};
#undef BK_SKU

constexpr int kCompiledArchs[] = {BARACUDA_CUDA_ARCHS};

int accumulator_rank(Element e) {
  switch (e) {
    case Element::f16:
    case Element::bf16: return 1;
    case Element::f32: return 2;
    case Element::f64: return 3;
    default: return 0;
  }
}

std::string key_text(const ProblemKey& k) {
  std::string s = std::string(to_string(k.op)) + " " + std::string(to_string(k.element));
  if (k.aux_element != Element::none) s += "/" + std::string(to_string(k.aux_element));
  s += " head dim " + std::to_string(k.head_dim_qk);
  if (k.head_dim_v != k.head_dim_qk) s += "/" + std::to_string(k.head_dim_v);
  if (k.variant != kVariantNone) s += " " + variant_to_string(k.variant);
  return s;
}

std::string head_dim_text(const KernelSku& s) {
  if (s.generic_head_dim()) return "any";
  if (s.head_dim_qk == s.head_dim_v) return std::to_string(s.head_dim_qk);
  return std::to_string(s.head_dim_qk) + "/" + std::to_string(s.head_dim_v);
}

// ----------------------------------------------------------- filters ----
// Each fills `why` when it rejects; the order is the order of DESIGN.md.

void match_problem(const ProblemKey& k, const KernelSku& s, Reason& why) {
  if (s.op != k.op) return why.set("op %s, problem is %s", to_string(s.op).data(), to_string(k.op).data());
  if (s.element != k.element)
    return why.set("element %s, problem is %s", to_string(s.element).data(), to_string(k.element).data());
  if (s.aux_element != k.aux_element)
    return why.set("aux element %s, problem is %s", to_string(s.aux_element).data(),
                   to_string(k.aux_element).data());
  if (!s.generic_head_dim() && (s.head_dim_qk != k.head_dim_qk || s.head_dim_v != k.head_dim_v))
    return why.set("head dim %s, problem is %d%s", head_dim_text(s).c_str(), k.head_dim_qk,
                   k.head_dim_v != k.head_dim_qk ? ("/" + std::to_string(k.head_dim_v)).c_str() : "");
  const std::uint32_t sku_variant = s.variant & kProblemVariantMask;
  if (sku_variant != k.variant)
    return why.set("variant %s, problem is %s", variant_to_string(sku_variant).c_str(),
                   variant_to_string(k.variant).c_str());
}

void runs_on_target(const KernelSku& s, const Target& t, Reason& why) {
  if (s.arch == ArchClass::sm90a && t.compute_capability != 90)
    return why.set("arch class sm90a needs compute capability 9.0, target is %d.%d", t.compute_capability / 10,
                   t.compute_capability % 10);
  if (s.arch == ArchClass::sm80 && t.compute_capability < 80)
    return why.set("arch class sm80 needs compute capability >= 8.0, target is %d.%d", t.compute_capability / 10,
                   t.compute_capability % 10);
  if (!Catalog::has_code_for(s, t)) {
    std::string archs;
    for (int a : kCompiledArchs) archs += (archs.empty() ? "sm_" : ", sm_") + std::to_string(a);
    return why.set("binary has no code for sm_%d (compiled for %s; rebuild with -Dgpu_archs=...)",
                   t.compute_capability, archs.c_str());
  }
}

void allowed_by_preference(const KernelSku& s, const PlanPreference& p, Reason& why) {
  if (!p.force_sku.empty() && p.force_sku != s.name) return why.set("preference forces SKU %s", p.force_sku.c_str());
  for (const std::string& name : p.exclude_skus)
    if (name == s.name) return why.set("excluded by preference");
  if (!p.allowed_backends.empty() &&
      std::find(p.allowed_backends.begin(), p.allowed_backends.end(), s.backend) == p.allowed_backends.end())
    return why.set("backend %s not allowed by preference", to_string(s.backend).data());
  if (!p.allowed_arch_classes.empty() &&
      std::find(p.allowed_arch_classes.begin(), p.allowed_arch_classes.end(), s.arch) ==
          p.allowed_arch_classes.end())
    return why.set("arch class %s not allowed by preference", to_string(s.arch).data());
  if (p.require_deterministic && !s.guarantee.deterministic) return why.set("not deterministic (required)");
  if (p.require_batch_invariant && !s.guarantee.batch_invariant) return why.set("not batch invariant (required)");
  if (p.min_math_precision && s.guarantee.math < *p.min_math_precision)
    return why.set("math precision %s below required %s", to_string(s.guarantee.math).data(),
                   to_string(*p.min_math_precision).data());
  if (p.min_accumulator && accumulator_rank(s.guarantee.accumulator) < accumulator_rank(*p.min_accumulator) &&
      s.guarantee.math != MathPrecision::exact)
    return why.set("accumulator %s below required %s", to_string(s.guarantee.accumulator).data(),
                   to_string(*p.min_accumulator).data());
}

// Runs every filter; returns the workspace the SKU needs when viable.
std::size_t evaluate(const ProblemKey& key, const PlanPreference& pref, const Target& target, const OpHooks& hooks,
                     const KernelSku& s, Reason& why) {
  match_problem(key, s, why);
  if (!why.rejected()) runs_on_target(s, target, why);
  if (!why.rejected()) allowed_by_preference(s, pref, why);
  if (!why.rejected()) hooks.check(hooks.desc, s, target, why);
  if (why.rejected()) return 0;
  const std::size_t ws = hooks.workspace(hooks.desc, s, target);
  if (pref.max_workspace_bytes && ws > *pref.max_workspace_bytes)
    why.set("needs %zu workspace bytes, preference allows %zu", ws, *pref.max_workspace_bytes);
  return ws;
}

// True when a ranks before b.
bool ranks_before(const KernelSku& a, const KernelSku& b, Objective objective) {
  if (objective == Objective::most_precise) {
    const auto key = [](const KernelSku& s) {
      return std::make_tuple(s.guarantee.max_rel_error, -static_cast<int>(s.guarantee.math),
                             -accumulator_rank(s.guarantee.accumulator), s.generic_head_dim(), s.priority);
    };
    if (key(a) != key(b)) return key(a) < key(b);
  } else {
    const auto key = [](const KernelSku& s) {
      // Cheaper accumulators first among otherwise equal SKUs.
      return std::make_tuple(s.backend == Backend::reference, s.generic_head_dim(), -static_cast<int>(s.arch),
                             accumulator_rank(s.guarantee.accumulator), s.priority);
    };
    if (key(a) != key(b)) return key(a) < key(b);
  }
  return std::string_view(a.name) < std::string_view(b.name);
}

}  // namespace

void Reason::set(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
}

bool SkuFilter::matches(const KernelSku& s) const {
  if (op && s.op != *op) return false;
  if (element && s.element != *element) return false;
  if (head_dim && !(*head_dim == kAnyHeadDim ? s.generic_head_dim()
                                             : s.head_dim_qk == *head_dim || s.head_dim_v == *head_dim))
    return false;
  if (arch && s.arch != *arch) return false;
  if (backend && s.backend != *backend) return false;
  return name_contains.empty() || std::string_view(s.name).find(name_contains) != std::string_view::npos;
}

std::span<const KernelSku> Catalog::all() { return kTable; }

const KernelSku* Catalog::find(std::string_view name) {
  const auto it = std::lower_bound(std::begin(kTable), std::end(kTable), name,
                                   [](const KernelSku& s, std::string_view n) { return std::string_view(s.name) < n; });
  return it != std::end(kTable) && it->name == name ? &*it : nullptr;
}

std::vector<const KernelSku*> Catalog::query(const SkuFilter& filter) {
  std::vector<const KernelSku*> out;
  for (const KernelSku& s : kTable)
    if (filter.matches(s)) out.push_back(&s);
  return out;
}

std::span<const int> Catalog::compiled_archs() { return kCompiledArchs; }

bool Catalog::has_code_for(const KernelSku& s, const Target& t) {
  const int cc = t.compute_capability;
  for (int a : kCompiledArchs) {
    if (s.arch == ArchClass::sm90a && a == 90 && cc == 90) return true;
    // Machine code runs on the same major version at an equal or newer minor.
    if (s.arch == ArchClass::sm80 && a / 10 == cc / 10 && a % 10 <= cc % 10) return true;
  }
  return false;
}

Result<const KernelSku*> Catalog::select(const ProblemKey& key, const PlanPreference& pref, const Target& target,
                                         const OpHooks& hooks) {
  const KernelSku* best = nullptr;
  for (const KernelSku& s : kTable) {
    Reason why;
    evaluate(key, pref, target, hooks, s, why);
    if (!why.rejected() && (!best || ranks_before(s, *best, pref.objective))) best = &s;
  }
  if (best) return best;
  // The error path: say why, SKU by SKU (same filters, same words).
  if (!pref.force_sku.empty() && !find(pref.force_sku))
    return Status::error(StatusCode::not_supported,
                         "force_sku: '" + pref.force_sku + "' is not in this build's catalog "
                         "(`baracuda-catalog list` shows what was compiled)");
  return Status::error(StatusCode::not_supported,
                       "no SKU implements " + key_text(key) + " for this preference and target:\n" +
                           explain(key, pref, target, hooks).to_text());
}

Explanation Catalog::explain(const ProblemKey& key, const PlanPreference& pref, const Target& target,
                             const OpHooks& hooks) {
  Explanation ex;
  ex.key = key;
  std::vector<CandidateReport> viable, rejected;
  for (const KernelSku& s : kTable) {
    if (s.op != key.op) continue;
    Reason why;
    const std::size_t ws = evaluate(key, pref, target, hooks, s, why);
    (why.rejected() ? rejected : viable).push_back({&s, why.text, ws});
  }
  std::sort(viable.begin(), viable.end(), [&](const CandidateReport& a, const CandidateReport& b) {
    return ranks_before(*a.sku, *b.sku, pref.objective);
  });
  if (!viable.empty()) ex.chosen = viable.front().sku;
  ex.candidates = std::move(viable);
  ex.candidates.insert(ex.candidates.end(), rejected.begin(), rejected.end());
  return ex;
}

std::string Explanation::to_text() const {
  std::string out = "problem: " + key_text(key) + "\n";
  out += chosen ? "chosen: " + std::string(chosen->name) + "\n" : "chosen: none\n";
  if (candidates.empty()) out += "  (no SKU of this op was compiled into this build)\n";
  for (const CandidateReport& c : candidates) {
    out += "  " + std::string(c.sku->name) + ": ";
    if (c.sku == chosen) out += "chosen";
    else if (c.rejection.empty()) out += "viable, ranked lower";
    else out += "rejected: " + c.rejection;
    if (c.rejection.empty() && c.workspace_bytes) out += " (workspace " + std::to_string(c.workspace_bytes) + " B)";
    out += "\n";
  }
  return out;
}

std::string Catalog::support_matrix() {
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, std::string> rows;
  for (const KernelSku& s : kTable) {
    auto& dims = rows[{std::string(to_string(s.op)), std::string(to_string(s.backend)),
                       std::string(to_string(s.element)), variant_to_string(s.variant),
                       std::string(to_string(s.arch))}];
    std::string hd = head_dim_text(s);
    if (s.backend == Backend::reference) hd += " (" + std::string(to_string(s.guarantee.accumulator)) + " acc)";
    dims += (dims.empty() ? "" : ", ") + hd;
  }
  std::string out = "| op | backend | element | variants | arch | head dims |\n|---|---|---|---|---|---|\n";
  for (const auto& [k, dims] : rows)
    out += "| " + std::get<0>(k) + " | " + std::get<1>(k) + " | " + std::get<2>(k) + " | " + std::get<3>(k) +
           " | " + std::get<4>(k) + " | " + dims + " |\n";
  return out;
}

}  // namespace baracuda
