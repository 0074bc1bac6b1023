// Fuzz target: load_training_checkpoint (train_state.safetensors, what --resume reads). A
// file either loads into a state a trainer accepts (valid options, buffers of the
// config's size, a loss curve in step order up to the state's step), or fails with one
// std::runtime_error "pot: FILE: problem".

#include "fuzz_input.hpp"
#include "trainer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pot_fuzz::scratch_file input("state-input");
  const auto loaded = pot_fuzz::load_input(input, data, size, gpt2::load_training_checkpoint);
  if (!loaded) return 0;
  const gpt2::training_checkpoint& checkpoint = *loaded;
  checkpoint.options.validate();  // throws (a finding) if the loader let a bad option through
  const std::size_t count = gpt2::gpt2_parameter_count(checkpoint.config);
  const gpt2::optimizer_state& state = checkpoint.state;
  if (checkpoint.parameters.size() != count || state.first_moment.size() != count ||
      state.second_moment.size() != count)
    pot_fuzz::fail("a buffer does not hold the config's parameters");
  if (state.step > checkpoint.options.steps) pot_fuzz::fail("the state is past the run's steps");
  for (std::size_t i = 0; i < state.curve.size(); ++i)
    if (state.curve[i].step > state.step || (i > 0 && state.curve[i].step < state.curve[i - 1].step))
      pot_fuzz::fail("the loss curve is out of step order");
  return 0;
}
