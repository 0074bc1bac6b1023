#include "file_error.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

TEST_CASE("a file's problem reads \"pot: FILE: problem\", with one \"pot: \" however deep it came from") {
  CHECK(gpt2::file_error_message("m.safetensors", "missing tensor x") == "pot: m.safetensors: missing tensor x");
  CHECK(gpt2::file_error_message("m.safetensors", "pot: tensor 'x' has integer dtype I32") ==
        "pot: m.safetensors: tensor 'x' has integer dtype I32");
  CHECK_THROWS_WITH_AS(gpt2::throw_file_error("dir/a b.json", "pot: bad"), "pot: dir/a b.json: bad",
                       std::runtime_error);
}
