"""Conan 2 recipe for pot, a header-only C++20 library (conan-center-index layout).

    conan create . --build=missing -s compiler.cppstd=20    # packages the checkout, runs test_package/

The version is read from CMakeLists.txt's project(VERSION), so the CMake package, the
vcpkg port and this recipe name the same version. docs/packaging.md says how the recipe
was checked with the real client.
"""
import os
import re
import textwrap

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load, save
from conan.tools.layout import basic_layout
from conan.tools.microsoft import is_msvc
from conan.tools.scm import Version

required_conan_version = ">=2.1"


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
        # The compilers the project is built and tested with. Any other compiler is
        # refused: MSVC has neither `unsigned __int128` nor the GCC builtins the headers
        # use, and the libc++ of apple-clang 16 and older (like LLVM's before 20) has
        # std::jthread only behind -fexperimental-library. Untested elsewhere.
        return {"gcc": "12", "clang": "14"}

    @property
    def _build_module(self):
        return os.path.join("lib", "cmake", "conan-pot-cxx-std.cmake")

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
        # The simd/, linalg/ and nn/ headers include xsimd, so consumers need its headers
        # too. pot builds with xsimd 8.1 and 13 to 14 (pot/simd/xsimd_compat.hpp);
        # ConanCenter serves 13.0.0 and later.
        self.requires("xsimd/[>=13.0.0 <15]", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, self._min_cppstd)
        compiler = str(self.settings.compiler)
        if is_msvc(self):
            raise ConanInvalidConfiguration(
                f"{self.ref} uses unsigned __int128 and GCC builtins, which MSVC does not have")
        minimum_version = self._compilers_minimum_version.get(compiler)
        if minimum_version is None:
            raise ConanInvalidConfiguration(
                f"{self.ref} is built and tested with gcc >= 12 and clang >= 14 only, not {compiler} "
                "(the libc++ of apple-clang 16 and older has std::jthread only behind "
                "-fexperimental-library)")
        if Version(self.settings.compiler.version) < minimum_version:
            raise ConanInvalidConfiguration(
                f"{self.ref} needs {compiler} >= {minimum_version} (for the C++{self._min_cppstd} "
                f"it uses), not {compiler} {self.settings.compiler.version}")
        if compiler == "clang" and self.settings.compiler.get_safe("libcxx") == "libc++" \
                and Version(self.settings.compiler.version) < "20":
            raise ConanInvalidConfiguration(
                f"{self.ref} uses std::jthread, which libc++ before 20 has only behind "
                "-fexperimental-library; use libstdc++ or clang >= 20")

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))
        # CMakeDeps has no property for compile features: this build module gives its
        # pot::pot target the requirement that pot's own CMake package has, so a consumer
        # whose profile or project does not set C++20 still compiles pot's headers as
        # C++20 (a higher standard set by the consumer wins).
        save(self, os.path.join(self.package_folder, self._build_module), textwrap.dedent("""\
            if(TARGET pot::pot)
              target_compile_features(pot::pot INTERFACE cxx_std_20)
            endif()
            """))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "pot")
        self.cpp_info.set_property("cmake_target_name", "pot::pot")
        self.cpp_info.set_property("pkg_config_name", "pot")
        self.cpp_info.set_property("cmake_build_modules", [self._build_module])
        if self.settings.os in ["Linux", "FreeBSD"]:
            # linalg's parallel_for runs std::jthread.
            self.cpp_info.system_libs.append("pthread")
