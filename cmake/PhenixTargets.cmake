# SPDX-License-Identifier: Apache-2.0
# Compiler settings shared by every Phenix target. Applied per target (never globally) so that
# third-party code keeps its own flags.

add_library(phenix_compile_options INTERFACE)
target_compile_options(phenix_compile_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wimplicit-fallthrough
  # Designated initializers (STYLE.md §2) leave fields at their defaults on purpose.
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports false -Wrestrict positives inside libstdc++ for `"literal" + std::string`
  # (GCC bug 105651, fixed in 13).
  target_compile_options(phenix_compile_options INTERFACE -Wno-restrict)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(phenix_compile_options INTERFACE -Wthread-safety)
endif()
if(PHENIX_WERROR)
  target_compile_options(phenix_compile_options INTERFACE -Werror)
endif()

# Sanitizers apply to everything we build (including tests) so that instrumented and
# uninstrumented code never mix within our binaries.
if(PHENIX_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(PHENIX_SANITIZE STREQUAL "thread")
  # No sibling-call optimisation: suppressions in tests/tsan.supp name our frames above RocksDB.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -fno-optimize-sibling-calls)
  add_link_options(-fsanitize=thread)
elseif(NOT PHENIX_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PHENIX_SANITIZE must be '', 'address' or 'thread', not '${PHENIX_SANITIZE}'")
endif()

# phenix_add_module(NAME SOURCES... [DEPS ...] [PRIVATE_DEPS ...]) defines the static library
# phenix_NAME (alias phenix::NAME) for src/NAME.
function(phenix_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(phenix_${name} STATIC ${ARG_SOURCES})
  add_library(phenix::${name} ALIAS phenix_${name})
  target_include_directories(phenix_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(phenix_${name} PUBLIC ${ARG_DEPS} PRIVATE phenix_compile_options ${ARG_PRIVATE_DEPS})
  set_target_properties(phenix_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
