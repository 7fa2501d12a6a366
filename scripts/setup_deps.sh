#!/usr/bin/env bash
# Makes a Debian/Ubuntu machine that already has the CUDA toolkit able to build sparse24.
#
#   scripts/setup_deps.sh                check; install what is missing with apt-get (as root), or print the one
#                                        apt-get command to run (not root, exit 1). Quiet when all is present.
#   scripts/setup_deps.sh --bundle DIR   download fmt, Catch2 and Google Benchmark as .deb files into DIR/debs and
#                                        unpack them into DIR/prefix, to carry to a machine without package access
#                                        (a GPU host without package access). Needs no root and no CUDA.
#                                        With SPARSE24_BUNDLE_CUSPARSELT=1 also DIR/cusparselt (see below: large).
#   scripts/setup_deps.sh --cusparselt [DIR]   install cuSPARSELt (the optional peer) from NVIDIA's PyPI wheel
#                                        into DIR (default .deps/cusparselt): DIR/include/cusparseLt.h and
#                                        DIR/lib/libcusparseLt.so.0, where CMakeLists.txt looks for it.
#
# Needed: the CUDA toolkit (nvcc; not installed here), cmake >= 3.24, g++, python3, make or ninja, and the -dev
# packages libbenchmark-dev, catch2, libfmt-dev. Optional: cuSPARSELt. The plain call also installs it into
# .deps/cusparselt when CMake would not find it (no .deps/cusparselt, no SPARSE24_CUSPARSELT_ROOT, no Python package
# nvidia.cusparselt) and pip can reach PyPI; without package access it says so and goes on (the peer is then
# absent). SPARSE24_NO_CUSPARSELT=1 skips it.
# NOTE: the wheel is large: nvidia-cusparselt-cu13 0.10.0 is a 170 MB download and its libcusparseLt.so.0 237 MB
# unpacked (2026-11-22), far above what can be carried to a host without package access in a 64 MiB bundle. So the
# bundle leaves it out unless asked; the GPU hosts seen so far have cuSPARSELt 0.8.0 in their Python site-packages,
# which CMake finds on its own.
set -euo pipefail

readonly CMAKE_MIN=3.24
readonly DEV_PACKAGES=(libfmt-dev catch2 libbenchmark-dev)
# The runtime libraries the -dev packages depend on, as named on Debian 12; on other releases the names are read
# from apt (see runtime_packages).
readonly RUNTIME_PACKAGES_DEBIAN12=(libfmt9 libbenchmark1debian)

say() { echo "sparse24: $*"; }
die() { echo "sparse24: $*" >&2; exit 1; }

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

require_apt() {
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    die "this script needs a Debian/Ubuntu system (apt-get, dpkg); install cmake >= $CMAKE_MIN, g++, python3, fmt, Catch2 2.x and Google Benchmark by other means"
  fi
}

# version_ge A B: true when version A >= version B (dotted numbers).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

find_nvcc() {
  command -v nvcc 2>/dev/null && return 0
  [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc && return 0
  return 1
}

cmake_version() { cmake --version 2>/dev/null | sed -n 's/^cmake version \([0-9][0-9.]*\).*/\1/p' | head -n1; }

# The packages that are missing, one per line.
missing_packages() {
  local v
  v=$(cmake_version)
  if [ -z "$v" ] || ! version_ge "$v" "$CMAKE_MIN"; then echo cmake; fi
  command -v g++ >/dev/null 2>&1 || echo g++
  command -v python3 >/dev/null 2>&1 || echo python3
  # make is what the user types; Ninja is optional (the Makefile uses it when present).
  command -v make >/dev/null 2>&1 || echo make
  local p
  for p in "${DEV_PACKAGES[@]}"; do installed "$p" || echo "$p"; done
}

check_and_install() {
  find_nvcc >/dev/null ||
    die "the CUDA toolkit is required (nvcc is neither on PATH nor in /usr/local/cuda/bin): install it from https://developer.nvidia.com/cuda-downloads and add its bin/ to PATH"
  require_apt

  local missing
  missing=$(missing_packages | tr '\n' ' ' | sed 's/ *$//')
  if [ -z "$missing" ]; then
    say "dependencies present"
    return 0
  fi

  if [ "$(id -u)" -ne 0 ]; then
    die "missing: $missing; run: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"
  fi

  say "installing: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086  # $missing is a list of package names
  apt-get install -y -qq --no-install-recommends $missing >/dev/null

  # apt's cmake can still be too old (Ubuntu 22.04 has 3.22): say so rather than fail later in configure.
  local v
  v=$(cmake_version)
  if [ -z "$v" ] || ! version_ge "$v" "$CMAKE_MIN"; then
    die "cmake ${v:-not found} after installing; >= $CMAKE_MIN is needed (for example: pip install 'cmake>=$CMAKE_MIN')"
  fi
  missing=$(missing_packages | tr '\n' ' ' | sed 's/ *$//')
  [ -z "$missing" ] || die "still missing after apt-get install: $missing"
  say "dependencies installed"
}

# Runtime library packages of the -dev packages (libfmt9, libbenchmark1debian on Debian 12), read from apt so that
# other releases get their own names; Catch2 2.x is header-only.
runtime_packages() {
  local deps
  deps=$(apt-cache depends libfmt-dev libbenchmark-dev 2>/dev/null |
         sed -n 's/^ *Depends: \(lib\(fmt\|benchmark\)[^ <>]*\)$/\1/p' | grep -v -- '-dev$' | sort -u || true)
  if [ -n "$deps" ]; then echo "$deps"; else printf '%s\n' "${RUNTIME_PACKAGES_DEBIAN12[@]}"; fi
}

bundle() {
  local dir=$1
  require_apt
  mkdir -p "$dir/debs" "$dir/prefix"
  dir=$(cd "$dir" && pwd)

  local packages=("${DEV_PACKAGES[@]}")
  mapfile -t -O "${#packages[@]}" packages < <(runtime_packages)

  # apt-get download needs package lists; a fresh container has none.
  if ! apt-cache show "${packages[@]}" >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq
    else
      die "apt does not know ${packages[*]}; run: sudo apt-get update, then this again"
    fi
  fi

  local p
  for p in "${packages[@]}"; do rm -f "$dir/debs/${p}_"*.deb; done  # no stale versions beside the new ones
  # As root, apt-get download warns that the _apt user cannot write the folder ("Download is performed
  # unsandboxed"); the download itself succeeds, so that one warning is filtered out.
  (cd "$dir/debs" && apt-get download -q "${packages[@]}" 2> >(grep -v 'unsandboxed' >&2)) >/dev/null ||
    die "apt-get download ${packages[*]} failed"

  local f
  for f in "$dir"/debs/*.deb; do dpkg -x "$f" "$dir/prefix"; done
  # The packages' documentation is not needed to build or run: left out so that the prefix, carried to the GPU host
  # beside the working tree, stays small (the device call's limit is 64 MiB for both together).
  rm -rf "$dir/prefix/usr/share/doc"

  local libdir
  libdir=$(find "$dir/prefix/usr/lib" -maxdepth 1 -type d -name '*-linux-gnu*' | head -n1)
  say "bundle ready in $dir (${packages[*]}): configure with -DCMAKE_PREFIX_PATH=$dir/prefix/usr, run with LD_LIBRARY_PATH=${libdir:-$dir/prefix/usr/lib}"
}

# ---- cuSPARSELt from PyPI ----------------------------------------------------------------------------------------
# The wheel matching the toolkit's major version: nvidia-cusparselt-cu13 for CUDA 13, -cu12 for CUDA 12.
cusparselt_wheel_name() {
  local nvcc major
  nvcc=$(find_nvcc) || { echo nvidia-cusparselt-cu13; return; }
  major=$("$nvcc" --version | sed -n 's/.*release \([0-9][0-9]*\)\..*/\1/p' | head -n1)
  echo "nvidia-cusparselt-cu${major:-13}"
}

# True when CMake would find cuSPARSELt without help (same places as CMakeLists.txt).
cusparselt_present() {
  local top
  top=$(cd "$(dirname "$0")/.." && pwd)
  [ -n "${SPARSE24_CUSPARSELT_ROOT:-}" ] && return 0
  [ -f "$top/.deps/cusparselt/include/cusparseLt.h" ] && return 0
  python3 -c "import nvidia.cusparselt" >/dev/null 2>&1 && return 0
  return 1
}

# install_cusparselt DIR: pip download the wheel (no dependencies, binary only), unzip it, and keep include/ and lib/
# under DIR whatever the wheel's own layout (nvidia/cu13/... in 0.10, nvidia/cusparselt/... in older wheels).
# Returns 1, with a message, when the download fails (no package access).
install_cusparselt() {
  local dir=$1 wheel tmp whl hdr lib
  wheel=$(cusparselt_wheel_name)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  say "downloading $wheel from PyPI (about 170 MB) for the cuSPARSELt peer"
  if ! python3 -m pip download -q --no-deps --only-binary=:all: "$wheel" -d "$tmp" >"$tmp/pip.log" 2>&1; then
    say "could not download $wheel ($(tail -n1 "$tmp/pip.log")): the cuSPARSELt peer stays disabled (no package access?)"
    return 1
  fi
  whl=$(ls "$tmp"/*.whl | head -n1)
  mkdir -p "$tmp/x"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$whl" "$tmp/x"
  hdr=$(find "$tmp/x" -name cusparseLt.h | head -n1)
  lib=$(find "$tmp/x" -name 'libcusparseLt.so*' | head -n1)
  [ -n "$hdr" ] && [ -n "$lib" ] || { say "$whl holds no cusparseLt.h / libcusparseLt.so: not installed"; return 1; }
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$(dirname "$hdr")" "$dir/include"
  mv "$(dirname "$lib")" "$dir/lib"
  say "cuSPARSELt $(basename "$whl" | cut -d- -f2) in $dir ($(du -sh "$dir" | cut -f1)); reconfigure (rm -rf build) to enable the peer"
}

case "${1:-}" in
  "")
    check_and_install
    if [ "${SPARSE24_NO_CUSPARSELT:-0}" = 0 ] && ! cusparselt_present; then
      install_cusparselt "$(cd "$(dirname "$0")/.." && pwd)/.deps/cusparselt" || true
    fi
    ;;
  --bundle)
    if [ $# -ne 2 ] || [ -z "$2" ]; then usage; fi
    bundle "$2"
    if [ "${SPARSE24_BUNDLE_CUSPARSELT:-0}" != 0 ]; then install_cusparselt "$2/cusparselt"; fi
    ;;
  --cusparselt)
    if [ $# -gt 2 ]; then usage; fi
    install_cusparselt "${2:-$(cd "$(dirname "$0")/.." && pwd)/.deps/cusparselt}"
    ;;
  -h|--help) usage ;;
  *) usage ;;
esac
