// Helpers of the host suites: SKU presence (builds may compile a subset of
// the catalog) and a target that needs no GPU.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "baracuda/baracuda.hpp"

namespace bk_host {

// The newest arch this build has code for, with an H100-sized SM count.
inline const baracuda::Target kTarget = baracuda::Target::named(baracuda::Catalog::compiled_archs().back(), 132);

// True when every named SKU was compiled; otherwise reports the case as skipped.
inline bool compiled(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!baracuda::Catalog::find(n)) {
      const std::string note = "skipped: " + std::string(n) + " is not compiled into this build";
      MESSAGE(note);
      return false;
    }
  }
  return true;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace bk_host
