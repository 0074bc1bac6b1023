# Consumer checks: pot used the ways its users take it (an installed package through
# find_package and pkg-config, add_subdirectory, FetchContent, the Conan test_package
# and the vcpkg port's usage), and every public header compiled on its own.
# All carry the label "package".
#
# The fixture package.prepare runs first: it installs this build tree into a prefix
# under the build directory and packs the sources into a tarball for FetchContent.

set(pot_package_dir ${CMAKE_CURRENT_BINARY_DIR}/package)

# Every header compiles on its own (it includes what it uses) and twice in a row (it
# has an include guard), with the flags our own code is held to.
# (The compiler's own include directories, where Debian puts xsimd, must not be passed
# again: -isystem /usr/include breaks the standard library's #include_next.)
get_target_property(pot_xsimd_includes xsimd INTERFACE_INCLUDE_DIRECTORIES)
list(REMOVE_ITEM pot_xsimd_includes ${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES})
list(TRANSFORM pot_xsimd_includes PREPEND -isystem)
set(pot_header_flags -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror
  -I${PROJECT_SOURCE_DIR}/include ${pot_xsimd_includes})
if(POT_NATIVE)
  list(APPEND pot_header_flags -march=native)
endif()
file(GLOB_RECURSE pot_public_headers CONFIGURE_DEPENDS
  RELATIVE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/include/pot/*.hpp)
# The kernel bodies of one instruction set compile only for its architecture (their
# front headers include them only there, simd/integer_dot.hpp, quant/affine/quantize.hpp
# and the like).
if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$")
  list(FILTER pot_public_headers EXCLUDE REGEX "^pot/simd/(avx2|avx512)/")
  list(FILTER pot_public_headers EXCLUDE REGEX "^pot/quant/affine/simd/(avx2|avx512)\\.hpp$")
endif()
if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  list(FILTER pot_public_headers EXCLUDE REGEX "^pot/simd/neon/")
  list(FILTER pot_public_headers EXCLUDE REGEX "^pot/quant/affine/simd/neon\\.hpp$")
endif()
foreach(header IN LISTS pot_public_headers)
  string(REGEX REPLACE "^pot/(.*)\\.hpp$" "\\1" name "${header}")
  string(REPLACE "/" "." name "${name}")
  set(source ${pot_package_dir}/headers/${name}.cpp)
  file(CONFIGURE OUTPUT ${source}
    CONTENT "#include <${header}>\n#include <${header}>\n")
  add_test(NAME package.header.${name}
    COMMAND ${CMAKE_CXX_COMPILER} ${pot_header_flags} ${source})
  set_tests_properties(package.header.${name} PROPERTIES LABELS package)
endforeach()

# The rest checks the package files, which exist only with POT_INSTALL.
if(NOT POT_INSTALL)
  return()
endif()

set(pot_package_prefix ${pot_package_dir}/prefix)
set(pot_package_archive ${pot_package_dir}/pot-source.tar.gz)

set(pot_consumers_dir ${pot_package_dir}/consumers)
add_test(NAME package.prepare
  COMMAND ${CMAKE_COMMAND}
    -DBUILD_DIR=${PROJECT_BINARY_DIR}
    -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DPREFIX=${pot_package_prefix}
    -DARCHIVE=${pot_package_archive}
    -DCONSUMERS_DIR=${pot_consumers_dir}
    -P ${CMAKE_CURRENT_LIST_DIR}/prepare_package_tests.cmake)
set_tests_properties(package.prepare PROPERTIES LABELS package FIXTURES_SETUP pot_package)

# Configures, builds and runs a CMake project with the compiler, generator and xsimd of
# this build, as a user's separate project would be. The project asks for C++17
# (CMAKE_CXX_STANDARD, as a user's older project might): only pot::pot's own cxx_std_20
# raises it to C++20, so a package that stops propagating C++20 fails here, whatever
# standard the compiler defaults to. None of the consumer projects sets a standard.
function(pot_add_consumer_test name source_dir executable)
  add_test(NAME package.${name}
    COMMAND ${CMAKE_CTEST_COMMAND}
      --build-and-test ${source_dir} ${pot_consumers_dir}/${name}
      --build-generator ${CMAKE_GENERATOR}
      --build-makeprogram ${CMAKE_MAKE_PROGRAM}
      --build-options
        -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
        -DCMAKE_BUILD_TYPE=Release
        -DCMAKE_CXX_STANDARD=17
        -Dxsimd_DIR=${xsimd_DIR}
        ${ARGN}
      --test-command ${executable})
  set_tests_properties(package.${name} PROPERTIES
    LABELS package FIXTURES_REQUIRED pot_package)
endfunction()

set(pot_consumer_dir ${CMAKE_CURRENT_LIST_DIR}/consumer)

pot_add_consumer_test(find_package ${pot_consumer_dir} consumer
  -DPOT_CONSUME_VIA=find_package -DCMAKE_PREFIX_PATH=${pot_package_prefix})
pot_add_consumer_test(add_subdirectory ${pot_consumer_dir} consumer
  -DPOT_CONSUME_VIA=add_subdirectory -DPOT_SOURCE_DIR=${PROJECT_SOURCE_DIR})
pot_add_consumer_test(fetchcontent ${pot_consumer_dir} consumer
  -DPOT_CONSUME_VIA=fetchcontent -DPOT_SOURCE_URL=file://${pot_package_archive})
pot_add_consumer_test(conan_test_package ${PROJECT_SOURCE_DIR}/test_package test_package
  -DCMAKE_PREFIX_PATH=${pot_package_prefix})

# The vcpkg port's usage file tells users which CMake lines to write; build a project
# made of exactly those lines (the indented CMake commands), so the text cannot drift
# from what the package provides.
set(pot_vcpkg_usage ${PROJECT_SOURCE_DIR}/ports/pot/usage)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${pot_vcpkg_usage})
file(STRINGS ${pot_vcpkg_usage} pot_vcpkg_usage_code REGEX "^  [A-Za-z_]+\\(")
list(LENGTH pot_vcpkg_usage_code pot_vcpkg_usage_lines)
if(pot_vcpkg_usage_lines LESS 2)
  message(FATAL_ERROR "pot: ports/pot/usage shows no find_package/target_link_libraries lines")
endif()
list(JOIN pot_vcpkg_usage_code "\n" pot_vcpkg_usage_code)
set(pot_vcpkg_usage_project ${pot_package_dir}/vcpkg_usage_source)
file(WRITE ${pot_vcpkg_usage_project}/CMakeLists.txt
  "cmake_minimum_required(VERSION 3.21)\n"
  "project(vcpkg_usage LANGUAGES CXX)\n"
  "add_executable(main ${pot_consumer_dir}/main.cpp)\n"
  "${pot_vcpkg_usage_code}\n")
pot_add_consumer_test(vcpkg_usage ${pot_vcpkg_usage_project} main
  -DCMAKE_PREFIX_PATH=${pot_package_prefix})

find_program(POT_PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(POT_PKG_CONFIG_EXECUTABLE)
  add_test(NAME package.pkg_config
    COMMAND ${CMAKE_COMMAND}
      -DPKG_CONFIG=${POT_PKG_CONFIG_EXECUTABLE}
      -DPKG_CONFIG_PATH=${pot_package_prefix}/${POT_INSTALL_PKGCONFIGDIR}
      -DCXX=${CMAKE_CXX_COMPILER}
      -DSOURCE=${pot_consumer_dir}/main.cpp
      -DEXECUTABLE=${pot_consumers_dir}/pkg_config/consumer
      -P ${CMAKE_CURRENT_LIST_DIR}/pkg_config_consumer.cmake)
  set_tests_properties(package.pkg_config PROPERTIES
    LABELS package FIXTURES_REQUIRED pot_package)
endif()

add_test(NAME package.metadata
  COMMAND ${CMAKE_COMMAND}
    -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DPREFIX=${pot_package_prefix}
    -DVERSION=${PROJECT_VERSION}
    -DCMAKE_DIR=${POT_INSTALL_CMAKEDIR}
    -DPKGCONFIG_DIR=${POT_INSTALL_PKGCONFIGDIR}
    -P ${CMAKE_CURRENT_LIST_DIR}/check_package_metadata.cmake)
set_tests_properties(package.metadata PROPERTIES
  LABELS package FIXTURES_REQUIRED pot_package)

