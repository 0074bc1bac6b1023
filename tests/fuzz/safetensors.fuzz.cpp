// Fuzz target: read_safetensors on arbitrary bytes. A file either reads into tensors
// whose bytes match their shapes and survive a write/read round trip, or fails with one
// std::runtime_error "pot: FILE: problem" (anything else escaping is a finding).

#include <cstring>

#include "fuzz_input.hpp"
#include "safetensors.hpp"

namespace {

void check_contents(const gpt2::safetensors_file& contents) {
  for (const gpt2::tensor& t : contents.tensors) {
    const std::size_t count = t.element_count();
    if (count * gpt2::dtype_size(t.type) != t.bytes.size()) pot_fuzz::fail("tensor " + t.name + ": bytes != shape");
    const bool is_float = t.type == gpt2::dtype::F32 || t.type == gpt2::dtype::F16 || t.type == gpt2::dtype::BF16;
    const std::size_t converted = is_float ? t.to_floats().size() : t.to_integers().size();
    if (converted != count) pot_fuzz::fail("tensor " + t.name + ": conversion lost elements");
  }
}

bool same(const gpt2::tensor& a, const gpt2::tensor& b) {
  return a.name == b.name && a.type == b.type && a.shape == b.shape && a.bytes == b.bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pot_fuzz::scratch_file input("safetensors-input");
  static const pot_fuzz::scratch_file copy("safetensors-copy");
  const auto read = pot_fuzz::load_input(input, data, size, gpt2::read_safetensors);
  if (!read) return 0;
  const gpt2::safetensors_file& contents = *read;
  check_contents(contents);
  gpt2::write_safetensors(copy.path(), contents);
  const gpt2::safetensors_file again = gpt2::read_safetensors(copy.path());
  if (again.metadata != contents.metadata || again.tensors.size() != contents.tensors.size())
    pot_fuzz::fail("the written copy reads back differently");
  for (std::size_t i = 0; i < again.tensors.size(); ++i)
    if (!same(again.tensors[i], contents.tensors[i])) pot_fuzz::fail("tensor " + contents.tensors[i].name + " changed");
  return 0;
}
