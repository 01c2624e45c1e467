// Names and parsing of the vocabulary enums, and Target construction.
#include "baracuda/types.hpp"

#include <array>
#include <charconv>

namespace baracuda {
namespace {

template <class E, std::size_t N>
std::optional<E> parse_enum(std::string_view text, const std::array<E, N>& values) {
  for (E v : values)
    if (to_string(v) == text) return v;
  return std::nullopt;
}

constexpr std::array kElements = {Element::none, Element::f16, Element::bf16, Element::f32, Element::f64,
                                  Element::fp8_e4m3, Element::fp8_e5m2, Element::i32, Element::i64};
constexpr std::array kMath = {MathPrecision::bf16, MathPrecision::f16, MathPrecision::f32, MathPrecision::f64,
                              MathPrecision::exact};
constexpr std::array kArches = {ArchClass::sm80, ArchClass::sm90a};
constexpr std::array kBackends = {Backend::bespoke, Backend::reference};
constexpr std::array kOps = {OpKind::kv_append, OpKind::attn_fwd, OpKind::attn_decode, OpKind::rope,
                             OpKind::rope_kv_append};
constexpr std::array kObjectives = {Objective::fastest, Objective::most_precise};

// SM counts of common parts, for plans made for a named arch without a GPU.
int typical_sm_count(int cc) {
  switch (cc) {
    case 80: return 108;  // A100
    case 86: return 84;   // RTX 3090 / A40
    case 89: return 128;  // RTX 4090 / L40S has 142; 128 is the median part
    case 90: return 132;  // H100 SXM
    default: return 108;
  }
}

}  // namespace

std::string_view to_string(Element e) {
  switch (e) {
    case Element::none: return "none";
    case Element::f16: return "f16";
    case Element::bf16: return "bf16";
    case Element::f32: return "f32";
    case Element::f64: return "f64";
    case Element::fp8_e4m3: return "fp8_e4m3";
    case Element::fp8_e5m2: return "fp8_e5m2";
    case Element::i32: return "i32";
    case Element::i64: return "i64";
  }
  return "?";
}

std::string_view to_string(MathPrecision m) {
  switch (m) {
    case MathPrecision::bf16: return "bf16";
    case MathPrecision::f16: return "f16";
    case MathPrecision::f32: return "f32";
    case MathPrecision::f64: return "f64";
    case MathPrecision::exact: return "exact";
  }
  return "?";
}

std::string_view to_string(ArchClass a) { return a == ArchClass::sm80 ? "sm80" : "sm90a"; }
std::string_view to_string(Backend b) { return b == Backend::bespoke ? "bespoke" : "reference"; }
std::string_view to_string(Objective o) { return o == Objective::fastest ? "fastest" : "most_precise"; }

std::string_view to_string(OpCategory c) {
  switch (c) {
    case OpCategory::kv_cache: return "kv_cache";
    case OpCategory::attention: return "attention";
    case OpCategory::rope: return "rope";
  }
  return "?";
}

std::string_view to_string(OpKind k) {
  switch (k) {
    case OpKind::kv_append: return "kv_append";
    case OpKind::attn_fwd: return "attn_fwd";
    case OpKind::attn_decode: return "attn_decode";
    case OpKind::rope: return "rope";
    case OpKind::rope_kv_append: return "rope_kv_append";
  }
  return "?";
}

std::string variant_to_string(std::uint32_t variant) {
  static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
      {kVariantCausal, "causal"}, {kVariantPaged, "paged"}, {kVariantRopeNeox, "neox"},
      {kVariantRopeGptj, "gptj"}, {kVariantFixedSplit, "fixedsplit"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(variant & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
  }
  return out.empty() ? "none" : out;
}

std::optional<Element> parse_element(std::string_view s) { return parse_enum(s, kElements); }
std::optional<MathPrecision> parse_math_precision(std::string_view s) { return parse_enum(s, kMath); }
std::optional<ArchClass> parse_arch_class(std::string_view s) { return parse_enum(s, kArches); }
std::optional<Backend> parse_backend(std::string_view s) { return parse_enum(s, kBackends); }
std::optional<OpKind> parse_op_kind(std::string_view s) { return parse_enum(s, kOps); }
std::optional<Objective> parse_objective(std::string_view s) { return parse_enum(s, kObjectives); }

std::size_t element_size(Element e) {
  switch (e) {
    case Element::none: return 0;
    case Element::fp8_e4m3:
    case Element::fp8_e5m2: return 1;
    case Element::f16:
    case Element::bf16: return 2;
    case Element::f32:
    case Element::i32: return 4;
    case Element::f64:
    case Element::i64: return 8;
  }
  return 0;
}

Result<Target> Target::from_device(int device_ordinal) {
  cudaDeviceProp prop{};
  const cudaError_t err = cudaGetDeviceProperties(&prop, device_ordinal);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return Status::error(StatusCode::cuda_error,
                         "target: no usable CUDA device " + std::to_string(device_ordinal) + " (" +
                             cudaGetErrorString(err) + "); name a target arch instead, e.g. Target::named(90)");
  }
  return Target{prop.major * 10 + prop.minor, prop.multiProcessorCount};
}

Target Target::named(int compute_capability, int sm_count) {
  return Target{compute_capability, sm_count > 0 ? sm_count : typical_sm_count(compute_capability)};
}

Result<Target> Target::parse(std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with("sm_")) digits.remove_prefix(3);
  else if (digits.starts_with("sm")) digits.remove_prefix(2);
  if (digits.ends_with("a")) digits.remove_suffix(1);
  int cc = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cc);
  if (ec != std::errc() || end != digits.data() + digits.size() || cc < 50 || cc > 200)
    return Status::invalid("target: '" + std::string(text) +
                           "' is not an arch; expected e.g. sm80, sm90, sm_86 or 90");
  return named(cc);
}

}  // namespace baracuda
