# SPDX-License-Identifier: Apache-2.0
# The module boundary check of one module (cmake -P; registered by
# phenix_add_module_boundary_tests in cmake/PhenixTargets.cmake). Only the preprocessor runs:
# include resolution is all that is checked.
#   -DMODULE=engine -DCASES=<build>/modules/boundaries.cmake -DCXX=<compiler>
#   -DSOURCE_DIR=<source tree> -DWORK_DIR=<scratch folder>
cmake_minimum_required(VERSION 3.25)
include(${CASES})
file(MAKE_DIRECTORY ${WORK_DIR})

set(flags -std=c++20 -D_GNU_SOURCE -E -o /dev/null)
foreach(dir IN LISTS PHENIX_INCLUDES_${MODULE})
  list(APPEND flags -I${dir})
endforeach()

# preprocess(<header> <result var> <stderr var>): `#include "<header>"` in a file of MODULE.
function(preprocess header result_var error_var)
  string(MAKE_C_IDENTIFIER "${header}" stem)
  set(file ${WORK_DIR}/${stem}.cc)
  file(WRITE ${file} "#include \"${header}\"\n")
  execute_process(COMMAND ${CXX} ${flags} ${file} RESULT_VARIABLE rc ERROR_VARIABLE err
                  OUTPUT_QUIET)
  set(${result_var} ${rc} PARENT_SCOPE)
  set(${error_var} "${err}" PARENT_SCOPE)
endfunction()

set(failures "")
set(checked 0)

# 1. Every header of the module resolves everything it includes within the module's closure.
file(GLOB_RECURSE own RELATIVE ${SOURCE_DIR}/src ${SOURCE_DIR}/src/${MODULE}/*.h)
foreach(header IN LISTS own)
  preprocess(${header} rc err)
  math(EXPR checked "${checked} + 1")
  if(NOT rc EQUAL 0)
    string(APPEND failures
           "${header}: does not preprocess with ${MODULE}'s include directories (an include of a "
           "module ${MODULE} does not depend on?):\n${err}\n")
  endif()
endforeach()

# 2. No header of a module outside the closure is visible.
foreach(other IN LISTS PHENIX_MODULES)
  if(other STREQUAL MODULE OR other IN_LIST PHENIX_CLOSURE_${MODULE})
    continue()
  endif()
  file(GLOB_RECURSE theirs RELATIVE ${SOURCE_DIR}/src ${SOURCE_DIR}/src/${other}/*.h)
  list(SORT theirs)
  list(GET theirs 0 header)
  preprocess(${header} rc err)
  math(EXPR checked "${checked} + 1")
  if(rc EQUAL 0)
    string(APPEND failures
           "${MODULE} can include \"${header}\" although it does not depend on ${other}\n")
  elseif(NOT err MATCHES "${header}")
    string(APPEND failures "including \"${header}\" from ${MODULE} failed for another reason:\n${err}\n")
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "module boundaries of ${MODULE}:\n${failures}")
endif()
message(STATUS "module ${MODULE}: ${checked} include checks passed "
               "(depends on: ${PHENIX_CLOSURE_${MODULE}})")
