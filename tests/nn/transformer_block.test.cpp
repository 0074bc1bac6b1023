#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "layer_check.hpp"
#include "random_floats.hpp"
#include "pot/linalg/thread_pool.hpp"
#include "pot/nn/kv_cache.hpp"
#include "pot/nn/linear.hpp"
#include "pot/nn/transformer_block.hpp"

namespace {

struct block_case {
  pot::nn::block_shape shape;

  std::vector<std::size_t> input_sizes() const {  // inp (B, T, C), all parameters
    return {shape.B * shape.T * shape.C, pot::nn::block_parameter_count(shape.C)};
  }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    pot::nn::transformer_block<S> block(shape);
    std::vector<S> out(in[0].size());
    block.forward(out.data(), in[0].data(), shape.B, shape.T, pot::nn::block_tensors_in(in[1].data(), shape.C));
    return out;
  }
  // The block's backward turns the output gradient into the input's in place; the
  // checker wants it added to grads[0].
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::transformer_block<S> block(shape);
    typename pot::nn::transformer_block<S>::scratch work(shape);
    std::vector<S> out(in[0].size());
    const auto params = pot::nn::block_tensors_in(in[1].data(), shape.C);
    block.forward(out.data(), in[0].data(), shape.B, shape.T, params);
    // Linear weight gradients start at zero (nn/linear.hpp): added to grads[1] after.
    std::vector<S> parameter_gradients(grads[1].size(), S(0));
    std::vector<S> dresidual = dout;
    block.backward(dresidual.data(), pot::nn::block_tensors_in(parameter_gradients.data(), shape.C), in[0].data(),
                   params, work);
    for (std::size_t i = 0; i < dresidual.size(); ++i) grads[0][i] += dresidual[i];
    for (std::size_t i = 0; i < parameter_gradients.size(); ++i) grads[1][i] += parameter_gradients[i];
  }
};

}  // namespace

TEST_CASE("transformer block backward matches autodiff, finite differences and float") {
  SUBCASE("B=1 T=1 C=6 NH=1") { layer_check::check_layer(block_case{{1, 1, 6, 1}}, 1, 1e-4); }
  SUBCASE("B=2 T=3 C=12 NH=3") { layer_check::check_layer(block_case{{2, 3, 12, 3}}, 2, 1e-4); }
  SUBCASE("B=1 T=17 C=6 NH=1") { layer_check::check_layer(block_case{{1, 17, 6, 1}}, 3, 1e-4); }
}

TEST_CASE("transformer block parameters are laid out back to back in GPT-2's order") {
  const std::size_t C = 4;
  std::vector<float> buffer(pot::nn::block_parameter_count(C));
  const auto t = pot::nn::block_tensors_in(buffer.data(), C);
  const float* base = buffer.data();
  CHECK(t.ln1_weight - base == 0);
  CHECK(t.qkv_weight - base == 2 * 4);
  CHECK(t.attn_proj_weight - base == 2 * 4 + 3 * 16 + 3 * 4);
  CHECK(t.fc_weight - base == 2 * 4 + 3 * 16 + 3 * 4 + 16 + 4 + 2 * 4);
  CHECK(t.fc_proj_bias + C - base == static_cast<std::ptrdiff_t>(buffer.size()));
  CHECK(pot::nn::block_parameter_count(768) == 7087872);  // GPT-2 small: 85M / 12 layers
}

TEST_CASE("transformer block rejects a head count that does not divide the channels") {
  CHECK_THROWS_AS(pot::nn::transformer_block<float>(pot::nn::block_shape{1, 2, 6, 4}),
                  std::invalid_argument);
}

namespace {

// A block's parameters (LayerNorm weights near 1, everything else small, as a trained
// block) and an input of (B, T, C).
struct block_setup {
  pot::nn::block_shape shape;
  std::vector<float> params, inp;

  block_setup(pot::nn::block_shape s, unsigned seed)
      : shape(s),
        params(pot::test::normal_floats(pot::nn::block_parameter_count(s.C), 0.2f, seed)),
        inp(pot::test::normal_floats(s.B * s.T * s.C, 1.0f, seed + 1)) {
    const auto t = pot::nn::block_tensors_in(params.data(), s.C);
    for (std::size_t i = 0; i < s.C; ++i) {
      t.ln1_weight[i] += 1.0f;
      t.ln2_weight[i] += 1.0f;
    }
  }
  pot::nn::block_tensors<const float> parameters() const { return pot::nn::block_tensors_in(params.data(), shape.C); }

  // Forward and backward (from dout) through a block of `capacity` over this setup's batch:
  // the output, the input gradient and the parameter gradients, one after the other.
  std::vector<float> forward_backward(pot::nn::block_shape capacity, const std::vector<float>& dout,
                                      pot::linalg::execution exec) const {
    pot::nn::transformer_block<float> block(capacity);
    typename pot::nn::transformer_block<float>::scratch work(capacity);
    std::vector<float> out(inp.size()), grads(params.size(), 0.0f), dresidual = dout;
    block.forward(out.data(), inp.data(), shape.B, shape.T, parameters(), exec);
    block.backward(dresidual.data(), pot::nn::block_tensors_in(grads.data(), shape.C), inp.data(), parameters(), work,
                   exec);
    out.insert(out.end(), dresidual.begin(), dresidual.end());
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  }
};

// Records the shapes each Linear of a block is called with, computing the float product.
struct recording_linear final : pot::nn::linear<float> {
  std::vector<std::size_t> forward_shapes, backward_shapes;  // rows, C, OC per call
  pot::nn::float_linear<float> product;
  void forward(float* out, float* input, const pot::nn::linear_parameters<float>& p, std::size_t rows,
               pot::linalg::execution exec) override {
    forward_shapes.insert(forward_shapes.end(), {rows, p.in_features, p.out_features});
    product.forward(out, input, p, rows, exec);
  }
  void backward(float* dinput, const pot::nn::linear_gradients<float>& g, const float* dout, const float* input,
                const pot::nn::linear_parameters<float>& p, std::size_t rows, pot::linalg::execution exec) override {
    backward_shapes.insert(backward_shapes.end(), {rows, p.in_features, p.out_features});
    product.backward(dinput, g, dout, input, p, rows, exec);
  }
};

}  // namespace

TEST_CASE("a block runs batches smaller than its capacity as a block of that size does") {
  const block_setup setup({2, 5, 16, 4}, 1);
  const std::vector<float> dout = pot::test::normal_floats(setup.inp.size(), 1.0f, 3);
  CHECK(setup.forward_backward({3, 9, 16, 4}, dout, {1}) == setup.forward_backward(setup.shape, dout, {1}));
}

TEST_CASE("a block's forward and backward give the same bits on 1, 2 and 3 threads") {
  const block_setup setup({4, 64, 32, 4}, 4);
  const std::vector<float> dout = pot::test::normal_floats(setup.inp.size(), 1.0f, 6);
  pot::linalg::thread_pool pool(3);
  const std::vector<float> one = setup.forward_backward(setup.shape, dout, {1, &pool});
  CHECK(std::memcmp(setup.forward_backward(setup.shape, dout, {2, &pool}).data(), one.data(),
                    one.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(setup.forward_backward(setup.shape, dout, {3, &pool}).data(), one.data(),
                    one.size() * sizeof(float)) == 0);
}

TEST_CASE("a block's cached forward: a prefill of the whole sequence is its forward, decode steps within rounding") {
  const std::size_t B = 2, T = 7, C = 16;
  const block_setup setup({B, T, C, 2}, 7);
  const auto p = setup.parameters();
  const std::vector<float>& inp = setup.inp;
  pot::nn::transformer_block<float> block(setup.shape);
  std::vector<float> full(B * T * C), cached(B * T * C);
  block.forward(full.data(), inp.data(), B, T, p, {1});
  pot::nn::kv_cache<float> cache(B, T, C, 2);
  block.forward_cached(cached.data(), inp.data(), T, p, cache, {1});
  CHECK(cached == full);
  // Three positions, then one at a time.
  cache.clear();
  double largest = 0;
  for (std::size_t first = 0; first < T; first += first == 0 ? 3 : 1) {
    const std::size_t count = first == 0 ? 3 : 1;
    std::vector<float> step_in(B * count * C), step_out(B * count * C);
    for (std::size_t b = 0; b < B; ++b)
      std::copy_n(inp.data() + (b * T + first) * C, count * C, step_in.data() + b * count * C);
    block.forward_cached(step_out.data(), step_in.data(), count, p, cache, {1});
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t i = 0; i < count * C; ++i)
        largest = std::max(largest, static_cast<double>(std::abs(step_out[b * count * C + i] -
                                                                 full[(b * T + first) * C + i])));
  }
  CHECK(largest <= 1e-5);
  CHECK(cache.length() == T);
}

TEST_CASE("a block's Linears run through the linear<Scalar> installed for them") {
  const std::size_t B = 2, T = 3, C = 8;
  const block_setup setup({B, T, C, 2}, 9);
  const pot::nn::block_shape& shape = setup.shape;
  const auto p = setup.parameters();
  const std::vector<float>& inp = setup.inp;
  pot::nn::transformer_block<float> plain(shape), recorded(shape);
  recording_linear qkv, fc;
  recorded.set_linear(pot::nn::block_linear::attention_qkv, &qkv);
  recorded.set_linear(pot::nn::block_linear::mlp_expand, &fc);
  CHECK(&recorded.linear_of(pot::nn::block_linear::attention_qkv) == &qkv);
  std::vector<float> expected(B * T * C), out(B * T * C);
  plain.forward(expected.data(), inp.data(), B, T, p, {1});
  recorded.forward(out.data(), inp.data(), B, T, p, {1});
  CHECK(out == expected);
  CHECK(qkv.forward_shapes == std::vector<std::size_t>{B * T, C, 3 * C});
  CHECK(fc.forward_shapes == std::vector<std::size_t>{B * T, C, 4 * C});
  typename pot::nn::transformer_block<float>::scratch work(shape);
  std::vector<float> grads(setup.params.size(), 0.0f), dresidual(B * T * C, 1.0f);
  recorded.backward(dresidual.data(), pot::nn::block_tensors_in(grads.data(), C), inp.data(), p, work, {1});
  CHECK(qkv.backward_shapes == std::vector<std::size_t>{B * T, C, 3 * C});
  recorded.set_linear(pot::nn::block_linear::attention_qkv, nullptr);
  CHECK(&recorded.linear_of(pot::nn::block_linear::attention_qkv) != &qkv);
}

TEST_CASE("a block refuses batches beyond its capacity, a backward without a forward, a foreign cache") {
  const pot::nn::block_shape shape{2, 4, 8, 2};
  pot::nn::transformer_block<float> block(shape);
  const std::vector<float> params(pot::nn::block_parameter_count(8), 0.0f);
  const auto p = pot::nn::block_tensors_in<const float>(params.data(), 8);
  std::vector<float> x(3 * 5 * 8), grads(params.size());
  CHECK_THROWS_WITH_AS(block.forward(x.data(), x.data(), 3, 4, p),
                       "pot: transformer_block::forward got a (3, 4) batch; the block holds up to (2, 4)",
                       std::invalid_argument);
  CHECK_THROWS_AS(block.forward(x.data(), x.data(), 2, 5, p), std::invalid_argument);
  typename pot::nn::transformer_block<float>::scratch work(shape);
  CHECK_THROWS_AS(block.backward(x.data(), pot::nn::block_tensors_in(grads.data(), 8), x.data(), p, work),
                  std::logic_error);
  pot::nn::kv_cache<float> other(2, 4, 8, 4);
  CHECK_THROWS_WITH_AS(block.forward_cached(x.data(), x.data(), 1, p, other),
                       doctest::Contains("a cache of 8 channels in 4 heads"), std::invalid_argument);
}
