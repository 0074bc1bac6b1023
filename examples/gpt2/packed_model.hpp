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
/// run batches of up to \p max_batch sequences of \p max_sequence tokens, with float
/// Linears: install integer_linears for the integer path, fake_quant_linears for the
/// fake-quant one.
std::unique_ptr<gpt2_model<float>> make_packed_float_model(const packed_model& model, std::size_t max_batch,
                                                           std::size_t max_sequence,
                                                           pot::linalg::execution execution);

/// \brief The integer path: every block Linear a pot::nn::integer_linear over the
/// packed weights of \p model (which must outlive this): inputs quantized to 8-bit codes
/// with the frozen parameters, multiplied exactly in int32 (pot_gemv for one row, pot_gemm
/// for more, chosen in the library), rescaled once with the bias in the library's fused
/// epilogue. Everything else in the model stays float; install with
/// gpt2_model::set_linears(layers()).
class integer_linears {
 public:
  /// \brief The Linears of \p model.
  explicit integer_linears(const packed_model& model);

  /// \brief The Linears, in linear_index() order, for gpt2_model::set_linears().
  [[nodiscard]] std::span<pot::nn::linear<float>* const> layers() const noexcept { return layers_; }

 private:
  std::vector<std::unique_ptr<pot::nn::linear<float>>> linears_;
  std::vector<pot::nn::linear<float>*> layers_;
};

}  // namespace gpt2
