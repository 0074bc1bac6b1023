/// \file
/// \brief The PoT weight formats the `gpt2` program can choose at run time, each a
/// compiled pot<> instantiation behind a small virtual interface.
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
#include "pot/linalg/execution.hpp"
#include "pot/quant/pot_quantizer.hpp"

namespace gpt2 {

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
/// pot::packed_matrix with its scales, and the exact integer product over it.
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
  /// \brief 2^MinExp: with scale_w and the activation scale, the rescale of multiply().
  [[nodiscard]] virtual float min_level() const = 0;
  /// \brief Bytes in float32, and packed without row padding (codes + scales), as
  /// pot::packed_matrix accounts them.
  [[nodiscard]] virtual std::size_t float32_bytes() const = 0;
  [[nodiscard]] virtual std::size_t packed_bytes() const = 0;
  /// \brief out (M, rows) = sum_k (a[m, k] - zero_point) * sign * 2^(e - MinExp), exact in
  /// int32 (pot::linalg::pot_gemm, or pot_gemv for one row).
  virtual void multiply(std::span<const std::uint8_t> a, std::size_t M, std::int32_t zero_point,
                        std::span<std::int32_t> out, pot::linalg::execution execution) const = 0;
  virtual void multiply(std::span<const std::int8_t> a, std::size_t M, std::int32_t zero_point,
                        std::span<std::int32_t> out, pot::linalg::execution execution) const = 0;
};

/// \brief A compiled PoT format: fake-quantization of a weight tensor and packing.
class weight_format {
 public:
  virtual ~weight_format() = default;
  [[nodiscard]] virtual const format_spec& spec() const = 0;
  /// \brief The largest level 2^MaxExp relative to the scale (LSQ's gradient scale).
  [[nodiscard]] double largest_level() const;

  /// \brief The paper's scale rule max|w| / 2^MaxExp, per tensor (1 value) or per row.
  [[nodiscard]] virtual std::vector<float> scales(std::span<const float> weights, std::size_t rows,
                                                  std::size_t cols,
                                                  pot::scale_granularity granularity) const = 0;
  /// \brief out = scale * P(w / scale) with the given scales (1 or rows of them), and the
  /// clipped-STE mask (1 where the exponent was in range), via quant/pot_fake_quant.hpp.
  virtual void fake_quantize(std::span<const float> weights, std::size_t rows, std::size_t cols,
                             std::span<const float> scales, std::span<float> out,
                             std::span<std::uint8_t> mask) const = 0;
  /// \brief LSQ: d loss / d scale of one tensor scale, times \p gradient_scale.
  [[nodiscard]] virtual double scale_gradient(std::span<const float> dout, std::span<const float> weights,
                                              float scale, double gradient_scale) const = 0;
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
