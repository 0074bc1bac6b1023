#include "gpt2_checkpoint.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <limits>

#include "hugging_face_layout.hpp"
#include "safetensors.hpp"
#include "temporary_directory.hpp"

namespace {

const gpt2::gpt2_config tiny{.n_layer = 2, .n_head = 2, .n_embd = 4, .block_size = 3, .vocab_size = 5};

/// Distinct, exactly representable values: element i of the buffer is i + 0.5.
std::vector<float> numbered_parameters(std::size_t count) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i) + 0.5f;
  return values;
}

std::string load_error(const std::filesystem::path& path, std::optional<std::size_t> n_head = {}) {
  try {
    gpt2::load_gpt2_checkpoint(path, n_head);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a tiny config lists Hugging Face's names and shapes in buffer order") {
  struct expected_entry { std::string name; std::vector<std::size_t> hf_shape; bool transposed, decay; };
  // Written out by hand from GPT2Model's state_dict for n_embd 4 (C), 3 positions, 5 tokens.
  std::vector<expected_entry> expected = {{"wte.weight", {5, 4}, false, true},
                                          {"wpe.weight", {3, 4}, false, true}};
  for (const char* h : {"h.0.", "h.1."}) {
    const std::string p = h;
    expected.insert(expected.end(), {
        {p + "ln_1.weight", {4}, false, false},
        {p + "ln_1.bias", {4}, false, false},
        {p + "attn.c_attn.weight", {4, 12}, true, true},
        {p + "attn.c_attn.bias", {12}, false, false},
        {p + "attn.c_proj.weight", {4, 4}, true, true},
        {p + "attn.c_proj.bias", {4}, false, false},
        {p + "ln_2.weight", {4}, false, false},
        {p + "ln_2.bias", {4}, false, false},
        {p + "mlp.c_fc.weight", {4, 16}, true, true},
        {p + "mlp.c_fc.bias", {16}, false, false},
        {p + "mlp.c_proj.weight", {16, 4}, true, true},
        {p + "mlp.c_proj.bias", {4}, false, false},
    });
  }
  expected.push_back({"ln_f.weight", {4}, false, false});
  expected.push_back({"ln_f.bias", {4}, false, false});

  const auto list = gpt2::gpt2_parameters(tiny);
  REQUIRE(list.size() == expected.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    CAPTURE(expected[i].name);
    CHECK(list[i].name == expected[i].name);
    CHECK(list[i].hf_shape == expected[i].hf_shape);
    CHECK(list[i].transposed == expected[i].transposed);
    CHECK(list[i].weight_decay == expected[i].decay);
    auto buffer_shape = expected[i].hf_shape;
    if (expected[i].transposed) std::swap(buffer_shape[0], buffer_shape[1]);
    CHECK(list[i].shape == buffer_shape);
    CHECK(list[i].offset == offset);
    offset += list[i].size;
  }
  // 5*4 + 3*4 + 2 * (4+4 + 48+12 + 16+4 + 4+4 + 64+16 + 64+4) + 4+4 = 528
  CHECK(offset == 528);
  CHECK(gpt2::gpt2_parameter_count(tiny) == 528);
  CHECK(gpt2::find_parameter(list, "h.1.mlp.c_fc.bias").offset == list[list.size() - 5].offset);
  CHECK_THROWS_AS(gpt2::find_parameter(list, "h.2.ln_1.weight"), std::out_of_range);
}

TEST_CASE("invalid configs are refused with the field named") {
  auto config = tiny;
  config.n_head = 3;
  CHECK_THROWS_WITH_AS(gpt2::gpt2_parameters(config), doctest::Contains("not a multiple of n_head"),
                       std::invalid_argument);
  config = tiny;
  config.vocab_size = 0;
  CHECK_THROWS_WITH_AS(gpt2::validate(config), doctest::Contains("vocab_size must be positive"),
                       std::invalid_argument);
}

TEST_CASE("a config whose parameter count overflows size_t is refused, not wrapped") {
  // 2^62 channels: C * C wraps to 0 in 64 bits, which once made a model of no storage.
  const gpt2::gpt2_config huge{.n_layer = 1, .n_head = 1, .n_embd = std::size_t{1} << 62, .block_size = 2,
                               .vocab_size = 1};
  CHECK_THROWS_WITH_AS(gpt2::validate(huge), doctest::Contains("the parameter count overflows size_t"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(gpt2::gpt2_parameter_count(huge), doctest::Contains("n_embd 4611686018427387904"),
                       std::invalid_argument);
  CHECK_THROWS_AS(gpt2::gpt2_parameters(huge), std::invalid_argument);
  auto many_blocks = tiny;
  many_blocks.n_layer = std::numeric_limits<std::size_t>::max() / 100;
  CHECK_THROWS_AS(gpt2::gpt2_parameter_count(many_blocks), std::invalid_argument);
  // The count is computed without listing the tensors, and agrees with the list.
  for (const gpt2::gpt2_config config : {tiny, gpt2::gpt2_config{3, 4, 8, 7, 11}, gpt2::gpt2_config{1, 1, 1, 1, 1}}) {
    const auto list = gpt2::gpt2_parameters(config);
    CHECK(gpt2::gpt2_parameter_count(config) == list.back().offset + list.back().size);
  }
}

TEST_CASE("save then load gives the same parameters bit for bit, Conv1D weights stored [in, out]") {
  const gpt2_test::temporary_directory dir;
  const auto path = dir / "tiny.safetensors";
  const auto parameters = numbered_parameters(gpt2::gpt2_parameter_count(tiny));
  gpt2::save_gpt2_checkpoint(path, tiny, parameters, {{"tokenizer", "abc"}});

  const auto loaded = gpt2::load_gpt2_checkpoint(path);
  CHECK(loaded.config == tiny);
  REQUIRE(loaded.parameters.size() == parameters.size());
  CHECK(std::memcmp(loaded.parameters.data(), parameters.data(), parameters.size() * sizeof(float)) == 0);
  CHECK(loaded.metadata.at("tokenizer") == "abc");
  CHECK(loaded.metadata.at("format") == "pt");
  CHECK(loaded.metadata.at("n_head") == "2");

  // The file itself, read without the checkpoint layer: c_attn.weight is [C, 3C] = [4, 12]
  // with file[c][o] = buffer[offset + o * C + c] (the buffer holds it as (3C, C)).
  const auto file = gpt2::read_safetensors(path);
  const auto* c_attn = file.find("h.1.attn.c_attn.weight");
  REQUIRE(c_attn != nullptr);
  CHECK(c_attn->shape == std::vector<std::size_t>{4, 12});
  const auto stored = c_attn->to_floats();
  const std::size_t offset = gpt2::find_parameter(gpt2::gpt2_parameters(tiny), "h.1.attn.c_attn.weight").offset;
  for (std::size_t c = 0; c < 4; ++c) {
    for (std::size_t o = 0; o < 12; ++o) {
      CHECK(stored[c * 12 + o] == static_cast<float>(offset + o * 4 + c) + 0.5f);
    }
  }
  // Non-transposed tensors are stored as they are: wpe starts right after wte's 20 floats.
  CHECK(file.find("wpe.weight")->to_floats().front() == 20.5f);
}

TEST_CASE("Hugging Face files load: 'transformer.' prefix, mask buffers, F16, n_head argument or n_embd / 64") {
  const gpt2_test::temporary_directory dir;
  const auto parameters = numbered_parameters(gpt2::gpt2_parameter_count(tiny));
  gpt2_test::write_hugging_face_file(dir / "hf.safetensors", tiny, parameters, {.transformer_prefix = true});

  // n_embd 4 is no multiple of GPT-2's head size 64: n_head must be given.
  CHECK(load_error(dir / "hf.safetensors") ==
        "pot: " + (dir / "hf.safetensors").string() +
            ": n_head is not in the metadata, and n_embd 4 is not a multiple of GPT-2's head size 64; pass n_head "
            "(--n-head)");
  const auto loaded = gpt2::load_gpt2_checkpoint(dir / "hf.safetensors", 2);
  CHECK(loaded.config == tiny);
  CHECK(loaded.parameters == parameters);
  CHECK(loaded.n_head_assumed);

  // The same values as F16 (each i + 0.5 below 528 is exact in binary16: 11 significant bits).
  gpt2_test::write_hugging_face_file(dir / "half.safetensors", tiny, parameters, {.half = true});
  CHECK(gpt2::load_gpt2_checkpoint(dir / "half.safetensors", 2).parameters == parameters);

  // 128 channels and no n_head: 2 heads of 64, as every GPT-2 size has.
  const gpt2::gpt2_config wide{.n_layer = 1, .n_head = 2, .n_embd = 128, .block_size = 2, .vocab_size = 3};
  gpt2_test::write_hugging_face_file(dir / "wide.safetensors", wide,
                                     std::vector<float>(gpt2::gpt2_parameter_count(wide), 0.25f));
  CHECK(gpt2::load_gpt2_checkpoint(dir / "wide.safetensors").config == wide);
  CHECK(gpt2::load_gpt2_checkpoint(dir / "wide.safetensors", 4).config.n_head == 4);
  CHECK(load_error(dir / "wide.safetensors", 3).find("n_embd 128 is not a multiple of n_head 3") != std::string::npos);
}

TEST_CASE("bad checkpoints give errors naming the file and the problem") {
  const gpt2_test::temporary_directory dir;
  const auto parameters = numbered_parameters(gpt2::gpt2_parameter_count(tiny));
  gpt2::save_gpt2_checkpoint(dir / "good.safetensors", tiny, parameters);
  const auto good = gpt2::read_safetensors(dir / "good.safetensors");

  auto variant = [&](const char* name, auto edit) {
    auto file = good;
    edit(file);
    gpt2::write_safetensors(dir / name, file);
    return load_error(dir / name);
  };
  CHECK(variant("missing.safetensors", [](gpt2::safetensors_file& f) {
          std::erase_if(f.tensors, [](const gpt2::tensor& t) { return t.name == "h.1.ln_2.bias"; });
        }).find("missing.safetensors: missing tensor 'h.1.ln_2.bias'") != std::string::npos);
  CHECK(variant("extra.safetensors", [](gpt2::safetensors_file& f) {
          f.tensors.push_back(gpt2::make_f32_tensor("h.0.attn.extra", {1}, std::vector<float>{1.0f}));
        }).find("extra.safetensors: unexpected tensor 'h.0.attn.extra'") != std::string::npos);
  CHECK(variant("shape.safetensors", [](gpt2::safetensors_file& f) {
          for (auto& t : f.tensors) {
            if (t.name == "h.0.mlp.c_fc.weight") t.shape = {16, 4};  // not transposed for HF
          }
        }).find("shape.safetensors: tensor 'h.0.mlp.c_fc.weight' has shape [16, 4], expected [4, 16]") !=
        std::string::npos);
  CHECK(variant("both.safetensors", [](gpt2::safetensors_file& f) {
          auto copy = f.tensors.back();
          copy.name = "transformer." + copy.name;
          f.tensors.push_back(copy);
        }).find("both with and without the 'transformer.' prefix") != std::string::npos);
  CHECK(variant("meta.safetensors", [](gpt2::safetensors_file& f) { f.metadata["n_layer"] = "3"; })
            .find("metadata says n_layer = 3 but the tensor shapes give 2") != std::string::npos);
  CHECK(variant("ints.safetensors", [](gpt2::safetensors_file& f) {
          f.tensors.front().type = gpt2::dtype::I32;
        }).find("expected a float dtype") != std::string::npos);
  CHECK(load_error(dir / "good.safetensors", 4).find("n_head 4 was asked for, but the file says 2") !=
        std::string::npos);
  // n_layer comes from the largest block name: one stray name must not size anything
  // before the blocks below it are found missing (it once asked for 10^8 blocks).
  CHECK(variant("far.safetensors", [](gpt2::safetensors_file& f) {
          f.tensors.push_back(gpt2::make_f32_tensor("h.99999999.ln_1.weight", {4}, std::vector<float>(4)));
        }).find("far.safetensors: missing tensor 'h.2.ln_1.weight' (the file names blocks up to h.99999999)") !=
        std::string::npos);
  for (const char* number : {"-1", " 2", "2 ", "two", "18446744073709551616"}) {
    CAPTURE(number);
    CHECK(variant("n_head.safetensors", [&](gpt2::safetensors_file& f) { f.metadata["n_head"] = number; })
              .find("metadata entry n_head = '" + std::string(number) + "' is not a number") != std::string::npos);
  }

  // Truncated: cut the last 10 bytes off a good checkpoint.
  const auto truncated = dir / "truncated.safetensors";
  std::filesystem::copy_file(dir / "good.safetensors", truncated);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) - 10);
  const std::string message = load_error(truncated);
  CHECK(message.find("truncated.safetensors") != std::string::npos);
  CHECK(message.find("outside the data buffer") != std::string::npos);
}

TEST_CASE("saving checks the buffer size and reserved metadata keys") {
  const gpt2_test::temporary_directory dir;
  const std::vector<float> too_short(527);
  CHECK_THROWS_WITH_AS(gpt2::save_gpt2_checkpoint(dir / "x", tiny, too_short),
                       doctest::Contains("527 parameters given, the config needs 528"), std::invalid_argument);
  const auto parameters = numbered_parameters(528);
  CHECK_THROWS_WITH_AS(gpt2::save_gpt2_checkpoint(dir / "x", tiny, parameters, {{"n_head", "4"}}),
                       doctest::Contains("'n_head' is reserved"), std::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(dir / "x"));
}
