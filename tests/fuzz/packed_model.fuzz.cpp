// Fuzz target: load_packed_model (PoT-quantized models). A file either loads into a model
// whose sizes agree with its config and that saves and loads back unchanged, or fails
// with one std::runtime_error "pot: FILE: problem".

#include <algorithm>
#include <cstring>

#include "fuzz_input.hpp"
#include "packed_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pot_fuzz::scratch_file input("packed-input");
  static const pot_fuzz::scratch_file copy("packed-copy");
  const auto loaded = pot_fuzz::load_input(input, data, size, gpt2::load_packed_model);
  if (!loaded) return 0;
  const gpt2::packed_model& model = *loaded;
  const std::size_t linears = model.config.n_layer * gpt2::linear_kind_count;
  if (model.parameters.size() != gpt2::gpt2_parameter_count(model.config) || model.linears.size() != linears ||
      model.activations.size() != linears)
    pot_fuzz::fail("the model's sizes disagree with its config");
  gpt2::save_packed_model(copy.path(), model);
  const gpt2::packed_model again = gpt2::load_packed_model(copy.path());
  if (!(again.config == model.config) || again.metadata != model.metadata ||
      std::memcmp(again.parameters.data(), model.parameters.data(), model.parameters.size() * sizeof(float)) != 0)
    pot_fuzz::fail("the saved copy loads back differently");
  for (std::size_t i = 0; i < linears; ++i)
    if (again.linears[i]->packed_codes() != model.linears[i]->packed_codes() ||
        !std::ranges::equal(again.linears[i]->scales(), model.linears[i]->scales()) ||
        again.activations[i].zero_point != model.activations[i].zero_point)
      pot_fuzz::fail("a Linear of the saved copy loads back differently");
  return 0;
}
