# Compile-fail tests: each tests/core/compile_fail/NAME.cpp instantiates an invalid use of
# a core type and names, in a first line "// expect: REGEX", the static_assert message the
# compiler must print. The test passes only when that message appears in the output.
file(GLOB pot_compile_fail_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/compile_fail/*.cpp)
foreach(source IN LISTS pot_compile_fail_sources)
  get_filename_component(name ${source} NAME_WE)
  file(STRINGS ${source} expect_line REGEX "^// expect: " LIMIT_COUNT 1)
  if(NOT expect_line)
    message(FATAL_ERROR "${source} lacks a '// expect: REGEX' first line")
  endif()
  string(REGEX REPLACE "^// expect: " "" expected_message "${expect_line}")
  add_test(NAME core.compile_fail.${name}
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only
            -I${PROJECT_SOURCE_DIR}/include ${source})
  set_tests_properties(core.compile_fail.${name} PROPERTIES
    PASS_REGULAR_EXPRESSION "${expected_message}")
endforeach()
