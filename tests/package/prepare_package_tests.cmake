# Fixture of the package tests: installs the build tree into PREFIX, packs the files
# a source consumer needs (those conanfile.py exports, plus CMake's) into ARCHIVE for
# FetchContent, and empties CONSUMERS_DIR, where the consumer projects are built.
# Starting from nothing each time keeps stale results out: a header deleted from the
# source must not linger in the prefix, and FetchContent must not reuse an old archive.
#   cmake -DBUILD_DIR=<build tree> -DSOURCE_DIR=<repo> -DPREFIX=<dir> -DARCHIVE=<file>
#         -DCONSUMERS_DIR=<dir> -P prepare_package_tests.cmake
file(REMOVE_RECURSE ${PREFIX} ${CONSUMERS_DIR} ${ARCHIVE})

execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
  RESULT_VARIABLE install_result)
if(NOT install_result EQUAL 0)
  message(FATAL_ERROR "pot: cmake --install into ${PREFIX} failed (${install_result})")
endif()

execute_process(
  COMMAND ${CMAKE_COMMAND} -E tar czf ${ARCHIVE} -- CMakeLists.txt LICENSE cmake include
  WORKING_DIRECTORY ${SOURCE_DIR}
  RESULT_VARIABLE archive_result)
if(NOT archive_result EQUAL 0)
  message(FATAL_ERROR "pot: packing the sources into ${ARCHIVE} failed (${archive_result})")
endif()
