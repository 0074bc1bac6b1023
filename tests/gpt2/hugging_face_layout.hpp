/// \file
/// \brief GPT-2 files as Hugging Face ships them, written by tests: no config in the
/// metadata (only "format": "pt"), Conv1D weights [in, out], the causal-mask buffers
/// h.<i>.attn.bias and h.<i>.attn.masked_bias, names with or without "transformer.",
/// F32 or F16. (safetensors_crosscheck.py and pytorch_parity.py write the same layout
/// from Python, independently of this library.)
#pragma once

#include <bit>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include <doctest/doctest.h>

#include "gpt2_checkpoint.hpp"
#include "safetensors.hpp"

namespace gpt2_test {

/// \brief How write_hugging_face_file lays the file out.
struct hugging_face_layout {
  bool transformer_prefix = false;  ///< GPT2LMHeadModel's names ("transformer.h.0...")
  bool half = false;                ///< F16 instead of F32 (every value must be exact in F16)
  bool mask_buffers = true;         ///< attn.bias (1, 1, block, block) and attn.masked_bias ()
};

/// \brief binary16 bits of \p value, which must be zero or a normal number exact in F16.
inline std::uint16_t exact_half(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  if ((bits & 0x7FFFFFFFu) == 0) return sign;
  const int exponent = static_cast<int>((bits >> 23) & 0xFFu) - 127 + 15;
  if (exponent <= 0 || exponent >= 31 || (bits & 0x1FFFu) != 0) FAIL(value << " is not exact in F16");
  return static_cast<std::uint16_t>(sign | (exponent << 10) | ((bits >> 13) & 0x3FFu));
}

/// \brief Writes \p parameters (the buffer layout of \p config) as a Hugging Face GPT-2 file.
inline void write_hugging_face_file(const std::filesystem::path& path, const gpt2::gpt2_config& config,
                                    std::span<const float> parameters, const hugging_face_layout& layout = {}) {
  const std::filesystem::path ours = path.string() + ".ours";
  gpt2::save_gpt2_checkpoint(ours, config, parameters);  // Hugging Face's names and layouts, F32
  gpt2::safetensors_file file = gpt2::read_safetensors(ours);
  std::filesystem::remove(ours);
  file.metadata = {{"format", "pt"}};  // as transformers writes it: no config
  if (layout.mask_buffers) {
    const std::size_t T = config.block_size;
    std::vector<float> lower(T * T, 0.0f);
    for (std::size_t row = 0; row < T; ++row)
      for (std::size_t column = 0; column <= row; ++column) lower[row * T + column] = 1.0f;
    const float masked_bias = -1e4f;
    for (std::size_t layer = 0; layer < config.n_layer; ++layer) {
      const std::string h = "h." + std::to_string(layer) + ".attn.";
      file.tensors.push_back(gpt2::make_f32_tensor(h + "bias", {1, 1, T, T}, lower));
      file.tensors.push_back(gpt2::make_f32_tensor(h + "masked_bias", {}, {&masked_bias, 1}));
    }
  }
  for (gpt2::tensor& t : file.tensors) {
    if (layout.half && t.type == gpt2::dtype::F32) {
      std::vector<std::byte> halves;
      for (const float value : t.to_floats()) {
        const std::uint16_t half = exact_half(value);
        halves.push_back(static_cast<std::byte>(half & 0xFFu));
        halves.push_back(static_cast<std::byte>(half >> 8));
      }
      t.type = gpt2::dtype::F16;
      t.bytes = std::move(halves);
    }
    if (layout.transformer_prefix) t.name = "transformer." + t.name;
  }
  gpt2::write_safetensors(path, file);
}

}  // namespace gpt2_test
