// Main of the GPU test binaries: exit 77 (CTest's SKIP_RETURN_CODE) where there is no GPU, so the CPU tests still
// run and the GPU tests read as skipped; otherwise Catch2's failure count is mapped to exit 1, so that 77 failing
// tests can never read as "skipped". On a machine that has a GPU, set SPARSE24_REQUIRE_GPU=1 (gpu_host_run.sh
// does): then a GPU that cannot be reached (driver mismatch, say) fails the tests instead of skipping them.
#define CATCH_CONFIG_RUNNER
#include "tests/catch.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness/context.h"

int main(int argc, char** argv) {
  std::string why;
  if (sparse24::harness::cuda_device_count(&why) == 0) {
    const char* require = std::getenv("SPARSE24_REQUIRE_GPU");
    if (require && *require && *require != '0') {
      std::printf("no CUDA GPU (%s), but SPARSE24_REQUIRE_GPU is set: failing\n", why.c_str());
      return 1;
    }
    std::printf("no CUDA GPU (%s): GPU tests skipped\n", why.c_str());
    return 77;
  }
  const int failures = Catch::Session().run(argc, argv);
  return failures == 0 ? 0 : 1;
}
