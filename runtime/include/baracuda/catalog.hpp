// The SKU catalog: what was compiled, queries over it, and selection.
//
// Selection is a list of filters, then a ranking:
//   (1) exact match on op, elements, head dims and variant (generic
//       "any head dim" SKUs match any head dim);
//   (2) the target can run it and the binary has code for the target;
//   (3) the preference allows it;
//   (4) the op's can-implement check for the descriptor passes (including
//       the workspace limit);
//   (5) rank: fastest = specialized over generic, newer arch class over
//       older, then the SKU's tuning priority; most precise = by guarantee.
//       Ties broken by name.
// Each filter returns the reason it rejected a SKU; `explain` and the error
// of a failed `select` print those same reasons. Nothing falls back silently:
// a forced SKU that cannot run is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "baracuda/types.hpp"

namespace baracuda {

// The exact-match part of a problem.
struct ProblemKey {
  OpKind op;
  Element element;
  Element aux_element = Element::none;
  int head_dim_qk = 0;
  int head_dim_v = 0;
  std::uint32_t variant = kVariantNone;  // problem bits only (see kProblemVariantMask)
};

// Variant bits the problem states; other bits are implementation choices.
inline constexpr std::uint32_t kProblemVariantMask =
    kVariantCausal | kVariantPaged | kVariantRopeNeox | kVariantRopeGptj;

// A rejection reason, formatted into a fixed buffer (no heap on select).
struct Reason {
  char text[200] = {};
  bool rejected() const { return text[0] != '\0'; }
  void set(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
};

// What an op contributes to selection: its descriptor-specific checks.
struct OpHooks {
  const void* desc = nullptr;
  // Fills `why` when the SKU cannot implement the descriptor.
  void (*check)(const void* desc, const KernelSku& sku, const Target& target, Reason& why) = nullptr;
  std::size_t (*workspace)(const void* desc, const KernelSku& sku, const Target& target) = nullptr;
};

struct CandidateReport {
  const KernelSku* sku;
  std::string rejection;   // empty: viable
  std::size_t workspace_bytes = 0;
};

struct Explanation {
  ProblemKey key;
  const KernelSku* chosen = nullptr;
  std::vector<CandidateReport> candidates;  // every compiled SKU of the op, chosen first, then viable by rank
  std::string to_text() const;
};

struct SkuFilter {
  std::optional<OpKind> op;
  std::optional<Element> element;
  std::optional<int> head_dim;      // kAnyHeadDim selects generic SKUs
  std::optional<ArchClass> arch;
  std::optional<Backend> backend;
  std::string name_contains;
  bool matches(const KernelSku&) const;
};

class Catalog {
 public:
  // Every compiled SKU, in name order.
  static std::span<const KernelSku> all();
  static const KernelSku* find(std::string_view name);
  static std::vector<const KernelSku*> query(const SkuFilter&);
  // Real GPU architectures the binary carries code for, e.g. {80, 90}.
  static std::span<const int> compiled_archs();
  static bool has_code_for(const KernelSku&, const Target&);

  static Result<const KernelSku*> select(const ProblemKey&, const PlanPreference&, const Target&, const OpHooks&);
  static Explanation explain(const ProblemKey&, const PlanPreference&, const Target&, const OpHooks&);

  // Markdown support matrix of what was compiled.
  static std::string support_matrix();
};

}  // namespace baracuda
