#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "layer_check.hpp"
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
    block.forward(out.data(), in[0].data(), pot::nn::block_tensors_in(in[1].data(), shape.C));
    return out;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::transformer_block<S> block(shape);
    std::vector<S> out(in[0].size());
    const auto params = pot::nn::block_tensors_in(in[1].data(), shape.C);
    block.forward(out.data(), in[0].data(), params);
    block.backward(grads[0].data(), pot::nn::block_tensors_in(grads[1].data(), shape.C), dout.data(),
                   in[0].data(), params);
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
