# Checks that the package descriptions agree with the installed tree:
# - the vcpkg manifests and the installed pot.pc carry CMake's project version;
# - the vcpkg portfile fixes up the config directory our install really uses;
# - the exported targets carry none of the project's own build flags.
#   cmake -DSOURCE_DIR=<repo> -DPREFIX=<installed prefix> -DVERSION=<project version>
#         -DCMAKE_DIR=<config dir> -DPKGCONFIG_DIR=<pot.pc dir, both relative to PREFIX> -P check_package_metadata.cmake
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
