# Builds and runs a program with nothing but the flags `pkg-config --cflags --libs pot`
# prints, as a Makefile user would, and fails if any step fails.
#   cmake -DPKG_CONFIG=<exe> -DPKG_CONFIG_PATH=<dir of pot.pc> -DCXX=<compiler>
#         -DSOURCE=<main.cpp> -DEXECUTABLE=<output> -P pkg_config_consumer.cmake
set(ENV{PKG_CONFIG_PATH} ${PKG_CONFIG_PATH})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs pot
  OUTPUT_VARIABLE flags
  OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE pkg_config_result)
if(NOT pkg_config_result EQUAL 0)
  message(FATAL_ERROR "pot: pkg-config does not find pot in ${PKG_CONFIG_PATH}")
endif()
message(STATUS "pkg-config --cflags --libs pot: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")

get_filename_component(output_dir ${EXECUTABLE} DIRECTORY)
file(MAKE_DIRECTORY ${output_dir})
# pot.pc leaves the language standard to the user (see cmake/pot.pc.in).
execute_process(COMMAND ${CXX} -std=c++20 ${SOURCE} ${flags} -o ${EXECUTABLE}
  RESULT_VARIABLE compile_result)
if(NOT compile_result EQUAL 0)
  message(FATAL_ERROR "pot: compiling with pkg-config's flags failed")
endif()

execute_process(COMMAND ${EXECUTABLE} RESULT_VARIABLE run_result)
if(NOT run_result EQUAL 0)
  message(FATAL_ERROR "pot: the pkg-config consumer exited with ${run_result}")
endif()
