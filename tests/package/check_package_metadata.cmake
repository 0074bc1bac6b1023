# Checks that the package descriptions agree with the installed tree:
# - the vcpkg manifests and the installed pot.pc carry CMake's project version;
# - the vcpkg portfile fixes up the config directory our install really uses;
# - the version file accepts the same major version on any architecture (the package is
#   header-only) and refuses another major version;
# - the exported targets carry none of the project's own build flags.
#   cmake -DSOURCE_DIR=<repo> -DPREFIX=<installed prefix> -DVERSION=<project version>
#         -DCMAKE_DIR=<config dir> -DPKGCONFIG_DIR=<pot.pc dir, both relative to PREFIX> -P check_package_metadata.cmake
# Current policies: under the old ones, return() in the version file included from a
# function below would not end that file.
cmake_minimum_required(VERSION 3.21)

set(problems "")

foreach(manifest IN ITEMS vcpkg.json ports/pot/vcpkg.json)
  file(READ ${SOURCE_DIR}/${manifest} json)
  string(JSON manifest_version ERROR_VARIABLE json_error GET "${json}" version)
  if(json_error)
    string(APPEND problems "${manifest}: no \"version\" field (${json_error})\n")
  elseif(NOT manifest_version STREQUAL VERSION)
    string(APPEND problems "${manifest}: version ${manifest_version}, CMake says ${VERSION}\n")
  endif()
endforeach()

set(pot_pc ${PREFIX}/${PKGCONFIG_DIR}/pot.pc)
if(NOT EXISTS ${pot_pc})
  string(APPEND problems "pot.pc is not installed in ${PREFIX}/${PKGCONFIG_DIR}\n")
else()
  file(STRINGS ${pot_pc} pc_version REGEX "^Version:")
  if(NOT pc_version STREQUAL "Version: ${VERSION}")
    string(APPEND problems "pot.pc: '${pc_version}', CMake says ${VERSION}\n")
  endif()
endif()

file(READ ${SOURCE_DIR}/ports/pot/portfile.cmake portfile)
if(NOT portfile MATCHES "CONFIG_PATH[ \t\n]+\"?([^\" \t\n)]+)")
  string(APPEND problems "portfile.cmake: no vcpkg_cmake_config_fixup(CONFIG_PATH ...)\n")
elseif(NOT CMAKE_MATCH_1 STREQUAL CMAKE_DIR)
  string(APPEND problems
    "portfile.cmake: CONFIG_PATH ${CMAKE_MATCH_1}, but the config is installed in ${CMAKE_DIR}\n")
endif()
foreach(file IN ITEMS potConfig.cmake potConfigVersion.cmake potTargets.cmake)
  if(NOT EXISTS ${PREFIX}/${CMAKE_DIR}/${file})
    string(APPEND problems "${file} is not installed in ${PREFIX}/${CMAKE_DIR}\n")
  endif()
endforeach()

# Asks the installed version file what find_package(pot <requested>) would, from a
# project whose pointers have `pointer_size` bytes.
function(pot_version_answer requested pointer_size out_variable)
  set(PACKAGE_FIND_VERSION ${requested})
  string(REPLACE "." ";" parts ${requested})
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  set(CMAKE_SIZEOF_VOID_P ${pointer_size})
  include(${PREFIX}/${CMAKE_DIR}/potConfigVersion.cmake)
  if(PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_VERSION_UNSUITABLE)
    set(${out_variable} accepted PARENT_SCOPE)
  else()
    set(${out_variable} refused PARENT_SCOPE)
  endif()
endfunction()
string(REGEX MATCH "^[0-9]+" major ${VERSION})
math(EXPR next_major "${major} + 1")
foreach(request IN ITEMS "${major}.0;4;accepted" "${major}.0;8;accepted" "${next_major}.0;8;refused")
  list(GET request 0 requested)
  list(GET request 1 pointer_size)
  list(GET request 2 expected)
  pot_version_answer(${requested} ${pointer_size} answer)
  if(NOT answer STREQUAL expected)
    string(APPEND problems "potConfigVersion.cmake: find_package(pot ${requested}) with "
      "${pointer_size}-byte pointers is ${answer}, expected ${expected}\n")
  endif()
endforeach()

file(READ ${PREFIX}/${CMAKE_DIR}/potTargets.cmake targets)
foreach(own_flag IN ITEMS pot_project_options -Wall -Werror -march -fsanitize)
  string(FIND "${targets}" "${own_flag}" position)
  if(NOT position EQUAL -1)
    string(APPEND problems "potTargets.cmake passes ${own_flag} on to consumers\n")
  endif()
endforeach()

if(problems)
  message(FATAL_ERROR "pot: package metadata problems:\n${problems}")
endif()
