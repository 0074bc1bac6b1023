/// \file
/// \brief A PoT-quantized GPT-2 model: packed Linear weights, frozen activation
/// parameters, the float parameters the rest of the model needs; its file; and the
/// integer inference path over it.
///
/// File (safetensors, written atomically): for every block Linear `h.i.<module>`,
/// `h.i.<module>.weight_codes` (U8, (OC, packed bytes of C codes): rows of codes packed
/// as core/packing.hpp does, without the in-memory row padding), `.weight_scales` (F32,
/// 1 or OC), `.input_scale` (F32, 1) and `.input_zero_point` (I32, 1); every other
/// parameter as F32 under its Hugging Face name and layout. Metadata: the config, the
/// format name ("4bit-E7-log-clamp"), the activation type and scale granularity, and
/// the caller's entries (tokenizer, corpus).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gpt2_checkpoint.hpp"
#include "model.hpp"
#include "pot_format.hpp"
#include "quantization.hpp"

namespace gpt2 {

/// \brief A quantized model in memory.
struct packed_model {
  gpt2_config config;
  quantization_options options;                         ///< format, granularity, activations
  std::vector<float> parameters;                        ///< float buffer; Linear weights dequantized
  std::vector<std::unique_ptr<packed_linear>> linears;  ///< linear_index() order
  std::vector<activation_qparams> activations;          ///< linear_index() order
  std::map<std::string, std::string> metadata;          ///< the caller's entries

  /// \brief Bytes of the quantized weights in float32, and packed (codes + scales).
  [[nodiscard]] std::size_t float32_weight_bytes() const;
  [[nodiscard]] std::size_t packed_weight_bytes() const;
};

/// \brief Packs the Linear weights of \p parameters (a float buffer of \p config) with
/// the max rule, keeps \p activations, and stores the dequantized weights in the buffer.
packed_model pack_model(const gpt2_config& config, std::span<const float> parameters,
                        const quantization_options& options, std::span<const activation_qparams> activations,
                        std::map<std::string, std::string> metadata);

/// \brief Writes \p model atomically (see the file comment).
void save_packed_model(const std::filesystem::path& path, const packed_model& model);

/// \brief Reads a file written by save_packed_model.
/// \throws std::runtime_error "pot: <path>: <problem>" for a bad file, a missing or
///   misshapen tensor, an unknown format or bad activation parameters
packed_model load_packed_model(const std::filesystem::path& path);

/// \brief Whether \p path holds a packed model (rather than a float checkpoint).
bool is_packed_model_file(const std::filesystem::path& path);

/// \brief A float model over \p model's parameters (Linear weights dequantized), able to
/// run batches of up to \p max_batch sequences of \p max_sequence tokens, without hooks:
/// install integer_hooks for the integer path, fake_quant_hooks for the fake-quant one.
std::unique_ptr<gpt2_model<float>> make_packed_float_model(const packed_model& model, std::size_t max_batch,
                                                           std::size_t max_sequence,
                                                           pot::linalg::execution execution);

/// \brief The integer path: each block Linear quantizes its input to 8-bit codes with the
/// frozen parameters, multiplies by the packed weights exactly in int32 (pot_gemm /
/// pot_gemv), and rescales once by 2^MinExp * scale_w * scale_a before adding the bias
/// (a multiply-add in double, fused where the target has FMA, rounded once to float). Quantization and rescale
/// run over the rows on the execution's threads; the result does not depend on their
/// number. Everything else in the model stays float.
class integer_hooks final : public linear_hooks<float> {
 public:
  /// \brief Hooks over \p model, which must outlive them.
  integer_hooks(const packed_model& model, pot::linalg::execution execution);

  bool replace_product(linear_id id, float* out, const float* input, const float* bias, std::size_t rows,
                       std::size_t C, std::size_t OC) override;

 private:
  const packed_model& model_;
  pot::linalg::execution execution_;
  std::vector<std::uint8_t> codes_u8_;
  std::vector<std::int8_t> codes_i8_;
  std::vector<std::int32_t> accumulators_;
  std::vector<double> column_rescales_;  // (OC) 2^MinExp * scale_a * scale_w[o]
  std::vector<double> column_biases_;    // (OC) bias[o], 0 without a bias
};

}  // namespace gpt2
