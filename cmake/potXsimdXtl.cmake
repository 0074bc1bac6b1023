# Debian 12's xsimd 8.1 package lists `xtl` in the INTERFACE_LINK_LIBRARIES of its
# `xsimd` target, but neither finds xtl nor depends on it (Debian 12 has no xtl
# package). Without an `xtl` target the bare name turns into `-lxtl` and every program
# linking xsimd fails to link. xtl is header-only and xsimd includes it only when
# XSIMD_ENABLE_XTL_COMPLEX is defined, which pot never does; so use an installed xtl
# where there is one, and otherwise stand in an empty target for it. xsimd 13 and later
# need no xtl: their config links it only when xtl complex support is asked for, and
# then finds it itself, so this file does nothing for them.
# Included after xsimd is found, by pot's CMakeLists.txt and by potConfig.cmake.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(pot_xsimd_link_libraries xsimd INTERFACE_LINK_LIBRARIES)
  if("xtl" IN_LIST pot_xsimd_link_libraries)
    find_package(xtl CONFIG QUIET)
    if(NOT TARGET xtl)
      add_library(xtl INTERFACE IMPORTED)
    endif()
  endif()
  unset(pot_xsimd_link_libraries)
endif()
