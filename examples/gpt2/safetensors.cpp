#include "safetensors.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "checked_size.hpp"
#include "file_error.hpp"

namespace gpt2 {

static_assert(std::endian::native == std::endian::little,
              "pot gpt2: safetensors data is little-endian; this reader copies it as is");

namespace {

constexpr std::array<std::pair<dtype, std::string_view>, 6> dtype_names{{
    {dtype::F32, "F32"},
    {dtype::F16, "F16"},
    {dtype::BF16, "BF16"},
    {dtype::I32, "I32"},
    {dtype::I64, "I64"},
    {dtype::U8, "U8"},
}};

std::optional<dtype> parse_dtype(std::string_view name) {
  for (const auto& [type, type_name] : dtype_names) {
    if (type_name == name) return type;
  }
  return std::nullopt;
}

/// Whether \p shape of \p type holds exactly \p bytes (false when its size overflows).
bool shape_fits_bytes(std::span<const std::size_t> shape, dtype type, std::uint64_t bytes) {
  try {
    return (checked_product(shape) * dtype_size(type)).value() == bytes;
  } catch (const std::overflow_error&) {
    return false;
  }
}

template <class T>
std::vector<T> reinterpret_elements(const tensor& t) {
  std::vector<T> values(t.bytes.size() / sizeof(T));
  // An empty tensor has no storage: memcpy from a null pointer is undefined even for 0 bytes.
  if (!values.empty()) std::memcpy(values.data(), t.bytes.data(), values.size() * sizeof(T));
  return values;
}

/// A byte range of the data buffer and the tensor it belongs to.
struct tensor_extent {
  std::string name;
  dtype type;
  std::vector<std::size_t> shape;
  std::uint64_t begin, end;
};

class header_parser {
 public:
  explicit header_parser(const std::filesystem::path& path) : path_(path) {}

  [[noreturn]] void fail(const std::string& problem) const { throw_file_error(path_, problem); }

  std::vector<std::size_t> parse_shape(const std::string& name, const nlohmann::json& shape) const {
    if (!shape.is_array()) fail("tensor '" + name + "': \"shape\" is not an array");
    std::vector<std::size_t> dims;
    for (const auto& dim : shape) {
      if (!dim.is_number_unsigned()) {
        fail("tensor '" + name + "': shape entry " + dim.dump() + " is not a non-negative integer");
      }
      dims.push_back(dim.get<std::size_t>());
    }
    return dims;
  }

  tensor_extent parse_entry(const std::string& name, const nlohmann::json& entry,
                            std::uint64_t buffer_size) const {
    if (!entry.is_object()) fail("tensor '" + name + "': entry is not a JSON object");
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
      if (!entry.contains(key)) fail("tensor '" + name + "': missing \"" + key + "\"");
    }
    const auto& dtype_json = entry["dtype"];
    if (!dtype_json.is_string()) fail("tensor '" + name + "': \"dtype\" is not a string");
    const auto type = parse_dtype(dtype_json.get<std::string>());
    if (!type) {
      fail("tensor '" + name + "': unknown dtype '" + dtype_json.get<std::string>() +
           "' (supported: F32, F16, BF16, I32, I64, U8)");
    }
    auto shape = parse_shape(name, entry["shape"]);
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail("tensor '" + name + "': \"data_offsets\" is not a pair of non-negative integers");
    }
    const auto begin = offsets[0].get<std::uint64_t>();
    const auto end = offsets[1].get<std::uint64_t>();
    if (begin > end) fail("tensor '" + name + "': data_offsets begin after they end");
    if (end > buffer_size) {
      fail("tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " +
           std::to_string(end) + ") lie outside the data buffer of " +
           std::to_string(buffer_size) + " bytes (truncated file?)");
    }
    if (!shape_fits_bytes(shape, *type, end - begin)) {
      fail("tensor '" + name + "': shape " + entry["shape"].dump() + " of " +
           dtype_json.get<std::string>() + " does not match its " + std::to_string(end - begin) +
           " bytes of data");
    }
    return {name, *type, std::move(shape), begin, end};
  }

  std::map<std::string, std::string> parse_metadata(const nlohmann::json& metadata) const {
    if (!metadata.is_object()) fail("\"__metadata__\" is not a JSON object");
    std::map<std::string, std::string> entries;
    for (const auto& [key, value] : metadata.items()) {
      if (!value.is_string()) fail("\"__metadata__\" entry '" + key + "' is not a string");
      entries.emplace(key, value.get<std::string>());
    }
    return entries;
  }

 private:
  const std::filesystem::path& path_;
};

void require_consistent(const tensor& t) {
  if (!shape_fits_bytes(t.shape, t.type, t.bytes.size())) {
    throw std::invalid_argument("pot: tensor '" + t.name + "' holds " +
                                std::to_string(t.bytes.size()) +
                                " bytes, which does not match its shape and dtype");
  }
}

}  // namespace

std::string_view dtype_name(dtype type) {
  for (const auto& [candidate, name] : dtype_names) {
    if (candidate == type) return name;
  }
  throw std::invalid_argument("pot: invalid dtype value");
}

std::size_t dtype_size(dtype type) {
  switch (type) {
    case dtype::F32: return 4;
    case dtype::F16: return 2;
    case dtype::BF16: return 2;
    case dtype::I32: return 4;
    case dtype::I64: return 8;
    case dtype::U8: return 1;
  }
  throw std::invalid_argument("pot: invalid dtype value");
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = (bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
  const std::uint32_t mantissa = bits & 0x3FFu;
  std::uint32_t result = 0;
  if (exponent == 0x1F) {
    result = sign | 0x7F800000u | (mantissa << 13);  // inf, NaN keeps its payload
  } else if (exponent != 0) {
    result = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {
    // Subnormal half: mantissa * 2^-24, a normal float.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  } else {
    result = sign;
  }
  return std::bit_cast<float>(result);
}

float bfloat16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::size_t tensor::element_count() const {
  try {
    return checked_product(shape).value();
  } catch (const std::overflow_error&) {
    throw std::invalid_argument("pot: tensor '" + name + "': shape overflows size_t");
  }
}

std::vector<float> tensor::to_floats() const {
  switch (type) {
    case dtype::F32: return reinterpret_elements<float>(*this);
    case dtype::F16:
    case dtype::BF16: {
      const auto halves = reinterpret_elements<std::uint16_t>(*this);
      std::vector<float> values(halves.size());
      std::transform(halves.begin(), halves.end(), values.begin(),
                     type == dtype::F16 ? half_to_float : bfloat16_to_float);
      return values;
    }
    default:
      throw std::invalid_argument("pot: tensor '" + name + "' has integer dtype " +
                                  std::string(dtype_name(type)) + ", expected a float dtype");
  }
}

std::vector<std::int64_t> tensor::to_integers() const {
  switch (type) {
    case dtype::I64: return reinterpret_elements<std::int64_t>(*this);
    case dtype::I32: {
      const auto values = reinterpret_elements<std::int32_t>(*this);
      return {values.begin(), values.end()};
    }
    case dtype::U8: return {reinterpret_cast<const std::uint8_t*>(bytes.data()),
                            reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size()};
    default:
      throw std::invalid_argument("pot: tensor '" + name + "' has float dtype " +
                                  std::string(dtype_name(type)) + ", expected an integer dtype");
  }
}

tensor make_f32_tensor(std::string name, std::vector<std::size_t> shape,
                       std::span<const float> values) {
  tensor t{std::move(name), dtype::F32, std::move(shape), {}};
  const auto raw = std::as_bytes(values);
  t.bytes.assign(raw.begin(), raw.end());
  require_consistent(t);
  return t;
}

tensor make_i32_tensor(std::string name, std::vector<std::size_t> shape,
                       std::span<const std::int32_t> values) {
  tensor t{std::move(name), dtype::I32, std::move(shape), {}};
  const auto raw = std::as_bytes(values);
  t.bytes.assign(raw.begin(), raw.end());
  require_consistent(t);
  return t;
}

const tensor* safetensors_file::find(std::string_view name) const {
  const auto it = std::find_if(tensors.begin(), tensors.end(),
                               [&](const tensor& t) { return t.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

safetensors_file read_safetensors(const std::filesystem::path& path) {
  const header_parser parser(path);
  std::error_code error;
  const auto file_size = std::filesystem::file_size(path, error);
  if (error) parser.fail("cannot open: " + error.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) parser.fail("cannot open for reading");
  if (file_size < 8) {
    parser.fail("file has " + std::to_string(file_size) +
                " bytes, too short for the 8-byte header length");
  }
  std::array<unsigned char, 8> length_bytes{};
  in.read(reinterpret_cast<char*>(length_bytes.data()), 8);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[static_cast<std::size_t>(i)];
  if (header_length > file_size - 8) {
    parser.fail("header length " + std::to_string(header_length) + " is larger than the file (" +
                std::to_string(file_size) + " bytes)");
  }
  std::string header_text(header_length, '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_length));
  if (!in) parser.fail("read error in the header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number beyond double (1e400).
    parser.fail(std::string("invalid JSON header: ") + e.what());
  }
  if (!header.is_object()) parser.fail("JSON header is not an object");

  const std::uint64_t buffer_begin = 8 + header_length;
  const std::uint64_t buffer_size = file_size - buffer_begin;
  safetensors_file contents;
  std::vector<tensor_extent> extents;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      contents.metadata = parser.parse_metadata(entry);
    } else {
      extents.push_back(parser.parse_entry(name, entry, buffer_size));
    }
  }
  std::sort(extents.begin(), extents.end(), [](const tensor_extent& a, const tensor_extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (std::size_t i = 1; i < extents.size(); ++i) {
    if (extents[i].begin < extents[i - 1].end) {
      parser.fail("tensors '" + extents[i - 1].name + "' and '" + extents[i].name +
                  "' have overlapping data_offsets");
    }
  }
  for (auto& extent : extents) {
    tensor t{std::move(extent.name), extent.type, std::move(extent.shape), {}};
    t.bytes.resize(extent.end - extent.begin);
    if (!t.bytes.empty()) {
      in.seekg(static_cast<std::streamoff>(buffer_begin + extent.begin));
      in.read(reinterpret_cast<char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
      if (!in) parser.fail("read error in the data of tensor '" + t.name + "'");
    }
    contents.tensors.push_back(std::move(t));
  }
  return contents;
}

void write_safetensors(const std::filesystem::path& path, const safetensors_file& contents) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!contents.metadata.empty()) {
    header["__metadata__"] = contents.metadata;
  }
  std::uint64_t offset = 0;
  std::set<std::string_view> names;
  for (const auto& t : contents.tensors) {
    if (t.name == "__metadata__") {
      throw std::invalid_argument("pot: '__metadata__' is reserved and cannot name a tensor");
    }
    if (!names.insert(t.name).second) {
      throw std::invalid_argument("pot: duplicate tensor name '" + t.name + "'");
    }
    require_consistent(t);
    header[t.name] = {{"dtype", dtype_name(t.type)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::array<std::byte, 8> length_bytes{};
  std::uint64_t length = header_text.size();
  for (auto& byte : length_bytes) {
    byte = static_cast<std::byte>(length & 0xFFu);
    length >>= 8;
  }
  atomic_file_writer out(path);
  out.write(length_bytes);
  out.write(std::as_bytes(std::span(header_text)));
  for (const auto& t : contents.tensors) out.write(t.bytes);
  out.commit();
}

}  // namespace gpt2
