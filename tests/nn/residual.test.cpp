#include <doctest/doctest.h>

#include <vector>

#include "../isa_variants.hpp"
#include "layer_check.hpp"
#include "pot/nn/residual.hpp"

namespace {

struct residual_case {
  std::size_t N;

  std::vector<std::size_t> input_sizes() const { return {N, N}; }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> out(N);
    pot::nn::residual_forward(out.data(), in[0].data(), in[1].data(), N);
    return out;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>&, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::residual_backward(grads[0].data(), grads[1].data(), dout.data(), N);
  }
};

}  // namespace

TEST_CASE("residual backward matches autodiff, finite differences and float") {
  SUBCASE("N=1") { layer_check::check_layer(residual_case{1}, 1); }
  SUBCASE("N=19") { layer_check::check_layer(residual_case{19}, 2); }
}

TEST_CASE("residual forward is the elementwise sum") {
  const std::vector<float> a = {1.5f, -2.0f, 0.25f};
  const std::vector<float> b = {0.5f, 4.0f, -0.25f};
  std::vector<float> out(3);
  pot::nn::residual_forward(out.data(), a.data(), b.data(), 3);
  CHECK(out == std::vector<float>{2.0f, 2.0f, 0.0f});
}

TEST_CASE("residual float is the exact float sum on every length, tail included, on every instruction set") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // One rounding per value either way, so the register path must match bit for bit,
    // including the values of a partial last register (lengths 1 to 35 cover them for 8 and 16 lanes).
    for (std::size_t N = 1; N <= 35; ++N) {
      const layer_check::tensor a_values = layer_check::random_tensor(N, 30), b_values = layer_check::random_tensor(N, 31);
      const std::vector<float> a(a_values.begin(), a_values.end()), b(b_values.begin(), b_values.end());
      std::vector<float> out(N + 1, -7.0f), da(N, 0.25f), db(N, -0.5f);
      pot::nn::residual_forward(out.data(), a.data(), b.data(), N);
      pot::nn::residual_backward(da.data(), db.data(), a.data(), N);
      INFO("N = " << N);
      for (std::size_t i = 0; i < N; ++i) {
        CHECK(out[i] == a[i] + b[i]);
        CHECK(da[i] == 0.25f + a[i]);
        CHECK(db[i] == -0.5f + a[i]);
      }
      CHECK(out[N] == -7.0f);  // nothing written past the end
    }
  });
}
