#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "layer_check.hpp"
#include "pot/nn/embedding.hpp"

namespace {

struct embedding_case {
  std::size_t B, T, C, V, maxT;
  std::vector<std::int32_t> tokens;  // (B, T)

  std::vector<std::size_t> input_sizes() const { return {V * C, maxT * C}; }  // wte, wpe
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> out(B * T * C);
    pot::nn::embedding_forward(out.data(), tokens.data(), in[0].data(), in[1].data(), B, T, C, V,
                               maxT);
    return out;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>&, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::embedding_backward(grads[0].data(), grads[1].data(), dout.data(), tokens.data(), B, T,
                                C, V);
  }
};

}  // namespace

TEST_CASE("embedding backward matches autodiff, finite differences and float") {
  // Token 2 appears three times: its gradient row must collect all three.
  SUBCASE("B=2 T=3 C=5 V=7") {
    layer_check::check_layer(embedding_case{2, 3, 5, 7, 4, {2, 0, 2, 6, 2, 3}}, 1);
  }
  SUBCASE("B=1 T=1 C=12 V=3") { layer_check::check_layer(embedding_case{1, 1, 12, 3, 1, {1}}, 2); }
}

TEST_CASE("embedding forward adds the token row and the position row") {
  const std::vector<double> wte = {1, 2, 10, 20, 100, 200};  // (V=3, C=2)
  const std::vector<double> wpe = {0.5, 0.25, 0.125, 4};     // (maxT=2, C=2)
  const std::vector<std::int32_t> tokens = {2, 0};
  std::vector<double> out(4);
  pot::nn::embedding_forward(out.data(), tokens.data(), wte.data(), wpe.data(), 1, 2, 2, 3, 2);
  CHECK(out == std::vector<double>{100.5, 200.25, 1.125, 6});
  // A decode step at position 1 reads the position table's second row.
  std::vector<double> step(2);
  pot::nn::embedding_forward(step.data(), tokens.data(), wte.data(), wpe.data(), 1, 1, 2, 3, 2, 1);
  CHECK(step == std::vector<double>{100.125, 204});
}

TEST_CASE("embedding rejects token ids outside the vocabulary and T beyond the table") {
  const std::vector<float> wte(3 * 2), wpe(2 * 2);
  std::vector<float> out(4);
  const std::vector<std::int32_t> too_large = {0, 3};
  const std::vector<std::int32_t> negative = {-1, 0};
  CHECK_THROWS_WITH_AS(
      pot::nn::embedding_forward(out.data(), too_large.data(), wte.data(), wpe.data(), 1, 2, 2, 3, 2),
      "pot: token id 3 at index 1 is outside [0, V = 3)", std::out_of_range);
  CHECK_THROWS_AS(
      pot::nn::embedding_forward(out.data(), negative.data(), wte.data(), wpe.data(), 1, 2, 2, 3, 2),
      std::out_of_range);
  std::vector<float> dwte(6), dwpe(4);
  CHECK_THROWS_AS(
      pot::nn::embedding_backward(dwte.data(), dwpe.data(), out.data(), too_large.data(), 1, 2, 2, 3),
      std::out_of_range);
  const std::vector<std::int32_t> three = {0, 1, 2};
  std::vector<float> long_out(6);
  CHECK_THROWS_AS(
      pot::nn::embedding_forward(long_out.data(), three.data(), wte.data(), wpe.data(), 1, 3, 2, 3, 2),
      std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      pot::nn::embedding_forward(out.data(), three.data(), wte.data(), wpe.data(), 1, 1, 2, 3, 2, 2),
      "pot: embedding_forward got positions 2 to 3 but the position table has maxT = 2", std::invalid_argument);
}
