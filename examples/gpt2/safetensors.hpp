/// \file
/// \brief Reading and writing Hugging Face safetensors files.
///
/// Format (https://github.com/huggingface/safetensors, README "Format"): an unsigned
/// 64-bit little-endian header size N, then N bytes of UTF-8 JSON mapping each tensor
/// name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional
/// "__metadata__" object of string to string, then the byte buffer. Offsets are relative
/// to the start of the buffer; tensors are row-major, little-endian. The reference
/// writer pads the header with spaces to a multiple of 8 bytes so the buffer is aligned;
/// this writer does the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// \brief Element types this example reads and writes (safetensors' names).
enum class dtype { F32, F16, BF16, I32, I64, U8 };

/// \brief The safetensors name of \p type ("F32", ...).
std::string_view dtype_name(dtype type);

/// \brief Bytes per element of \p type.
std::size_t dtype_size(dtype type);

/// \brief One named tensor: element type, row-major shape and raw little-endian bytes.
struct tensor {
  std::string name;                ///< the key in the safetensors header
  dtype type = dtype::F32;         ///< element type
  std::vector<std::size_t> shape;  ///< dimensions, outermost first; empty for a scalar
  std::vector<std::byte> bytes;    ///< element_count() * dtype_size(type) bytes

  /// \brief Product of the dimensions (1 for a scalar).
  [[nodiscard]] std::size_t element_count() const;

  /// \brief The elements as float: exact for F32, F16 and BF16.
  /// \throws std::invalid_argument naming the tensor for an integer dtype
  [[nodiscard]] std::vector<float> to_floats() const;

  /// \brief The elements as int64: exact for I32, I64 and U8.
  /// \throws std::invalid_argument naming the tensor for a floating-point dtype
  [[nodiscard]] std::vector<std::int64_t> to_integers() const;
};

/// \brief An F32 tensor holding a copy of \p values.
/// \throws std::invalid_argument if the shape does not hold values.size() elements
tensor make_f32_tensor(std::string name, std::vector<std::size_t> shape,
                       std::span<const float> values);

/// \brief An I32 tensor holding a copy of \p values.
/// \throws std::invalid_argument if the shape does not hold values.size() elements
tensor make_i32_tensor(std::string name, std::vector<std::size_t> shape,
                       std::span<const std::int32_t> values);

/// \brief The contents of a safetensors file: tensors in buffer order, and metadata.
struct safetensors_file {
  std::vector<tensor> tensors;                     ///< in the order of their data offsets
  std::map<std::string, std::string> metadata;     ///< the "__metadata__" entries

  /// \brief The tensor called \p name, or nullptr.
  [[nodiscard]] const tensor* find(std::string_view name) const;
};

/// \brief Reads and validates a whole safetensors file.
///
/// Every check runs before any tensor is allocated, so a corrupt header cannot make
/// the reader allocate more than the file holds.
/// \throws std::runtime_error "pot: <path>: <problem>" for a missing or unreadable file,
///   a file shorter than 8 bytes, a header length beyond the file, invalid JSON, an
///   unknown dtype, a malformed entry, a shape that disagrees with its byte range,
///   offsets outside the buffer or overlapping, and truncated data
safetensors_file read_safetensors(const std::filesystem::path& path);

/// \brief Writes \p contents atomically (see atomic_file_writer): the tensors are laid
/// out contiguously in the order given.
/// \throws std::invalid_argument for duplicate or reserved names or a tensor whose
///   bytes disagree with its shape; std::runtime_error naming the file on I/O errors
void write_safetensors(const std::filesystem::path& path, const safetensors_file& contents);

/// \brief Converts an IEEE 754 binary16 bit pattern to float (exact).
float half_to_float(std::uint16_t bits);

/// \brief Converts a bfloat16 bit pattern to float (exact).
float bfloat16_to_float(std::uint16_t bits);

}  // namespace gpt2
