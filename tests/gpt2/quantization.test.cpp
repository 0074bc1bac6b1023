#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "model.hpp"
#include "safetensors.hpp"
#include "packed_model.hpp"
#include "pot/core/packing.hpp"
#include "pot/quant/pot_fake_quant.hpp"
#include "pot/quant/pot_quantizer.hpp"
#include "pot_format.hpp"
#include "quantization.hpp"
#include "random.hpp"
#include "tiny_model.hpp"
#include "temporary_directory.hpp"

namespace {

const gpt2::gpt2_config& tiny = tiny_model::config;
using tiny_model::batch;
using tiny_model::inputs;
using tiny_model::sequence;
using tiny_model::targets;
const std::vector<std::int32_t> corpus{0, 3, 7, 3, 10, 5, 5, 1, 9, 2, 4, 8, 6, 1, 0, 2, 9, 7, 3, 5, 10, 4, 6, 8};

const gpt2::format_spec e7_log{4, 7, pot::rounding::log, gpt2::zero_policy::clamp};
const gpt2::format_spec e3_log{3, 3, pot::rounding::log, gpt2::zero_policy::clamp};

// Weights far from GPT-2's small init, so activations spread over many codes.
void randomize(gpt2::gpt2_model<float>& model, std::uint64_t seed) {
  gpt2::normal_generator normal(seed);
  for (const auto& tensor : model.parameter_tensors()) {
    const bool layernorm_weight = tensor.name.find("ln_") != std::string::npos && tensor.name.ends_with(".weight");
    for (std::size_t i = 0; i < tensor.size; ++i)
      model.parameters()[tensor.offset + i] = static_cast<float>((layernorm_weight ? 1.0 : 0.0) + 0.4 * normal());
  }
}

gpt2::packed_model calibrated_packed_model(const gpt2::gpt2_model<float>& source, gpt2::activation_type type) {
  gpt2::gpt2_model<float> model(tiny, batch, sequence, {1});
  model.load_parameters(source.parameters());
  const gpt2::quantization_options options{e7_log, pot::scale_granularity::per_channel, type,
                                           pot::ste_estimator::identity};
  gpt2::fake_quant_linears linears(tiny, options);
  model.set_linears(linears.layers());
  gpt2::calibrate(model, linears, corpus, 3, batch, sequence, 7);
  return gpt2::pack_model(tiny, source.parameters(), options, linears.activation_parameters(),
                          {{"tokenizer", "abc"}});
}

}  // namespace

TEST_CASE("PTQ of a known weight row gives the codes computed by hand") {
  // Per tensor, scale = max|w| / 2^7 = 1/128, so w / scale = 128 w:
  //   1.0   -> 128    = 1.0  * 2^7                      -> +2^7 (log and linear)
  //  -0.5   -> -64    = 1.0  * 2^6                      -> -2^6
  //   0.36  -> 46.08  = 1.44 * 2^5: 1.44 >= sqrt(2)     -> log +2^6; 1.44 < 1.5: linear +2^5
  //   0.3   -> 38.4   = 1.2  * 2^5                      -> +2^5 (both)
  //  -0.011 -> -1.408 = 1.408 * 2^0: < sqrt(2), < 1.5   -> -2^0
  //   0.002 -> 0.256  = 1.024 * 2^-2, below the range   -> +2^0 (clamp: no zero code)
  const std::vector<float> w{1.0f, -0.5f, 0.36f, 0.3f, -0.011f, 0.002f};
  const std::vector<int> log_exponents{7, 6, 6, 5, 0, 0};
  const std::vector<int> linear_exponents{7, 6, 5, 5, 0, 0};
  const std::vector<bool> negative{false, true, false, false, true, false};
  for (const auto rounding : {pot::rounding::log, pot::rounding::linear}) {
    const auto& format = gpt2::find_weight_format({4, 7, rounding, gpt2::zero_policy::clamp});
    const auto packed = format.pack(w, 1, w.size(), pot::scale_granularity::per_tensor);
    CHECK(packed->scales()[0] == 1.0f / 128.0f);
    const std::vector<std::uint8_t> bytes = packed->packed_codes();
    REQUIRE(bytes.size() == 3);  // six 4-bit codes
    std::vector<std::uint8_t> codes(w.size());
    pot::unpack_codes(std::as_bytes(std::span<const std::uint8_t>(bytes)), 4, std::span<std::uint8_t>(codes));
    const auto& expected = rounding == pot::rounding::log ? log_exponents : linear_exponents;
    std::vector<float> dequantized(w.size());
    packed->dequantize(dequantized);
    for (std::size_t i = 0; i < w.size(); ++i) {
      const auto value = pot::pot<4, 0, 7, pot::rounding::log>::from_code(codes[i]);
      CHECK(value.exponent() == expected[i]);
      CHECK(value.is_negative() == negative[i]);
      CHECK(dequantized[i] == (negative[i] ? -1.0f : 1.0f) * std::ldexp(1.0f, expected[i]) / 128.0f);
    }
  }
}

TEST_CASE("flush formats send below-range weights to zero; a bad format spec names the valid ones") {
  // E5 flush, scale 1/32: 0.01 * 32 = 0.32 rounds to 2^-2, below 2^0 -> 0.
  const auto& flush = gpt2::find_weight_format({4, 5, pot::rounding::log, gpt2::zero_policy::flush});
  const std::vector<float> w{1.0f, 0.01f};
  std::vector<float> out(2);
  flush.pack(w, 1, 2, pot::scale_granularity::per_tensor)->dequantize(out);
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == 0.0f);

  CHECK_THROWS_WITH_AS(gpt2::parse_format_name("4bit-E6-log-clamp"),
                       doctest::Contains("unknown PoT format \"4bit-E6-log-clamp\"; valid formats: 3bit-E3-log-clamp"),
                       std::invalid_argument);
  // E7 has 16 codes at 4 bits: no room for a zero.
  CHECK_THROWS_WITH_AS(gpt2::find_weight_format({4, 7, pot::rounding::log, gpt2::zero_policy::flush}),
                       doctest::Contains("no compiled PoT format 4bit-E7-log-flush; valid formats:"),
                       std::invalid_argument);
  CHECK(gpt2::parse_format_name("4bit-E5-lin-flush") ==
        gpt2::format_spec{4, 5, pot::rounding::linear, gpt2::zero_policy::flush});
}

TEST_CASE("a packed model survives a save/load round trip exactly") {
  gpt2::gpt2_model<float> source(tiny, batch, sequence, {1});
  randomize(source, 3);
  const gpt2::packed_model packed = calibrated_packed_model(source, gpt2::activation_type::int8);
  gpt2_test::temporary_directory directory;
  const auto path = directory / "packed.safetensors";
  gpt2::save_packed_model(path, packed);
  CHECK(gpt2::is_packed_model_file(path));
  const gpt2::packed_model loaded = gpt2::load_packed_model(path);
  CHECK(loaded.config == tiny);
  CHECK(loaded.options.format == packed.options.format);
  CHECK(loaded.options.granularity == pot::scale_granularity::per_channel);
  CHECK(loaded.options.activations == gpt2::activation_type::int8);
  CHECK(loaded.metadata == packed.metadata);
  CHECK(loaded.parameters == packed.parameters);
  REQUIRE(loaded.linears.size() == packed.linears.size());
  for (std::size_t i = 0; i < packed.linears.size(); ++i) {
    CHECK(loaded.linears[i]->packed_codes() == packed.linears[i]->packed_codes());
    CHECK(std::ranges::equal(loaded.linears[i]->scales(), packed.linears[i]->scales()));
    CHECK(loaded.activations[i].scale == packed.activations[i].scale);
    CHECK(loaded.activations[i].zero_point == packed.activations[i].zero_point);
  }
  // 4-bit codes: 4 layers' worth of (3C + C + 4C + 4C) C = 12 * 64 weights per block.
  CHECK(packed.float32_weight_bytes() == 2 * 12 * 64 * 4);
}

TEST_CASE("a bad packed model file gets one error naming the file, before anything is sized by it") {
  gpt2::gpt2_model<float> source(tiny, batch, sequence, {1});
  randomize(source, 3);
  gpt2_test::temporary_directory directory;
  const auto good_path = directory / "packed.safetensors";
  gpt2::save_packed_model(good_path, calibrated_packed_model(source, gpt2::activation_type::uint8));
  const gpt2::safetensors_file good = gpt2::read_safetensors(good_path);
  const auto load_error = [&](const auto& edit) {
    gpt2::safetensors_file file = good;
    edit(file);
    const auto path = directory / "bad.safetensors";
    gpt2::write_safetensors(path, file);
    try {
      gpt2::load_packed_model(path);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("(loaded)");
  };
  const auto with_metadata = [](const std::string& key, const std::string& value) {
    return [=](gpt2::safetensors_file& file) { file.metadata[key] = value; };
  };
  const auto path_prefix = "pot: " + (directory / "bad.safetensors").string() + ": ";
  // Sizes come from the metadata: each is held against the file's tensors before the
  // model allocates (a vocab_size of 10^9 once took 15 GB and 48 s to refuse).
  CHECK(load_error(with_metadata("vocab_size", "1000000000")) ==
        path_prefix + "tensor wte.weight has shape [11, 8], expected [1000000000, 8]");
  CHECK(load_error(with_metadata("n_layer", "1000000000")) == path_prefix + "missing tensor h.2.ln_1.weight");
  CHECK(load_error(with_metadata("n_layer", "1")) == path_prefix + "unexpected tensor h.1.ln_1.weight");
  for (const char* number : {"-1", " 2", "2x", "two", ""}) {
    CAPTURE(number);
    CHECK(load_error(with_metadata("n_layer", number)) ==
          path_prefix + "metadata entry n_layer = '" + number + "' is not a count");
  }
  CHECK(load_error([](gpt2::safetensors_file& file) { file.metadata.erase("pot.activations"); }) ==
        path_prefix + "missing metadata entry pot.activations");
  // A zero point beyond int32 was once truncated to the low 32 bits (4294967301 -> 5).
  CHECK(load_error([](gpt2::safetensors_file& file) {
          for (gpt2::tensor& t : file.tensors)
            if (t.name == "h.0.mlp.c_fc.input_zero_point") {
              const std::int64_t value = 4294967301;
              t.type = gpt2::dtype::I64;
              t.bytes.resize(sizeof value);
              std::memcpy(t.bytes.data(), &value, sizeof value);
            }
        }) == path_prefix + "tensor h.0.mlp.c_fc.input_zero_point holds 4294967301, which is no 8-bit zero point");
  CHECK(load_error([](gpt2::safetensors_file& file) {
          for (gpt2::tensor& t : file.tensors)
            if (t.name == "h.1.attn.c_proj.weight_codes") {
              t.type = gpt2::dtype::I32;  // the same shape, 4 bytes a code
              t.bytes.resize(t.bytes.size() * 4);
            }
        }) == path_prefix + "tensor h.1.attn.c_proj.weight_codes is I32, expected U8");
  CHECK(load_error([](gpt2::safetensors_file& file) {
          std::erase_if(file.tensors, [](const gpt2::tensor& t) { return t.name == "h.1.mlp.c_proj.input_scale"; });
        }) == path_prefix + "missing tensor h.1.mlp.c_proj.input_scale");
}

// The integer Linear itself (the exact sum rounded once, the same bits on any thread
// count, GEMV against GEMM) is tested in tests/nn/integer_linear.test.cpp; here, the
// model's integer path as a whole.

TEST_CASE("integer inference logits match the fake-quant float forward of a tiny model") {
  gpt2::gpt2_model<float> source(tiny, batch, sequence, {1});
  randomize(source, 9);
  const gpt2::packed_model packed = calibrated_packed_model(source, gpt2::activation_type::uint8);
  gpt2::gpt2_model<float> model(tiny, batch, sequence, {1});
  model.load_parameters(packed.parameters);

  const gpt2::fake_quant_linears fake(tiny, packed.options, packed.activations);
  model.set_linears(fake.layers());
  model.forward(inputs, {}, batch, sequence);
  const std::vector<float> fake_logits(model.logits().begin(), model.logits().end());
  const gpt2::integer_linears integer(packed);
  model.set_linears(integer.layers());
  model.forward(inputs, {}, batch, sequence);
  const std::vector<float> integer_logits(model.logits().begin(), model.logits().end());

  // Each Linear differs by float rounding only: the float GEMM's error on an 8- or
  // 32-term sum is at most (K + 2) u sum|x w| ~ 34 * 6e-8 relative, i.e. about 2e-6 of
  // logits of size ~1-10 after the 8 Linears and LayerNorms (gain ~ a few each), so 1e-4
  // holds unless an activation lands on a rounding boundary of the next quantizer (the
  // max |difference| on these seeds is reported on failure).
  double largest = 0;
  for (std::size_t i = 0; i < fake_logits.size(); ++i)
    largest = std::max(largest, static_cast<double>(std::abs(fake_logits[i] - integer_logits[i])));
  CHECK(largest <= 1e-4);
  // Top-1 agrees wherever the fake-quant margin between the best two logits is large.
  const std::size_t V = tiny.vocab_size;
  for (std::size_t position = 0; position < batch * sequence; ++position) {
    const auto row = std::span<const float>(fake_logits).subspan(position * V, V);
    std::vector<float> sorted(row.begin(), row.end());
    std::ranges::sort(sorted, std::greater<>());
    if (sorted[0] - sorted[1] < 1e-3f) continue;
    const auto other = std::span<const float>(integer_logits).subspan(position * V, V);
    CHECK(std::ranges::max_element(row) - row.begin() == std::ranges::max_element(other) - other.begin());
  }
}

TEST_CASE("the integer path decodes through the KV cache to the logits of its full forward") {
  gpt2::gpt2_model<float> source(tiny, batch, sequence, {1});
  randomize(source, 9);
  for (const auto type : {gpt2::activation_type::uint8, gpt2::activation_type::int8}) {
    const gpt2::packed_model packed = calibrated_packed_model(source, type);
    gpt2::gpt2_model<float> model(tiny, batch, sequence, {2});
    model.load_parameters(packed.parameters);
    const gpt2::integer_linears integer(packed);
    model.set_linears(integer.layers());
    model.forward(inputs, {}, batch, sequence);
    const std::vector<float> full(model.logits().begin(), model.logits().end());
    // A prefill of 2 positions, then 3 decode steps of one token (M = 1: pot_gemv).
    const std::size_t V = tiny.vocab_size, prefill = 2;
    double largest = 0;
    for (std::size_t first = 0; first < sequence; first += first == 0 ? prefill : 1) {
      const std::size_t count = first == 0 ? prefill : 1;
      std::vector<std::int32_t> step;
      for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t t = first; t < first + count; ++t) step.push_back(inputs[b * sequence + t]);
      model.forward_cached(step, batch, count);
      for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t t = 0; t < count; ++t)
          for (std::size_t v = 0; v < V; ++v)
            largest = std::max(largest, static_cast<double>(std::abs(model.logits()[(b * count + t) * V + v] -
                                                                     full[(b * sequence + first + t) * V + v])));
    }
    // The Linears' inputs are the same rows up to float rounding in attention, and the
    // exact int32 products do not depend on the batch's row count; only an activation on
    // a rounding boundary of its quantizer could move a code (then by one step).
    CHECK(largest <= 1e-4);
    model.set_linears({});
  }
}

TEST_CASE("QAT gradients: identity STE = float gradient at the fake-quantized weights; clipped masks it") {
  gpt2::gpt2_model<float> source(tiny, batch, sequence, {1});
  randomize(source, 13);
  // Weight-only quantization, so the control below needs no activation quantizer.
  const auto options = [](pot::ste_estimator estimator) {
    return gpt2::quantization_options{e3_log, pot::scale_granularity::per_tensor, gpt2::activation_type::none,
                                      estimator};
  };

  gpt2::gpt2_model<float> qat(tiny, batch, sequence, {1});
  qat.load_parameters(source.parameters());
  gpt2::fake_quant_linears identity(tiny, options(pot::ste_estimator::identity));
  qat.set_linears(identity.layers());
  qat.forward(inputs, targets, batch, sequence);
  qat.backward();
  const std::vector<float> identity_gradient(qat.gradients().begin(), qat.gradients().end());

  // The control: a plain float model whose Linear weights ARE the fake-quantized ones
  // (3bit-E3-log-clamp is pot<3, 0, 3> without a zero code, scale max|w| / 2^3).
  using e3 = pot::pot<3, 0, 3, pot::rounding::log, pot::zero_code::none>;
  std::vector<float> replaced(source.parameters().begin(), source.parameters().end());
  std::vector<std::uint8_t> mask(replaced.size(), 1);
  for (std::size_t layer = 0; layer < tiny.n_layer; ++layer)
    for (std::size_t kind = 0; kind < gpt2::linear_kind_count; ++kind) {
      const auto& t = gpt2::find_parameter(source.parameter_tensors(),
                                           gpt2::linear_weight_name({layer, static_cast<gpt2::linear_kind>(kind)}));
      const auto w = std::span<const float>(source.parameters()).subspan(t.offset, t.size);
      const float scale = pot::pot_scale<e3>(w, pot::scale_rule::max_abs);
      pot::fake_quantize_pot_forward<e3>(w, scale, std::span<float>(replaced).subspan(t.offset, t.size),
                                         std::span<std::uint8_t>(mask).subspan(t.offset, t.size));
    }
  gpt2::gpt2_model<float> control(tiny, batch, sequence, {1});
  control.load_parameters(replaced);
  control.forward(inputs, targets, batch, sequence);
  control.backward();
  CHECK(std::ranges::equal(identity_gradient, control.gradients()));

  gpt2::fake_quant_linears clipped(tiny, options(pot::ste_estimator::clipped));
  qat.set_linears(clipped.layers());
  qat.forward(inputs, targets, batch, sequence);
  qat.backward();
  std::size_t masked = 0;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] == 0) {
      ++masked;
      CHECK(qat.gradients()[i] == 0.0f);
    } else {
      CHECK(qat.gradients()[i] == identity_gradient[i]);
    }
  }
  // With 4 levels (2^0..2^3 of max/8), weights below max/16 fall out of range: many do.
  CHECK(masked > 50);
}
