// Vocabulary of baracuda-kernels: element kinds, SKU records, precision
// guarantees, preferences, targets and the status type every call returns.
// Plain data only; nothing here touches the GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

namespace baracuda {

// ---------------------------------------------------------------- enums ----
enum class Element : std::uint8_t { none, f16, bf16, f32, f64, fp8_e4m3, fp8_e5m2, i32, i64 };

// Ordered from least to most precise; `exact` is a bit-for-bit copy.
enum class MathPrecision : std::uint8_t { bf16, f16, f32, f64, exact };

// sm80: mma.sync / cp.async path, runs on every cc >= 8.0.
// sm90a: wgmma / TMA path, Hopper (cc 9.0) only.
enum class ArchClass : std::uint8_t { sm80, sm90a };

enum class Backend : std::uint8_t { bespoke, reference };

enum class OpCategory : std::uint8_t { kv_cache, attention, rope };

enum class OpKind : std::uint8_t { kv_append, attn_fwd, attn_decode, rope, rope_kv_append };

// Variant flags, a bit set. Selection requires an exact match.
enum Variant : std::uint32_t {
  kVariantNone = 0,
  kVariantCausal = 1u << 0,
  kVariantPaged = 1u << 1,
  kVariantRopeNeox = 1u << 2,   // rotate-half
  kVariantRopeGptj = 1u << 3,   // interleaved pairs
  kVariantFixedSplit = 1u << 4, // implementation choice: fixed split-KV size (batch invariant)
};

enum class Objective : std::uint8_t { fastest, most_precise };

// A head dim of 0 in a SKU means "any head dim" (a generic kernel).
inline constexpr int kAnyHeadDim = 0;

std::string_view to_string(Element);
std::string_view to_string(MathPrecision);
std::string_view to_string(ArchClass);
std::string_view to_string(Backend);
std::string_view to_string(OpCategory);
std::string_view to_string(OpKind);
std::string_view to_string(Objective);
std::string variant_to_string(std::uint32_t variant);  // "causal|paged", "none"

std::optional<Element> parse_element(std::string_view);
std::optional<MathPrecision> parse_math_precision(std::string_view);
std::optional<ArchClass> parse_arch_class(std::string_view);
std::optional<Backend> parse_backend(std::string_view);
std::optional<OpKind> parse_op_kind(std::string_view);
std::optional<Objective> parse_objective(std::string_view);

std::size_t element_size(Element);  // bytes; 0 for Element::none

// --------------------------------------------------------------- status ----
enum class StatusCode : std::uint8_t {
  ok,
  invalid_argument,   // a descriptor or argument field is wrong
  not_supported,      // nothing in the catalog implements the problem
  workspace_too_small,
  cuda_error,
};

// Errors are values. The message names the offending field and its value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status success() { return {}; }
  static Status error(StatusCode code, std::string message) { return Status(code, std::move(message)); }
  static Status invalid(std::string message) { return error(StatusCode::invalid_argument, std::move(message)); }

  bool ok() const { return code_ == StatusCode::ok; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(implicit)
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// ------------------------------------------------------------ SKU record ----
struct PrecisionGuarantee {
  MathPrecision math;     // precision the products are formed in
  Element accumulator;    // type the sums are carried in
  bool deterministic;     // no run-to-run variation on the same inputs
  bool bit_stable;        // bit-identical results on the same hardware and binary
  bool batch_invariant;   // a sample's result does not depend on the rest of the batch
  double max_rel_error;   // ||out - ref||_2 / ||ref||_2 against an f64 reference
};

// Everything a SKU's entry point receives. `desc` and `args` point to the
// op's descriptor and argument structs (ops/*.hpp).
struct LaunchContext {
  const void* desc;
  const void* args;
  void* workspace;
  std::size_t workspace_bytes;
  cudaStream_t stream;
  int sm_count;           // SMs of the plan's target (split-count choices)
};
using SkuEntry = Status (*)(const LaunchContext&);

// One compiled kernel specialization. Rows come from generated/registry.inc.
struct KernelSku {
  const char* name;
  OpCategory category;
  OpKind op;
  Element element;
  Element aux_element;   // Element::none where the op has no second element
  int head_dim_qk;       // kAnyHeadDim for a generic kernel
  int head_dim_v;
  std::uint32_t variant;
  ArchClass arch;
  Backend backend;
  PrecisionGuarantee guarantee;
  int priority;          // tuning rank among equals when fastest; lower first
  SkuEntry entry;

  bool generic_head_dim() const { return head_dim_qk == kAnyHeadDim; }
};

// ------------------------------------------------------------ selection ----
struct PlanPreference {
  Objective objective = Objective::fastest;
  bool require_deterministic = false;
  bool require_batch_invariant = false;
  std::optional<MathPrecision> min_math_precision;
  std::optional<Element> min_accumulator;           // f32 or f64
  std::optional<std::size_t> max_workspace_bytes;   // honoured: larger plans are rejected
  std::vector<Backend> allowed_backends;            // empty: all
  std::vector<ArchClass> allowed_arch_classes;      // empty: all
  std::string force_sku;                            // empty: none; else the only candidate
  std::vector<std::string> exclude_skus;
};

// The machine a plan is made for: a live device, or a named arch on a host
// without a GPU (`Target::named(90)` describes an H100).
struct Target {
  int compute_capability = 0;  // 80, 86, 89, 90, ...
  int sm_count = 0;
  static Result<Target> from_device(int device_ordinal);
  static Target named(int compute_capability, int sm_count = 0);  // sm_count 0: a typical count
  static Result<Target> parse(std::string_view text);             // "sm90", "90", "sm_80"
};

// Caller-owned device memory a plan may use. Plans never allocate.
struct Workspace {
  void* data = nullptr;
  std::size_t bytes = 0;
};

}  // namespace baracuda
