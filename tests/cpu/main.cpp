// Main of the CPU tests (no GPU needed): Catch2's session, the same with Catch2 v2 and v3.
#define CATCH_CONFIG_RUNNER
#include "tests/catch.h"

int main(int argc, char** argv) { return Catch::Session().run(argc, argv) == 0 ? 0 : 1; }
