/// \file
/// \brief The PoT weight formats the `gpt2` program can choose at run time, each a
/// compiled pot<> instantiation behind a small virtual interface that makes the library's
/// Linears of that format (pot/nn/fake_quant_linear.hpp, pot/nn/integer_linear.hpp).
///
/// A format is bits, exponent range [0, MaxExp] (relative to the tensor scale), rounding
/// domain and zero policy. "clamp" has no zero code: weights below 2^0 round up to it, as
/// the reference's zero="clamp"; "flush" spends a code on 0 and sends below-range weights
/// there (zero="flush"), so it needs a spare code: 4 bits for E3 and E5, none left for E7.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pot/core/pot.hpp"
#include "pot/nn/linear.hpp"
#include "pot/quant/pot_quantizer.hpp"

namespace gpt2 {

struct activation_qparams;    // quantization.hpp
struct quantization_options;  // quantization.hpp
class qat_linear;             // quantization.hpp

/// \brief Whether below-range weights clamp to the least level or flush to a zero code.
enum class zero_policy { clamp, flush };

/// \brief A weight format as the command line names it.
struct format_spec {
  int bits = 4;                                 ///< code width
  int max_exponent = 7;                         ///< levels scale * 2^0 .. scale * 2^MaxExp
  pot::rounding rounding = pot::rounding::log;  ///< midpoint sqrt(2) 2^k or 1.5 2^k
  zero_policy zero = zero_policy::clamp;        ///< below-range weights
  friend bool operator==(const format_spec&, const format_spec&) = default;
};

/// \brief "4bit-E7-log-clamp": the name used on the command line and in files.
std::string format_name(const format_spec& spec);

/// \brief The spec called \p name (see format_name()).
/// \throws std::invalid_argument naming \p name and listing the valid names
format_spec parse_format_name(const std::string& name);

/// \brief Every compiled format's name, comma-separated (for messages and --help).
std::string valid_format_names();

/// \brief One Linear weight (OC, C) packed in a PoT format: the codes of a
/// pot::packed_matrix with its scales, and the integer Linear over it.
class packed_linear {
 public:
  virtual ~packed_linear() = default;
  [[nodiscard]] virtual std::size_t rows() const = 0;
  [[nodiscard]] virtual std::size_t cols() const = 0;
  /// \brief Row-major codes without padding, as core/packing.hpp packs them (for files).
  [[nodiscard]] virtual std::vector<std::uint8_t> packed_codes() const = 0;
  /// \brief One scale per row, or one for the tensor.
  [[nodiscard]] virtual std::span<const float> scales() const = 0;
  /// \brief The weights the codes stand for, row-major (rows * cols floats).
  virtual void dequantize(std::span<float> out) const = 0;
  /// \brief Bytes in float32, and packed without row padding (codes + scales), as
  /// pot::packed_matrix accounts them.
  [[nodiscard]] virtual std::size_t float32_bytes() const = 0;
  [[nodiscard]] virtual std::size_t packed_bytes() const = 0;
  /// \brief pot::nn::integer_linear over these weights (which must outlive it) with 8-bit
  /// inputs quantized by \p input.
  /// \throws std::invalid_argument for float activations or invalid parameters
  [[nodiscard]] virtual std::unique_ptr<pot::nn::linear<float>> make_integer_linear(
      const activation_qparams& input) const = 0;
};

/// \brief A compiled PoT format: its quantization-aware Linear and packing.
class weight_format {
 public:
  virtual ~weight_format() = default;
  [[nodiscard]] virtual const format_spec& spec() const = 0;
  /// \brief A pot::nn::fake_quant_linear of this format for \p options, its inputs
  /// observed (when \p frozen is null) or quantized with \p frozen.
  [[nodiscard]] virtual std::unique_ptr<qat_linear> make_qat_linear(const quantization_options& options,
                                                                    const activation_qparams* frozen) const = 0;
  /// \brief Quantizes and packs with the max rule.
  [[nodiscard]] virtual std::unique_ptr<packed_linear> pack(std::span<const float> weights, std::size_t rows,
                                                            std::size_t cols,
                                                            pot::scale_granularity granularity) const = 0;
  /// \brief Rebuilds a packed weight from packed_codes() and scales() (a file).
  /// \throws std::invalid_argument for a wrong size or a code the format has no value for
  [[nodiscard]] virtual std::unique_ptr<packed_linear> unpack(std::size_t rows, std::size_t cols,
                                                              std::span<const std::uint8_t> packed_codes,
                                                              std::vector<float> scales) const = 0;
};

/// \brief The compiled format of \p spec.
/// \throws std::invalid_argument naming the spec and listing the valid ones
const weight_format& find_weight_format(const format_spec& spec);

}  // namespace gpt2
