"""Conan test_package: builds a small program against the packaged pot and runs it."""
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout


class TestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "VirtualRunEnv"
    test_type = "explicit"

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        self.requires(self.tested_reference_str)

    def generate(self):
        CMakeDeps(self).generate()
        toolchain = CMakeToolchain(self)
        # Without this the toolchain sets CMAKE_CXX_STANDARD from the profile's
        # compiler.cppstd, and the program would compile as C++20 even if the package's
        # pot::pot stopped requiring it. Left to the compiler's default (C++17 for g++ 12
        # and clang 14), it builds only when pot::pot brings C++20 itself.
        toolchain.blocks.remove("cppstd")
        toolchain.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            test_program = os.path.join(self.cpp.build.bindir, "test_package")
            self.run(test_program, env="conanrun")
