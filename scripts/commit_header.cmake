# Writes the commit being built into a header, at every build:
#
#   cmake -DSRC=<source dir> -DOUT=<header path> -P scripts/commit_header.cmake
#
# OUT then holds `#define SPARSE24_COMMIT "<short sha>"`, with "-dirty" appended when tracked files differ from
# that commit, or "unknown" where there is no git or no repository; the environment variable SPARSE24_COMMIT, when
# set, overrides both (a copied tree whose .git, if any, is not its own). The file is rewritten only when its content changes, so an unchanged commit triggers no rebuild
# (the custom target declares OUT as a BYPRODUCT; Ninja re-checks its timestamp).

if(NOT DEFINED SRC OR NOT DEFINED OUT)
  message(FATAL_ERROR "commit_header.cmake: call with -DSRC=<source dir> -DOUT=<header path>")
endif()

set(_commit "unknown")
find_program(_git NAMES git)
if(_git)
  # safe.directory: the tree may belong to another user (a copied or mounted checkout); git then refuses to read it
  # and the build would stamp "unknown" for no good reason. The setting applies to this one command only.
  execute_process(
    COMMAND "${_git}" -c "safe.directory=${SRC}" -C "${SRC}" rev-parse --short HEAD
    OUTPUT_VARIABLE _sha OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _sha MATCHES "^[0-9a-f]+$")
    set(_commit "${_sha}")
    # Dirty means modified or staged tracked files; untracked files (build folders, results being written) are
    # not part of the code that was built.
    execute_process(
      COMMAND "${_git}" -c "safe.directory=${SRC}" -C "${SRC}" status --porcelain --untracked-files=no
      OUTPUT_VARIABLE _status OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0 OR NOT _status STREQUAL "")
      string(APPEND _commit "-dirty")
    endif()
  endif()
endif()

# A source copy (a tree shipped to a GPU host, say) can be told its commit by whoever copied it, and that wins over
# what git says there: the device machine's copy of the working tree carried a stale .git of an older commit, and
# the runs of session 7 were stamped "e173470-dirty" while the tree was a16bdbd (results/NOTES.md).
if(DEFINED ENV{SPARSE24_COMMIT} AND NOT "$ENV{SPARSE24_COMMIT}" STREQUAL "")
  set(_commit "$ENV{SPARSE24_COMMIT}")
endif()

set(_content "// Generated at build time by scripts/commit_header.cmake; do not edit.\n#pragma once\n#define SPARSE24_COMMIT \"${_commit}\"\n")

set(_old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" _old)
endif()
if(NOT _old STREQUAL _content)
  file(WRITE "${OUT}" "${_content}")  # creates the folder too
endif()
