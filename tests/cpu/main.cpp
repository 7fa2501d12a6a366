// Catch2's own main for the CPU tests (no GPU needed).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
