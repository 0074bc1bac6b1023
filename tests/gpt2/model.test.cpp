#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "model.hpp"
#include "random.hpp"
#include "tiny_model.hpp"

namespace {

const gpt2::gpt2_config& tiny = tiny_model::config;
using tiny_model::batch;
using tiny_model::inputs;
using tiny_model::sequence;
using tiny_model::targets;

// Parameters far from GPT-2's small init, so every nonlinearity (GELU's curve, LayerNorm's
// normalisation, a softmax that is not uniform) shapes the gradient being checked.
void randomize(gpt2::gpt2_model<double>& model, std::uint64_t seed) {
  gpt2::normal_generator normal(seed);
  for (const auto& tensor : model.parameter_tensors()) {
    const bool layernorm_weight = tensor.name.find("ln_") != std::string::npos &&
                                  tensor.name.ends_with(".weight");
    for (std::size_t i = 0; i < tensor.size; ++i)
      model.parameters()[tensor.offset + i] = (layernorm_weight ? 1.0 : 0.0) + 0.4 * normal();
  }
}

}  // namespace

TEST_CASE("the whole backward pass agrees with central finite differences (double)") {
  gpt2::gpt2_model<double> model(tiny, batch, sequence, {1});
  randomize(model, 42);
  model.forward(inputs, targets, batch, sequence);
  model.backward();
  const std::vector<double> analytic(model.gradients().begin(), model.gradients().end());

  // h = 1e-5: the truncation error (h^2 * f''' ~ 1e-10) and the rounding error
  // (1e-16 / h ~ 1e-11) are both far below the tolerance.
  constexpr double h = 1e-5;
  std::size_t checked = 0;
  double largest_error = 0.0;
  for (std::size_t i = 0; i < model.parameters().size(); ++i) {
    const double saved = model.parameters()[i];
    model.parameters()[i] = saved + h;
    const double above = model.forward(inputs, targets, batch, sequence);
    model.parameters()[i] = saved - h;
    const double below = model.forward(inputs, targets, batch, sequence);
    model.parameters()[i] = saved;
    const double numeric = (above - below) / (2 * h);
    const double error = std::abs(numeric - analytic[i]) / std::max(1.0, std::abs(numeric));
    largest_error = std::max(largest_error, error);
    if (error > 1e-7) {
      FAIL_CHECK("parameter " << i << ": backward " << analytic[i] << ", finite difference "
                              << numeric);
    }
    ++checked;
  }
  CHECK(checked == gpt2::gpt2_parameter_count(tiny));
  MESSAGE("largest relative error " << largest_error << " over " << checked << " parameters");
  // wpe rows beyond T get no gradient; every row the batch used does.
  double gradient_norm = 0.0;
  for (const double g : analytic) gradient_norm += g * g;
  CHECK(gradient_norm > 1e-6);
}

TEST_CASE("the float model computes the double model's loss and gradient to float precision") {
  gpt2::gpt2_model<double> reference(tiny, batch, sequence, {1});
  randomize(reference, 7);
  gpt2::gpt2_model<float> model(tiny, batch, sequence, {2});
  std::vector<float> as_float(reference.parameters().begin(), reference.parameters().end());
  model.load_parameters(as_float);
  for (std::size_t i = 0; i < as_float.size(); ++i) reference.parameters()[i] = as_float[i];

  const double expected_loss = reference.forward(inputs, targets, batch, sequence);
  reference.backward();
  const float loss = model.forward(inputs, targets, batch, sequence);
  model.backward();
  CHECK(loss == doctest::Approx(expected_loss).epsilon(1e-5));
  for (std::size_t i = 0; i < as_float.size(); ++i)
    CHECK(model.gradients()[i] == doctest::Approx(reference.gradients()[i]).epsilon(1e-3).scale(1e-4));
}

TEST_CASE("a hook's weight replaces the master weight and its gradient reaches the master") {
  // Doubling every c_fc weight through the hook must equal a model whose c_fc weights
  // are doubled, and the straight-through gradient (identity) is the gradient with
  // respect to the used weight.
  struct doubling_hook final : gpt2::linear_hooks<double> {
    std::vector<std::vector<double>> copies;
    const double* weight(gpt2::linear_id id, const double* master, std::size_t OC,
                         std::size_t C) override {
      if (id.kind != gpt2::linear_kind::mlp_expand) return master;
      auto& copy = copies.emplace_back(master, master + OC * C);
      for (double& w : copy) w *= 2;
      return copy.data();
    }
  };
  gpt2::gpt2_model<double> hooked(tiny, batch, sequence, {1});
  randomize(hooked, 3);
  gpt2::gpt2_model<double> doubled(tiny, batch, sequence, {1});
  std::vector<double> values(hooked.parameters().begin(), hooked.parameters().end());
  for (std::size_t layer = 0; layer < tiny.n_layer; ++layer) {
    const auto& fc = gpt2::find_parameter(hooked.parameter_tensors(),
                                          "h." + std::to_string(layer) + ".mlp.c_fc.weight");
    for (std::size_t i = 0; i < fc.size; ++i) values[fc.offset + i] *= 2;
  }
  std::copy(values.begin(), values.end(), doubled.parameters().begin());

  doubling_hook hook;
  hook.copies.reserve(tiny.n_layer);
  hooked.set_linear_hooks(&hook);
  const double hooked_loss = hooked.forward(inputs, targets, batch, sequence);
  hooked.backward();
  const double doubled_loss = doubled.forward(inputs, targets, batch, sequence);
  doubled.backward();
  CHECK(hooked_loss == doubled_loss);
  for (std::size_t i = 0; i < values.size(); ++i)
    CHECK(hooked.gradients()[i] == doctest::Approx(doubled.gradients()[i]).epsilon(1e-12));
}

TEST_CASE("forward rejects batches the arena cannot hold and tokens outside the vocabulary") {
  gpt2::gpt2_model<float> model(tiny, batch, sequence, {1});
  model.initialize(1);
  CHECK_THROWS_WITH_AS(model.forward(inputs, targets, batch + 1, sequence),
                       doctest::Contains("holds up to (2, 5)"), std::invalid_argument);
  std::vector<std::int32_t> bad = inputs;
  bad[4] = 11;
  CHECK_THROWS_AS(model.forward(bad, targets, batch, sequence), std::out_of_range);
  CHECK_THROWS_AS(model.backward(), std::logic_error);
  CHECK_THROWS_AS(gpt2::gpt2_model<float>(tiny, 1, 6), std::invalid_argument);
}

TEST_CASE("initialize follows model.py: N(0, 0.02), c_proj N(0, 0.02/sqrt(2 n_layer)), LN 1, biases 0") {
  const gpt2::gpt2_config medium{.n_layer = 2, .n_head = 4, .n_embd = 64, .block_size = 16, .vocab_size = 50};
  gpt2::gpt2_model<float> model(medium, 1, 1, {1});
  model.initialize(1337);
  auto stddev = [&](const std::string& name) {
    const auto& t = gpt2::find_parameter(model.parameter_tensors(), name);
    double sum = 0, squares = 0;
    for (std::size_t i = 0; i < t.size; ++i) {
      sum += model.parameters()[t.offset + i];
      squares += double(model.parameters()[t.offset + i]) * model.parameters()[t.offset + i];
    }
    const double mean = sum / double(t.size);
    return std::sqrt(squares / double(t.size) - mean * mean);
  };
  // 16k samples: the sample std is within 2% of the true one with overwhelming odds.
  CHECK(stddev("h.0.mlp.c_fc.weight") == doctest::Approx(0.02).epsilon(0.03));
  CHECK(stddev("h.1.mlp.c_proj.weight") == doctest::Approx(0.01).epsilon(0.03));
  CHECK(stddev("h.0.attn.c_proj.weight") == doctest::Approx(0.01).epsilon(0.05));
  const auto& ln = gpt2::find_parameter(model.parameter_tensors(), "h.1.ln_2.weight");
  const auto& bias = gpt2::find_parameter(model.parameter_tensors(), "h.1.mlp.c_fc.bias");
  for (std::size_t i = 0; i < ln.size; ++i) CHECK(model.parameters()[ln.offset + i] == 1.0f);
  for (std::size_t i = 0; i < bias.size; ++i) CHECK(model.parameters()[bias.offset + i] == 0.0f);

  gpt2::gpt2_model<float> again(medium, 1, 1, {1});
  again.initialize(1337);
  CHECK(std::equal(model.parameters().begin(), model.parameters().end(), again.parameters().begin()));
}
