// Main of the GPU suites: without a usable GPU the suite reports itself
// skipped (exit code 77, Meson's "skip") instead of passing vacuously.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "gpu_common.hpp"

int main(int argc, char** argv) {
  if (!bk_test::gpu_available()) return 77;
  doctest::Context context(argc, argv);
  return context.run();
}
