"""Conan 2 recipe for pot, a header-only C++20 library (conan-center-index layout).

    conan create . --build=missing        # packages the checkout, runs test_package/

The version is read from CMakeLists.txt's project(VERSION), so the CMake package, the
vcpkg port and this recipe name the same version.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout
from conan.tools.scm import Version

required_conan_version = ">=2.0"


class PotConan(ConanFile):
    name = "pot"
    description = "Header-only C++20 power-of-two arithmetic for neural networks"
    license = "MIT"
    homepage = "https://github.com/pot-project/pot"
    url = "https://github.com/pot-project/pot"
    topics = ("quantization", "power-of-two", "neural-networks", "simd", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    # The recipe lives in the repository it packages: export the headers and licence
    # (all that package() copies) instead of downloading a release in source().
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    @property
    def _min_cppstd(self):
        return 20

    @property
    def _compilers_minimum_version(self):
        # The compilers the project is built and tested with.
        return {"gcc": "12", "clang": "14"}

    def set_version(self):
        if self.version:
            return
        cmakelists = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        match = re.search(r"project\(\s*pot\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)", cmakelists)
        if not match:
            raise ConanException("pot: no project(pot VERSION x.y.z) in CMakeLists.txt")
        self.version = match.group(1)

    def layout(self):
        basic_layout(self)

    def requirements(self):
        # The simd/ and linalg/ headers include xsimd: consumers need its headers too.
        # The code is written against xsimd 8.1's API (Debian 12's).
        self.requires("xsimd/8.1.0", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.compiler.get_safe("cppstd"):
            check_min_cppstd(self, self._min_cppstd)
        minimum_version = self._compilers_minimum_version.get(str(self.settings.compiler))
        if minimum_version and Version(self.settings.compiler.version) < minimum_version:
            raise ConanInvalidConfiguration(
                f"pot: {self.ref} needs C++{self._min_cppstd}, which "
                f"{self.settings.compiler} {self.settings.compiler.version} does not support "
                f"(at least {minimum_version} is needed)")

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "pot")
        self.cpp_info.set_property("cmake_target_name", "pot::pot")
        self.cpp_info.set_property("pkg_config_name", "pot")
        if self.settings.os in ["Linux", "FreeBSD"]:
            # linalg's parallel_for runs std::thread.
            self.cpp_info.system_libs.append("pthread")
