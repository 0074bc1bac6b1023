# vcpkg overlay port for pot, built from the checkout this port sits in:
#   vcpkg install pot --overlay-ports=<repo>/ports
# The sources are the repository two levels up, so the port always packages the code
# beside it and needs no download hash. A port for a registry would instead fetch a
# release:
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO pot-project/pot
#                     REF "v${VERSION}" SHA512 <sha512 of that archive>)
# vcpkg.json takes vcpkg's own xsimd port (14.3.0 when this was checked; pot builds with
# xsimd 8.1 and 13 to 14) and "supports" leaves out MSVC (no unsigned __int128, no GCC
# builtins) and macOS (apple-clang's libc++ has std::jthread only as experimental), as
# conanfile.py's validate() does.
set(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../..")

# Header-only: one (release) configuration is all there is to install.
set(VCPKG_BUILD_TYPE release)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DPOT_BUILD_TESTS=OFF
    -DPOT_BUILD_BENCHMARKS=OFF
    -DPOT_BUILD_EXAMPLES=OFF
    -DPOT_BUILD_DOCS=OFF
)
vcpkg_cmake_install()
# pot installs its CMake package in share/cmake/pot (architecture independent); vcpkg
# expects share/pot.
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/pot)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/lib")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
