// baracuda-catalog: list, show, explain and print the support matrix of the
// SKUs compiled into this build. Needs no GPU (explain takes --target).
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "baracuda/baracuda.hpp"

namespace {

using namespace baracuda;

constexpr const char* kUsage = R"(usage: baracuda-catalog <command> [options]

commands:
  list [--json] [filters]     the compiled SKUs (filters: --op, --element, --head-dim N|any,
                              --arch sm80|sm90a, --backend bespoke|reference, --name TEXT)
  show NAME                   one SKU: fields and precision guarantee
  explain [problem] [pref]    the SKU a plan would choose, and why every other one was rejected
  matrix                      the support matrix of this build (markdown)

explain, problem (defaults in brackets):
  --op kv_append|attn_fwd|attn_decode|rope|rope_kv_append      [attn_fwd]
  --element f16|bf16|f32|f64 [bf16]   --head-dim N [128]   --head-dim-v N [= head dim]
  --causal   --paged   --style neox|gptj [neox]   --page-size N [16]
  --batch N [1]  --heads-q N [32]  --heads-kv N [8]  --seq-q N [1024]  --seq-k N [= seq-q]
  --q-len N [1] (decode)   --max-len N [4096]
  --target sm80|sm86|sm90|... [the current GPU; else the newest arch compiled]
explain, preference:
  --objective fastest|most_precise   --deterministic   --batch-invariant
  --min-math bf16|f16|f32|f64|exact  --min-acc f32|f64  --max-workspace BYTES
  --backends a,b   --arch-classes a,b   --force NAME   --exclude NAME[,NAME...]
)";

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "baracuda-catalog: %s\n(run 'baracuda-catalog --help' for usage)\n", message.c_str());
  std::exit(2);
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// --flag value / --switch parsing with "unknown option" errors.
class Options {
 public:
  Options(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string arg = argv[i];
      if (!arg.starts_with("--")) {
        positional_.push_back(arg);
        continue;
      }
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      } else if (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") {
        values_[arg.substr(2)] = argv[++i];
      } else {
        values_[arg.substr(2)] = "";
      }
    }
  }
  bool flag(const std::string& name) {
    used_.push_back(name);
    const auto it = values_.find(name);
    if (it != values_.end() && !it->second.empty()) {
      // A switch followed by a positional word: give the word back.
      positional_.push_back(it->second);
      it->second.clear();
    }
    return it != values_.end();
  }
  std::optional<std::string> get(const std::string& name) {
    used_.push_back(name);
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    if (it->second.empty()) die("--" + name + " needs a value");
    return it->second;
  }
  std::int64_t integer(const std::string& name, std::int64_t fallback) {
    const auto v = get(name);
    if (!v) return fallback;
    char* end = nullptr;
    const long long x = std::strtoll(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != '\0') die("--" + name + " = '" + *v + "': not an integer");
    return x;
  }
  const std::vector<std::string>& positional() const { return positional_; }
  void finish() const {
    for (const auto& [name, value] : values_) {
      bool known = false;
      for (const auto& u : used_) known = known || u == name;
      if (!known) die("unknown option --" + name);
    }
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
  std::vector<std::string> positional_;
};

template <class T>
T parse_or_die(std::optional<T> (*parse)(std::string_view), const std::string& value, const char* what) {
  const auto v = parse(value);
  if (!v) die(std::string(what) + " '" + value + "' unknown");
  return *v;
}

std::string head_dim_text(const KernelSku& s) {
  if (s.generic_head_dim()) return "any";
  if (s.head_dim_qk == s.head_dim_v) return std::to_string(s.head_dim_qk);
  return std::to_string(s.head_dim_qk) + "x" + std::to_string(s.head_dim_v);
}

void print_json(const std::vector<const KernelSku*>& skus) {
  std::printf("[\n");
  for (std::size_t i = 0; i < skus.size(); ++i) {
    const KernelSku& s = *skus[i];
    const PrecisionGuarantee& g = s.guarantee;
    std::printf(
        "  {\"name\": \"%s\", \"op\": \"%s\", \"category\": \"%s\", \"element\": \"%s\", \"aux_element\": \"%s\", "
        "\"head_dim_qk\": %d, \"head_dim_v\": %d, \"variant\": \"%s\", \"arch\": \"%s\", \"backend\": \"%s\", "
        "\"math\": \"%s\", \"accumulator\": \"%s\", \"deterministic\": %s, \"bit_stable\": %s, "
        "\"batch_invariant\": %s, \"max_rel_error\": %.17g}%s\n",
        s.name, to_string(s.op).data(), to_string(s.category).data(), to_string(s.element).data(),
        to_string(s.aux_element).data(), s.head_dim_qk, s.head_dim_v, variant_to_string(s.variant).c_str(),
        to_string(s.arch).data(), to_string(s.backend).data(), to_string(g.math).data(),
        to_string(g.accumulator).data(), g.deterministic ? "true" : "false", g.bit_stable ? "true" : "false",
        g.batch_invariant ? "true" : "false", g.max_rel_error, i + 1 < skus.size() ? "," : "");
  }
  std::printf("]\n");
}

int cmd_list(Options& opt) {
  SkuFilter f;
  const bool json = opt.flag("json");
  if (auto v = opt.get("op")) f.op = parse_or_die(parse_op_kind, *v, "op");
  if (auto v = opt.get("element")) f.element = parse_or_die(parse_element, *v, "element");
  if (auto v = opt.get("head-dim")) f.head_dim = *v == "any" ? kAnyHeadDim : static_cast<int>(std::atoi(v->c_str()));
  if (auto v = opt.get("arch")) f.arch = parse_or_die(parse_arch_class, *v, "arch class");
  if (auto v = opt.get("backend")) f.backend = parse_or_die(parse_backend, *v, "backend");
  if (auto v = opt.get("name")) f.name_contains = *v;
  opt.finish();
  const auto skus = Catalog::query(f);
  if (json) {
    print_json(skus);
    return 0;
  }
  std::printf("%-48s %-15s %-5s %-5s %-18s %-6s %-9s %-6s %-5s %s\n", "SKU", "op", "elem", "hd", "variant", "arch",
              "backend", "math", "acc", "error bound");
  for (const KernelSku* s : skus)
    std::printf("%-48s %-15s %-5s %-5s %-18s %-6s %-9s %-6s %-5s %.3g\n", s->name, to_string(s->op).data(),
                to_string(s->element).data(), head_dim_text(*s).c_str(), variant_to_string(s->variant).c_str(),
                to_string(s->arch).data(), to_string(s->backend).data(), to_string(s->guarantee.math).data(),
                to_string(s->guarantee.accumulator).data(), s->guarantee.max_rel_error);
  std::printf("%zu of %zu compiled SKUs (code for sm_", skus.size(), Catalog::all().size());
  for (std::size_t i = 0; i < Catalog::compiled_archs().size(); ++i)
    std::printf("%s%d", i ? ", sm_" : "", Catalog::compiled_archs()[i]);
  std::printf(")\n");
  return 0;
}

int cmd_show(Options& opt) {
  opt.finish();
  if (opt.positional().size() != 1) die("show takes one SKU name");
  const KernelSku* s = Catalog::find(opt.positional()[0]);
  if (!s) die("no compiled SKU named '" + opt.positional()[0] + "' (see 'baracuda-catalog list')");
  const PrecisionGuarantee& g = s->guarantee;
  std::printf("name             %s\ncategory         %s\nop               %s\nelement          %s\n"
              "aux element      %s\nhead dims        %s\nvariant          %s\narch class       %s\n"
              "backend          %s\nmath precision   %s\naccumulator      %s\ndeterministic    %s\n"
              "bit stable       %s\nbatch invariant  %s\nerror bound      %.9g (||out-ref||_2/||ref||_2 vs f64)\n",
              s->name, to_string(s->category).data(), to_string(s->op).data(), to_string(s->element).data(),
              to_string(s->aux_element).data(), head_dim_text(*s).c_str(), variant_to_string(s->variant).c_str(),
              to_string(s->arch).data(), to_string(s->backend).data(), to_string(g.math).data(),
              to_string(g.accumulator).data(), g.deterministic ? "yes" : "no", g.bit_stable ? "yes" : "no",
              g.batch_invariant ? "yes" : "no", g.max_rel_error);
  return 0;
}

PlanPreference parse_preference(Options& opt) {
  PlanPreference p;
  if (auto v = opt.get("objective")) p.objective = parse_or_die(parse_objective, *v, "objective");
  p.require_deterministic = opt.flag("deterministic");
  p.require_batch_invariant = opt.flag("batch-invariant");
  if (auto v = opt.get("min-math")) p.min_math_precision = parse_or_die(parse_math_precision, *v, "math precision");
  if (auto v = opt.get("min-acc")) p.min_accumulator = parse_or_die(parse_element, *v, "accumulator");
  if (opt.get("max-workspace")) p.max_workspace_bytes = static_cast<std::size_t>(opt.integer("max-workspace", 0));
  if (auto v = opt.get("backends"))
    for (const auto& b : split(*v)) p.allowed_backends.push_back(parse_or_die(parse_backend, b, "backend"));
  if (auto v = opt.get("arch-classes"))
    for (const auto& a : split(*v)) p.allowed_arch_classes.push_back(parse_or_die(parse_arch_class, a, "arch class"));
  if (auto v = opt.get("force")) p.force_sku = *v;
  if (auto v = opt.get("exclude")) p.exclude_skus = split(*v);
  return p;
}

Target parse_target(Options& opt) {
  if (auto v = opt.get("target")) {
    auto t = Target::parse(*v);
    if (!t) die(t.status().message());
    return t.value();
  }
  auto t = Target::from_device(0);
  if (t) return t.value();
  const int newest = Catalog::compiled_archs().back();
  std::printf("(no GPU here: explaining for --target sm%d, the newest arch this build has code for)\n", newest);
  return Target::named(newest);
}

template <class Op>
int print_explanation(const typename Op::Desc& desc, const PlanPreference& pref, const Target& target) {
  const Result<Explanation> ex = Plan<Op>::explain(desc, pref, target);
  if (!ex) {
    std::printf("invalid problem: %s\n", ex.status().message().c_str());
    return 1;
  }
  std::printf("target: compute capability %d.%d, %d SMs\n%s", target.compute_capability / 10,
              target.compute_capability % 10, target.sm_count, ex->to_text().c_str());
  return ex->chosen ? 0 : 1;
}

int cmd_explain(Options& opt) {
  const OpKind op = parse_or_die(parse_op_kind, opt.get("op").value_or("attn_fwd"), "op");
  const Element element = parse_or_die(parse_element, opt.get("element").value_or("bf16"), "element");
  const std::int64_t hd = opt.integer("head-dim", 128);
  const std::int64_t hd_v = opt.integer("head-dim-v", hd);
  const bool causal = opt.flag("causal");
  const bool paged = opt.flag("paged");
  const std::string style = opt.get("style").value_or("neox");
  if (style != "neox" && style != "gptj") die("--style '" + style + "' unknown (neox or gptj)");
  const std::int64_t page_size = opt.integer("page-size", 16);
  const std::int64_t batch = opt.integer("batch", 1);
  const std::int64_t heads_q = opt.integer("heads-q", 32);
  const std::int64_t heads_kv = opt.integer("heads-kv", 8);
  const std::int64_t seq_q = opt.integer("seq-q", 1024);
  const std::int64_t seq_k = opt.integer("seq-k", seq_q);
  const std::int64_t q_len = opt.integer("q-len", 1);
  const std::int64_t max_len = opt.integer("max-len", 4096);
  const PlanPreference pref = parse_preference(opt);
  const Target target = parse_target(opt);
  opt.finish();

  KvAppendDesc append{element, batch, heads_kv, seq_q, max_len, hd, hd_v, paged, page_size,
                      batch * ((max_len + page_size - 1) / page_size), (max_len + page_size - 1) / page_size};
  const RopeParams rope{style == "neox" ? RopeStyle::neox : RopeStyle::gptj};
  switch (op) {
    case OpKind::kv_append: return print_explanation<KvAppendOp>(append, pref, target);
    case OpKind::attn_fwd:
      return print_explanation<AttnFwdOp>({element, batch, heads_q, heads_kv, seq_q, seq_k, hd, hd_v, causal}, pref,
                                          target);
    case OpKind::attn_decode: {
      DecodeDesc d{element, Element::i32, batch, heads_q, heads_kv, q_len, max_len, hd, paged, page_size,
                   append.num_pages, append.max_pages_per_seq};
      return print_explanation<DecodeOp>(d, pref, target);
    }
    case OpKind::rope: return print_explanation<RopeOp>({element, batch, seq_q, heads_q, heads_kv, hd, rope}, pref, target);
    case OpKind::rope_kv_append: return print_explanation<RopeKvAppendOp>({append, heads_q, rope}, pref, target);
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h" ||
      std::string_view(argv[1]) == "help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view command = argv[1];
  Options opt(argc, argv, 2);
  if (command == "list") return cmd_list(opt);
  if (command == "show") return cmd_show(opt);
  if (command == "explain") return cmd_explain(opt);
  if (command == "matrix") {
    opt.finish();
    std::fputs(Catalog::support_matrix().c_str(), stdout);
    return 0;
  }
  die("unknown command '" + std::string(command) + "'");
}
