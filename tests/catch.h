// Catch2 v2 (Debian 12: 2.13) or v3 (Debian 13, Ubuntu 24.04: 3.x), whichever is installed: the tests include
// this header instead of Catch2's own, and use test::contains() where v2 spelled Catch::Contains and v3
// Catch::Matchers::ContainsSubstring. A file that defines main defines CATCH_CONFIG_RUNNER before including it.
#pragma once

#include <string>

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
using Catch::Approx;
namespace test {
inline auto contains(const std::string& s) { return Catch::Matchers::ContainsSubstring(s); }
}  // namespace test
#else
#include <catch2/catch.hpp>
namespace test {
inline auto contains(const std::string& s) { return Catch::Matchers::Contains(s); }
}  // namespace test
#endif
