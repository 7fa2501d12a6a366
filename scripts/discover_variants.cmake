# Included by CTest when it starts (CMakeLists.txt, TEST_INCLUDE_FILES): one test per registered variant,
#   "gpu: variant <name>"  ->  sparse24_test_kernels_gpu "[variant]" with SPARSE24_VARIANT=<name>
# read from `sparse24_bench --list-json` (no GPU needed), so a new variant gets its test entry with no CMake edit.
# A build whose benchmark cannot list its variants gets one failing entry saying so, never silently none.
execute_process(COMMAND "${SPARSE24_LIST_CMD}" --list-json OUTPUT_VARIABLE _json RESULT_VARIABLE _rc
                ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  add_test("gpu: variant discovery" sh -c "echo 'sparse24_bench --list-json failed: ${_rc}'; exit 1")
  return()
endif()
string(JSON _n LENGTH "${_json}")
if(_n EQUAL 0)
  add_test("gpu: variant discovery" sh -c "echo 'the registry lists no variant'; exit 1")
  return()
endif()
math(EXPR _last "${_n} - 1")
foreach(_i RANGE ${_last})
  string(JSON _name GET "${_json}" ${_i} name)
  string(JSON _operation GET "${_json}" ${_i} operation)
  if(NOT _operation STREQUAL "gemm")  # the GEMM tests; a prune_compress variant is checked by its benchmark row
    continue()
  endif()
  add_test("gpu: variant ${_name}" "${SPARSE24_TEST_CMD}" "[variant]")
  set_tests_properties("gpu: variant ${_name}" PROPERTIES ENVIRONMENT "SPARSE24_VARIANT=${_name}"
                       SKIP_RETURN_CODE 77 LABELS "gpu;variant")
endforeach()
