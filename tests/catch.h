// Catch2 v2 (Debian 12: 2.13) or v3 (Debian 13, Ubuntu 24.04: 3.x), whichever CMake found: the tests include
// this header instead of Catch2's own, and use test::contains() where v2 spelled Catch::Contains and v3
// Catch::Matchers::ContainsSubstring. A file that defines main defines CATCH_CONFIG_RUNNER before including it.
// NOTE: the version comes from CMake (SPARSE24_CATCH2_MAJOR), not from __has_include: a host can have one
// version's headers in /usr/include and link the other's library (seen on the GPU host: v3 headers installed,
// the v2 bundle linked), and the headers must match the library.
#pragma once

#include <string>

#ifndef SPARSE24_CATCH2_MAJOR
#error "SPARSE24_CATCH2_MAJOR must be set by the build (CMakeLists.txt sets it from the Catch2 package found)"
#endif

#if SPARSE24_CATCH2_MAJOR >= 3
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
