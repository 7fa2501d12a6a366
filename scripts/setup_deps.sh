#!/usr/bin/env bash
# Makes a Debian/Ubuntu machine that already has the CUDA toolkit able to build sparse24.
#
#   scripts/setup_deps.sh                check; install what is missing with apt-get (as root), or print the one
#                                        apt-get command to run (not root, exit 1). Quiet when all is present.
#   scripts/setup_deps.sh --bundle DIR   download fmt, Catch2 and Google Benchmark as .deb files into DIR/debs and
#                                        unpack them into DIR/prefix, to carry to a machine without package access
#                                        (a GPU host without package access). Needs no root and no CUDA.
#
# Needed: the CUDA toolkit (nvcc; not installed here), cmake >= 3.24, g++, python3, make or ninja, and the -dev
# packages libbenchmark-dev, catch2, libfmt-dev.
set -euo pipefail

readonly CMAKE_MIN=3.24
readonly DEV_PACKAGES=(libfmt-dev catch2 libbenchmark-dev)
# The runtime libraries the -dev packages depend on, as named on Debian 12; on other releases the names are read
# from apt (see runtime_packages).
readonly RUNTIME_PACKAGES_DEBIAN12=(libfmt9 libbenchmark1debian)

say() { echo "sparse24: $*"; }
die() { echo "sparse24: $*" >&2; exit 1; }

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
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

  local libdir
  libdir=$(find "$dir/prefix/usr/lib" -maxdepth 1 -type d -name '*-linux-gnu*' | head -n1)
  say "bundle ready in $dir (${packages[*]}): configure with -DCMAKE_PREFIX_PATH=$dir/prefix/usr, run with LD_LIBRARY_PATH=${libdir:-$dir/prefix/usr/lib}"
}

case "${1:-}" in
  "") check_and_install ;;
  --bundle)
    if [ $# -ne 2 ] || [ -z "$2" ]; then usage; fi
    bundle "$2"
    ;;
  -h|--help) usage ;;
  *) usage ;;
esac
