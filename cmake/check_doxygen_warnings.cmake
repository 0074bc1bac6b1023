# Runs Doxygen and fails when it wrote any warning (an undocumented public entity, a
# broken reference, ...). Doxygen itself exits 0 on warnings, so the test reads its
# WARN_LOGFILE instead. Usage:
#   cmake -DDOXYGEN=<exe> -DDOXYFILE=<Doxyfile> -DWARNINGS_FILE=<its WARN_LOGFILE>
#         -P check_doxygen_warnings.cmake
foreach(variable IN ITEMS DOXYGEN DOXYFILE WARNINGS_FILE)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "pot: check_doxygen_warnings.cmake needs -D${variable}=...")
  endif()
endforeach()

file(REMOVE ${WARNINGS_FILE})
execute_process(COMMAND ${DOXYGEN} ${DOXYFILE}
  RESULT_VARIABLE doxygen_result
  OUTPUT_QUIET)
if(NOT doxygen_result EQUAL 0)
  message(FATAL_ERROR "pot: doxygen failed (${doxygen_result})")
endif()

file(READ ${WARNINGS_FILE} warnings)
if(NOT warnings STREQUAL "")
  message(FATAL_ERROR "pot: the API reference has Doxygen warnings:\n${warnings}")
endif()
message(STATUS "pot: the API reference built without warnings")
