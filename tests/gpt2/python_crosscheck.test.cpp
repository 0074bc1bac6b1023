#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>

#include "gpt2_checkpoint.hpp"
#include "temporary_directory.hpp"

namespace {

const gpt2::gpt2_config tiny{.n_layer = 2, .n_head = 2, .n_embd = 4, .block_size = 3, .vocab_size = 5};
constexpr int skipped = 77;  // the script's exit code without numpy
constexpr int no_interpreter = 127;  // the shell's exit code for a missing program

std::vector<float> numbered(std::size_t count) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i) + 0.5f;
  return values;
}

}  // namespace

TEST_CASE("Python reads our checkpoints with Hugging Face's names, and we read the files it writes") {
  const gpt2_test::temporary_directory dir;
  const auto parameters = numbered(gpt2::gpt2_parameter_count(tiny));
  gpt2::save_gpt2_checkpoint(dir / "ours.safetensors", tiny, parameters);

  const std::string command = "/usr/bin/python3 '" + std::string(POT_GPT2_TEST_DIR) +
                              "/safetensors_crosscheck.py' '" + (dir / "ours.safetensors").string() +
                              "' '" + (dir / "theirs.safetensors").string() + "'";
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  const int exit_code = WEXITSTATUS(status);
  if (exit_code == skipped || exit_code == no_interpreter) {
    MESSAGE("skipped: /usr/bin/python3 with numpy is not available");
    return;
  }
  REQUIRE(exit_code == 0);
  const auto loaded = gpt2::load_gpt2_checkpoint(dir / "theirs.safetensors", 2);
  CHECK(loaded.config == tiny);
  CHECK(loaded.parameters == parameters);
}
