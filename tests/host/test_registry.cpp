// Registry: listing, lookup, queries, and the invariants of every row.
#include <algorithm>
#include <regex>
#include <set>
#include <thread>

#include "host_common.hpp"

using namespace baracuda;
using bk_host::contains;

TEST_CASE("registry lists compiled SKUs in name order, names unique") {
  const auto all = Catalog::all();
  REQUIRE(!all.empty());
  std::set<std::string> names;
  for (std::size_t i = 0; i < all.size(); ++i) {
    names.insert(all[i].name);
    if (i > 0) CHECK(std::string_view(all[i - 1].name) < std::string_view(all[i].name));
  }
  CHECK(names.size() == all.size());
}

TEST_CASE("every SKU name follows the grammar and agrees with its fields") {
  // <op>_<element>_hd<N|NxM|any>[_<variant>]*_<arch>[_ref_<acc>acc]
  const std::regex grammar(
      "(kv_append|attn_fwd|attn_decode|rope|rope_kv_append)_(f16|bf16|f32|f64)_hd(any|[0-9]+(x[0-9]+)?)"
      "(_causal)?(_paged)?(_neox)?(_gptj)?(_fixedsplit)?_(sm80|sm90a)(_ref_(f32|f64)acc)?");
  for (const KernelSku& s : Catalog::all()) {
    const std::string name = s.name;
    CAPTURE(name);
    CHECK(std::regex_match(s.name, grammar));
    CHECK(name.starts_with(std::string(to_string(s.op)) + "_" + std::string(to_string(s.element)) + "_"));
    CHECK(contains(name, "_" + std::string(to_string(s.arch))));
    CHECK((s.backend == Backend::reference) == contains(name, "_ref_"));
    CHECK(((s.variant & kVariantCausal) != 0) == contains(name, "_causal"));
    CHECK(((s.variant & kVariantPaged) != 0) == contains(name, "_paged"));
    CHECK(static_cast<bool>(s.entry));
    CHECK(Catalog::find(s.name) == &s);
  }
}

TEST_CASE("precision guarantees are consistent with the op") {
  for (const KernelSku& s : Catalog::all()) {
    const std::string name = s.name;
    CAPTURE(name);
    const PrecisionGuarantee& g = s.guarantee;
    CHECK(g.max_rel_error >= 0.0);
    CHECK((!g.bit_stable || g.deterministic));
    if (s.op == OpKind::kv_append) {
      CHECK(g.math == MathPrecision::exact);
      CHECK(g.max_rel_error == 0.0);
      CHECK(g.batch_invariant);
    }
    if (s.backend == Backend::reference) {
      CHECK(s.generic_head_dim());
      CHECK((g.accumulator == Element::f32 || g.accumulator == Element::f64));
    }
    if (s.op == OpKind::attn_decode) CHECK(g.batch_invariant == ((s.variant & kVariantFixedSplit) != 0));
  }
}

TEST_CASE("find and query") {
  CHECK(Catalog::find("no_such_sku") == nullptr);
  CHECK(Catalog::find("") == nullptr);
  SkuFilter by_op;
  by_op.op = OpKind::kv_append;
  for (const KernelSku* s : Catalog::query(by_op)) CHECK(s->op == OpKind::kv_append);
  SkuFilter generic;
  generic.head_dim = kAnyHeadDim;
  for (const KernelSku* s : Catalog::query(generic)) CHECK(s->generic_head_dim());
  SkuFilter by_name;
  by_name.name_contains = "_causal";
  for (const KernelSku* s : Catalog::query(by_name)) CHECK((s->variant & kVariantCausal) != 0);
  SkuFilter none;
  none.name_contains = "zzz";
  CHECK(Catalog::query(none).empty());
  CHECK(Catalog::query({}).size() == Catalog::all().size());
}

TEST_CASE("compiled archs and code availability") {
  const auto archs = Catalog::compiled_archs();
  REQUIRE(!archs.empty());
  for (int a : archs) CHECK(a >= 80);
  const KernelSku& any = Catalog::all()[0];
  CHECK_FALSE(Catalog::has_code_for(any, Target::named(75)));
  CHECK_FALSE(Catalog::has_code_for(any, Target::named(120)));  // no machine code for a newer major
  const bool has80 = std::find(archs.begin(), archs.end(), 80) != archs.end();
  if (any.arch == ArchClass::sm80) CHECK(Catalog::has_code_for(any, Target::named(86)) == has80);
}

TEST_CASE("targets parse from arch names") {
  CHECK(Target::parse("sm90").value().compute_capability == 90);
  CHECK(Target::parse("sm_86").value().compute_capability == 86);
  CHECK(Target::parse("80").value().compute_capability == 80);
  CHECK(Target::parse("sm90a").value().compute_capability == 90);
  CHECK(Target::named(90).sm_count == 132);
  const auto bad = Target::parse("hopper");
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.status().message(), "'hopper'"));
}

TEST_CASE("support matrix covers every compiled op") {
  const std::string m = Catalog::support_matrix();
  for (const KernelSku& s : Catalog::all()) CHECK(contains(m, "| " + std::string(to_string(s.op)) + " |"));
}

TEST_CASE("enum names round-trip") {
  for (auto e : {Element::f16, Element::bf16, Element::f32, Element::f64, Element::fp8_e4m3, Element::fp8_e5m2})
    CHECK(parse_element(to_string(e)) == e);
  for (auto op : {OpKind::kv_append, OpKind::attn_fwd, OpKind::attn_decode, OpKind::rope, OpKind::rope_kv_append})
    CHECK(parse_op_kind(to_string(op)) == op);
  CHECK(parse_math_precision("exact") == MathPrecision::exact);
  CHECK(!parse_element("f8").has_value());
  CHECK(variant_to_string(kVariantCausal | kVariantPaged) == "causal|paged");
  CHECK(variant_to_string(kVariantNone) == "none");
}
