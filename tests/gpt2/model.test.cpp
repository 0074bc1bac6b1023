#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model.hpp"
#include "pot/nn/linear.hpp"
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

TEST_CASE("installed Linears replace the blocks' products and their gradients reach the master") {
  // A Linear that multiplies by twice the master weight must equal a model whose c_fc
  // weights are doubled, and the straight-through gradient (identity) is the gradient with
  // respect to the used weight.
  struct doubling_linear final : pot::nn::linear<double> {
    std::vector<double> doubled;
    pot::nn::float_linear<double> product;
    pot::nn::linear_parameters<double> twice(const pot::nn::linear_parameters<double>& p) {
      doubled.assign(p.weight, p.weight + p.in_features * p.out_features);
      for (double& w : doubled) w *= 2;
      return {doubled.data(), p.bias, p.in_features, p.out_features};
    }
    void forward(double* out, double* input, const pot::nn::linear_parameters<double>& p, std::size_t rows,
                 pot::linalg::execution exec) override {
      product.forward(out, input, twice(p), rows, exec);
    }
    void backward(double* dinput, const pot::nn::linear_gradients<double>& g, const double* dout, const double* input,
                  const pot::nn::linear_parameters<double>& p, std::size_t rows, pot::linalg::execution exec) override {
      product.backward(dinput, g, dout, input, twice(p), rows, exec);
    }
  };
  gpt2::gpt2_model<double> installed(tiny, batch, sequence, {1});
  randomize(installed, 3);
  gpt2::gpt2_model<double> doubled(tiny, batch, sequence, {1});
  std::vector<double> values(installed.parameters().begin(), installed.parameters().end());
  for (std::size_t layer = 0; layer < tiny.n_layer; ++layer) {
    const auto& fc = gpt2::find_parameter(installed.parameter_tensors(),
                                          "h." + std::to_string(layer) + ".mlp.c_fc.weight");
    for (std::size_t i = 0; i < fc.size; ++i) values[fc.offset + i] *= 2;
  }
  std::copy(values.begin(), values.end(), doubled.parameters().begin());

  std::vector<doubling_linear> fc(tiny.n_layer);
  std::vector<pot::nn::linear<double>*> layers(tiny.n_layer * gpt2::linear_kind_count, nullptr);
  for (std::size_t layer = 0; layer < tiny.n_layer; ++layer)
    layers[gpt2::linear_index({layer, gpt2::linear_kind::mlp_expand})] = &fc[layer];
  installed.set_linears(layers);
  const double installed_loss = installed.forward(inputs, targets, batch, sequence);
  installed.backward();
  const double doubled_loss = doubled.forward(inputs, targets, batch, sequence);
  doubled.backward();
  CHECK(installed_loss == doubled_loss);
  for (std::size_t i = 0; i < values.size(); ++i)
    CHECK(installed.gradients()[i] == doctest::Approx(doubled.gradients()[i]).epsilon(1e-12));
  // Back to the float Linears: the model's own loss again; a wrong count is refused.
  installed.set_linears({});
  CHECK(installed.forward(inputs, targets, batch, sequence) != doctest::Approx(doubled_loss));
  CHECK_THROWS_AS(installed.set_linears(std::span(layers).first(3)), std::invalid_argument);
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

namespace {

// Long enough that decoding crosses a block of attention_row_block query rows.
const gpt2::gpt2_config decoding{.n_layer = 2, .n_head = 2, .n_embd = 8, .block_size = 40, .vocab_size = 11};

template <class Scalar>
void randomize_parameters(gpt2::gpt2_model<Scalar>& model, std::uint64_t seed) {
  gpt2::normal_generator normal(seed);
  for (const auto& tensor : model.parameter_tensors()) {
    const bool layernorm_weight = tensor.name.find("ln_") != std::string::npos && tensor.name.ends_with(".weight");
    for (std::size_t i = 0; i < tensor.size; ++i)
      model.parameters()[tensor.offset + i] = static_cast<Scalar>((layernorm_weight ? 1.0 : 0.0) + 0.4 * normal());
  }
}

std::vector<std::int32_t> random_tokens(std::size_t count, std::size_t vocabulary, std::uint64_t seed) {
  gpt2::splitmix64 random(seed);
  std::vector<std::int32_t> tokens(count);
  for (std::int32_t& token : tokens) token = static_cast<std::int32_t>(random.next() % vocabulary);
  return tokens;
}

/// Rows [first, first + count) of each of B sequences of T rows of `width` values.
template <class T>
std::vector<T> sequence_rows(std::span<const T> values, std::size_t B, std::size_t T_total, std::size_t width,
                             std::size_t first, std::size_t count) {
  std::vector<T> rows;
  for (std::size_t b = 0; b < B; ++b) {
    const auto begin = values.begin() + static_cast<std::ptrdiff_t>((b * T_total + first) * width);
    rows.insert(rows.end(), begin, begin + static_cast<std::ptrdiff_t>(count * width));
  }
  return rows;
}

struct decoding_difference {
  double largest = 0;               // max |cached - full| over every logit
  std::size_t top1_mismatches = 0;  // positions whose argmax differs
};

/// forward() over the whole (B, T) batch against a prefill of `prefill` positions and then
/// steps of `step` positions through forward_cached().
template <class Scalar>
decoding_difference cached_versus_full(gpt2::gpt2_model<Scalar>& model, std::span<const std::int32_t> tokens,
                                       std::size_t B, std::size_t T, std::size_t prefill, std::size_t step) {
  const std::size_t V = model.config().vocab_size;
  model.forward(tokens, {}, B, T);
  const std::vector<Scalar> full(model.logits().begin(), model.logits().end());
  model.clear_cache();
  decoding_difference difference;
  for (std::size_t first = 0; first < T;) {
    const std::size_t count = std::min(T - first, first == 0 ? prefill : step);
    model.forward_cached(sequence_rows(tokens, B, T, 1, first, count), B, count);
    const std::vector<Scalar> expected = sequence_rows(std::span<const Scalar>(full), B, T, V, first, count);
    const std::span<const Scalar> cached = model.logits();
    REQUIRE(cached.size() == expected.size());
    for (std::size_t i = 0; i < cached.size(); ++i)
      difference.largest = std::max(difference.largest, std::abs(static_cast<double>(cached[i] - expected[i])));
    for (std::size_t row = 0; row < B * count; ++row) {
      const auto argmax = [&](auto begin) { return std::max_element(begin + row * V, begin + (row + 1) * V) - begin; };
      difference.top1_mismatches += argmax(cached.begin()) != argmax(expected.begin());
    }
    first += count;
    CHECK(model.cached_positions() == first);
  }
  return difference;
}

}  // namespace

TEST_CASE("prefill plus decode steps through the KV cache give the logits of a full forward") {
  const std::size_t B = 2, T = decoding.block_size;
  const std::vector<std::int32_t> tokens = random_tokens(B * T, decoding.vocab_size, 3);
  gpt2::gpt2_model<double> exact(decoding, B, T, {1});
  randomize_parameters(exact, 21);
  gpt2::gpt2_model<float> model(decoding, B, T, {2});
  model.load_parameters(std::vector<float>(exact.parameters().begin(), exact.parameters().end()));
  struct schedule {
    std::size_t prefill, step;
  };
  for (const schedule s : {schedule{1, 1}, schedule{3, 1}, schedule{33, 1}, schedule{17, 5}, schedule{40, 1}}) {
    CAPTURE(s.prefill);
    CAPTURE(s.step);
    // The cached attention sums the same products over a key range that ends at the
    // position rather than at the end of its query block (tests/nn/kv_cache.test.cpp):
    // differences of a few roundings, grown by the later layers, on logits of size ~1-10.
    const decoding_difference in_double = cached_versus_full(exact, tokens, B, T, s.prefill, s.step);
    CHECK(in_double.largest <= 1e-11);
    CHECK(in_double.top1_mismatches == 0);
    const decoding_difference in_float = cached_versus_full(model, tokens, B, T, s.prefill, s.step);
    CHECK(in_float.largest <= 2e-4);
    CHECK(in_float.top1_mismatches == 0);
  }
}

TEST_CASE("forward_cached refuses what its cache cannot hold, and backward after it") {
  gpt2::gpt2_model<float> model(decoding, 2, 6, {1});
  randomize_parameters(model, 4);
  const std::vector<std::int32_t> tokens = random_tokens(12, decoding.vocab_size, 5);
  model.forward_cached(std::span(tokens).first(8), 2, 4);
  const std::vector<float> first_prefill(model.logits().begin(), model.logits().end());
  CHECK(model.cached_positions() == 4);
  CHECK_THROWS_WITH_AS(model.forward_cached(std::span(tokens).first(6), 2, 3),
                       "pot: gpt2_model::forward_cached: the KV cache holds 4 positions; 3 more exceed the "
                       "model's 6",
                       std::length_error);
  CHECK(model.cached_positions() == 4);  // nothing appended
  CHECK_THROWS_WITH_AS(model.forward_cached(std::span(tokens).first(1), 1, 1),
                       doctest::Contains("got 1 sequences, the KV cache holds 2"), std::invalid_argument);
  std::vector<std::int32_t> bad = {0, 11};
  CHECK_THROWS_AS(model.forward_cached(bad, 2, 1), std::out_of_range);
  CHECK_THROWS_AS(model.backward(), std::logic_error);
  model.clear_cache();
  CHECK(model.cached_positions() == 0);
  model.forward_cached(std::span(tokens).first(8), 2, 4);  // a prefill again, from position 0
  CHECK(std::vector<float>(model.logits().begin(), model.logits().end()) == first_prefill);
  model.clear_cache();
  model.forward_cached(std::span(tokens).first(2), 1, 2);  // an empty cache takes another batch size
  CHECK(model.cached_positions() == 2);
}
