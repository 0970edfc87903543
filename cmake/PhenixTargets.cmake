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
  # Clang's thread-safety analysis of the annotations in common/thread_annotations.h: always an
  # error (`make tsa` is the build that runs it; GCC ignores the annotations).
  target_compile_options(phenix_compile_options INTERFACE -Wthread-safety -Werror=thread-safety)
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
#
# One include directory per module (src/README.md, "The include rule"): the module exports
# include/ (the public API) and a staging folder in the build tree that holds nothing but a link
# to its own source folder, build/<cfg>/modules/NAME/include/NAME -> src/NAME. Includes keep their
# spelling ("engine/catalog.h"), but a module sees only the folders of the modules it links
# (DEPS are PUBLIC, so that is its dependency closure): including a module it does not depend on
# fails to compile. tests/CMakeLists.txt checks that (build.module_boundaries).
function(phenix_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(phenix_${name} STATIC ${ARG_SOURCES})
  add_library(phenix::${name} ALIAS phenix_${name})
  set(stage ${PROJECT_BINARY_DIR}/modules/${name}/include)
  file(MAKE_DIRECTORY ${stage})
  set(link ${stage}/${name})
  set(target ${PROJECT_SOURCE_DIR}/src/${name})
  if(IS_SYMLINK ${link})
    file(READ_SYMLINK ${link} current)
    if(NOT current STREQUAL target)
      file(REMOVE ${link})
    endif()
  endif()
  if(NOT IS_SYMLINK ${link})
    file(CREATE_LINK ${target} ${link} SYMBOLIC)
  endif()
  target_include_directories(phenix_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${stage})
  target_link_libraries(phenix_${name} PUBLIC ${ARG_DEPS} PRIVATE phenix_compile_options ${ARG_PRIVATE_DEPS})
  set_target_properties(phenix_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  # For the boundary check: the modules, and each one's direct module dependencies.
  set(module_deps "")
  foreach(dep IN LISTS ARG_DEPS)
    if(dep MATCHES "^phenix::(.+)$")
      list(APPEND module_deps ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY PHENIX_MODULES ${name})
  set_property(GLOBAL PROPERTY PHENIX_MODULE_DEPS_${name} ${module_deps})
endfunction()

# phenix_add_module_boundary_tests(): one CTest test per module (label "build", run by `make
# test`), build.module_boundaries.NAME, that preprocesses (cmake/CheckModuleBoundaries.cmake)
#  - every header of src/NAME with NAME's include directories: it must find everything it
#    includes, so a header of NAME that includes a module NAME does not depend on fails here even
#    when only higher modules include it;
#  - a header of every module outside NAME's dependency closure: it must NOT be found.
# Call it after every phenix_add_module.
function(phenix_add_module_boundary_tests)
  get_property(modules GLOBAL PROPERTY PHENIX_MODULES)
  set(content "set(PHENIX_MODULES \"${modules}\")\n")
  foreach(m IN LISTS modules)
    set(closure "")
    set(todo ${m})
    while(todo)
      list(POP_FRONT todo current)
      get_property(deps GLOBAL PROPERTY PHENIX_MODULE_DEPS_${current})
      foreach(dep IN LISTS deps)
        if(NOT dep IN_LIST closure)
          list(APPEND closure ${dep})
          list(APPEND todo ${dep})
        endif()
      endforeach()
    endwhile()
    string(APPEND content "set(PHENIX_CLOSURE_${m} \"${closure}\")\n")
    string(APPEND content
           "set(PHENIX_INCLUDES_${m} \"$<TARGET_PROPERTY:phenix_${m},INCLUDE_DIRECTORIES>\")\n")
  endforeach()
  set(cases ${PROJECT_BINARY_DIR}/modules/boundaries.cmake)
  file(GENERATE OUTPUT ${cases} CONTENT "${content}")
  foreach(m IN LISTS modules)
    add_test(NAME build.module_boundaries.${m}
             COMMAND ${CMAKE_COMMAND} -DMODULE=${m} -DCASES=${cases}
                     -DCXX=${CMAKE_CXX_COMPILER} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                     -DWORK_DIR=${PROJECT_BINARY_DIR}/modules/${m}/check
                     -P ${PROJECT_SOURCE_DIR}/cmake/CheckModuleBoundaries.cmake)
    set_tests_properties(build.module_boundaries.${m} PROPERTIES LABELS build TIMEOUT 300)
  endforeach()
endfunction()
