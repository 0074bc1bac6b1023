#include "safetensors.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "atomic_file.hpp"
#include "temporary_directory.hpp"

namespace {

using gpt2::dtype;

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

/// A file made by hand: 8-byte length, header text, buffer.
std::string hand_made_file(const std::string& header, const std::string& buffer) {
  std::string file(8, '\0');
  std::uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return file + header + buffer;
}

/// The message of the runtime_error that reading \p path throws ("" if none).
std::string read_error(const std::filesystem::path& path) {
  try {
    gpt2::read_safetensors(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

gpt2::safetensors_file one_of_each_dtype() {
  gpt2::safetensors_file file;
  const float floats[] = {1.5f, -0.0f, std::numeric_limits<float>::denorm_min(), 3.0e38f, -7.25f, 0.1f};
  file.tensors.push_back(gpt2::make_f32_tensor("f32", {2, 3}, floats));
  file.tensors.push_back({"f16", dtype::F16, {3}, bytes_of({0x00, 0x3C, 0x01, 0x00, 0x00, 0x7C})});
  file.tensors.push_back({"bf16", dtype::BF16, {1}, bytes_of({0x80, 0x3F})});
  const std::int32_t ints[] = {-2147483647 - 1, 7};
  file.tensors.push_back(gpt2::make_i32_tensor("i32", {2}, ints));
  file.tensors.push_back({"i64", dtype::I64, {1}, bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})});
  file.tensors.push_back({"u8", dtype::U8, {2, 2, 1}, bytes_of({0, 1, 254, 255})});
  file.tensors.push_back({"empty", dtype::F32, {0, 4}, {}});
  file.metadata = {{"format", "pt"}, {"note", "ünïcode \"quoted\""}};
  return file;
}

}  // namespace

TEST_CASE("a written file reads back byte for byte, every dtype and the metadata") {
  const gpt2_test::temporary_directory dir;
  const auto original = one_of_each_dtype();
  gpt2::write_safetensors(dir / "all.safetensors", original);
  const auto loaded = gpt2::read_safetensors(dir / "all.safetensors");
  REQUIRE(loaded.tensors.size() == original.tensors.size());
  for (std::size_t i = 0; i < original.tensors.size(); ++i) {
    CAPTURE(original.tensors[i].name);
    CHECK(loaded.tensors[i].name == original.tensors[i].name);
    CHECK(loaded.tensors[i].type == original.tensors[i].type);
    CHECK(loaded.tensors[i].shape == original.tensors[i].shape);
    CHECK(loaded.tensors[i].bytes == original.tensors[i].bytes);
  }
  CHECK(loaded.metadata == original.metadata);
}

TEST_CASE("the written layout follows the spec: length, space-padded header, contiguous data") {
  const gpt2_test::temporary_directory dir;
  gpt2::safetensors_file file;
  file.tensors.push_back({"a", dtype::U8, {3}, bytes_of({1, 2, 3})});
  file.tensors.push_back({"b", dtype::U8, {1}, bytes_of({9})});
  gpt2::write_safetensors(dir / "x.safetensors", file);
  const std::string raw = read_all(dir / "x.safetensors");
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]);
  const std::string expected_json =
      R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}})";
  // 105 bytes of JSON padded with seven spaces to 112, a multiple of 8.
  REQUIRE(expected_json.size() == 105);
  CHECK(length == 112);
  CHECK(raw.substr(8, 112) == expected_json + "       ");
  CHECK(raw.substr(120) == std::string("\x01\x02\x03\x09"));
}

TEST_CASE("half and bfloat16 convert to the floats they encode") {
  CHECK(gpt2::half_to_float(0x3C00) == 1.0f);
  CHECK(gpt2::half_to_float(0xC000) == -2.0f);
  CHECK(gpt2::half_to_float(0x7BFF) == 65504.0f);
  CHECK(gpt2::half_to_float(0x0001) == 0x1p-24f);
  CHECK(gpt2::half_to_float(0x03FF) == 1023.0f * 0x1p-24f);
  CHECK(gpt2::half_to_float(0x0400) == 0x1p-14f);
  CHECK(gpt2::half_to_float(0x3555) == 0x1.554p-2f);
  CHECK(std::signbit(gpt2::half_to_float(0x8000)));
  CHECK(gpt2::half_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(std::isnan(gpt2::half_to_float(0x7E00)));
  CHECK(gpt2::bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(gpt2::bfloat16_to_float(0xC0A0) == -5.0f);

  const auto file = one_of_each_dtype();
  CHECK(file.find("f16")->to_floats() == std::vector<float>{1.0f, 0x1p-24f, std::numeric_limits<float>::infinity()});
  CHECK(file.find("bf16")->to_floats() == std::vector<float>{1.0f});
  CHECK(file.find("i64")->to_integers() == std::vector<std::int64_t>{-1});
  CHECK(file.find("u8")->to_integers() == std::vector<std::int64_t>{0, 1, 254, 255});
  CHECK(file.find("i32")->to_integers() == std::vector<std::int64_t>{-2147483648LL, 7});
  CHECK_THROWS_AS((void)file.find("u8")->to_floats(), std::invalid_argument);
  CHECK_THROWS_AS((void)file.find("f32")->to_integers(), std::invalid_argument);
  CHECK(file.find("missing") == nullptr);
}

TEST_CASE("a bad file gets an error that names the file and the problem") {
  const gpt2_test::temporary_directory dir;
  const auto path = dir / "model.safetensors";
  const std::string good_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string good_data(8, '\x01');
  write_all(path, hand_made_file(good_header, good_data));
  REQUIRE(read_error(path).empty());

  struct bad_case { const char* what; std::string contents; const char* problem; };
  const bad_case cases[] = {
      {"shorter than 8 bytes", "\x05\x00\x00", "too short for the 8-byte header length"},
      {"corrupted header length", hand_made_file(good_header, good_data).replace(5, 1, "\x7f"),
       "is larger than the file"},
      {"invalid JSON", hand_made_file(R"({"w":{"dtype":"F32",)", good_data), "invalid JSON header"},
      {"JSON not an object", hand_made_file("[1,2]", ""), "not an object"},
      {"unknown dtype", hand_made_file(R"({"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", good_data),
       "unknown dtype 'Q7'"},
      {"shape/offset mismatch", hand_made_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", good_data),
       "does not match its 8 bytes"},
      {"offsets outside the buffer", hand_made_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", good_data),
       "outside the data buffer"},
      {"truncated data", hand_made_file(good_header, good_data.substr(0, 5)), "outside the data buffer of 5 bytes"},
      {"overlapping tensors",
       hand_made_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})", good_data),
       "overlapping data_offsets"},
      {"begin after end", hand_made_file(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[5,4]}})", good_data),
       "begin after they end"},
      {"missing field", hand_made_file(R"({"w":{"dtype":"U8","data_offsets":[0,1]}})", good_data), "missing \"shape\""},
      {"negative dimension", hand_made_file(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", good_data),
       "not a non-negative integer"},
      {"shape product overflows",
       hand_made_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", ""),
       "does not match"},
      {"metadata not strings", hand_made_file(R"({"__metadata__":{"n":1}})", ""), "'n' is not a string"},
      {"a number beyond double", hand_made_file(R"({"w":{"dtype":"U8","shape":[1e400],"data_offsets":[0,1]}})", good_data),
       "invalid JSON header"},
  };
  for (const auto& bad : cases) {
    CAPTURE(bad.what);
    write_all(path, bad.contents);
    const std::string message = read_error(path);
    CHECK(message.find("model.safetensors") != std::string::npos);
    CHECK(message.find(bad.problem) != std::string::npos);
    CHECK(message.rfind("pot: ", 0) == 0);
  }
  const std::string missing = read_error(dir / "absent.safetensors");
  CHECK(missing.find("absent.safetensors") != std::string::npos);
  CHECK(missing.find("cannot open") != std::string::npos);
}

TEST_CASE("writing rejects tensors that cannot be stored faithfully") {
  const gpt2_test::temporary_directory dir;
  gpt2::safetensors_file file;
  file.tensors.push_back({"a", dtype::F32, {3}, bytes_of({1, 2, 3, 4})});
  CHECK_THROWS_AS(gpt2::write_safetensors(dir / "x", file), std::invalid_argument);
  file.tensors = {{"a", dtype::U8, {1}, bytes_of({1})}, {"a", dtype::U8, {1}, bytes_of({2})}};
  CHECK_THROWS_AS(gpt2::write_safetensors(dir / "x", file), std::invalid_argument);
  file.tensors = {{"__metadata__", dtype::U8, {1}, bytes_of({1})}};
  CHECK_THROWS_AS(gpt2::write_safetensors(dir / "x", file), std::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(dir / "x"));
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("a failed save leaves the previous file intact and no temporary behind") {
  const gpt2_test::temporary_directory dir;
  const auto path = dir / "ckpt.safetensors";
  write_all(path, "previous contents");

  SUBCASE("the producer throws half way") {
    try {
      gpt2::atomic_file_writer writer(path);
      writer.write(std::as_bytes(std::span(std::string_view("half of the new"))));
      CHECK(std::filesystem::exists(writer.temporary_path()));
      throw std::runtime_error("simulated crash");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "simulated crash");
    }
  }
  SUBCASE("the rename fails because the target is a non-empty directory") {
    const auto blocked = dir / "blocked";
    std::filesystem::create_directory(blocked);
    write_all(blocked / "inside", "x");
    gpt2::safetensors_file file;
    file.tensors.push_back({"a", dtype::U8, {1}, bytes_of({1})});
    try {
      gpt2::write_safetensors(blocked, file);
      FAIL("the save into a directory's name should have failed");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("blocked") != std::string::npos);
    }
    CHECK(read_all(blocked / "inside") == "x");
    std::filesystem::remove_all(blocked);
  }
  SUBCASE("the directory does not exist") {
    gpt2::safetensors_file file;
    CHECK_THROWS_AS(gpt2::write_safetensors(dir / "no-such-dir" / "x.safetensors", file), std::runtime_error);
  }
  CHECK(read_all(path) == "previous contents");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);  // only the previous file: no "*.tmp.<pid>" left
}

TEST_CASE("a successful save replaces the previous file") {
  const gpt2_test::temporary_directory dir;
  const auto path = dir / "ckpt.safetensors";
  write_all(path, "previous contents");
  gpt2::write_safetensors(path, one_of_each_dtype());
  CHECK(gpt2::read_safetensors(path).tensors.size() == 7);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("an empty tensor reads back as no elements") {
  // An empty tensor has no storage; its elements come out without copying from it.
  const gpt2_test::temporary_directory dir;
  gpt2::safetensors_file file;
  file.tensors.push_back({"floats", dtype::F32, {0, 4}, {}});
  file.tensors.push_back({"halves", dtype::F16, {3, 0}, {}});
  file.tensors.push_back({"ints", dtype::I32, {0}, {}});
  gpt2::write_safetensors(dir / "empty.safetensors", file);
  const auto read = gpt2::read_safetensors(dir / "empty.safetensors");
  REQUIRE(read.tensors.size() == 3);
  CHECK(read.find("floats")->to_floats().empty());
  CHECK(read.find("halves")->to_floats().empty());
  CHECK(read.find("ints")->to_integers().empty());
}

TEST_CASE("a writer removes the temporaries that killed writers of its target left, and nothing else") {
  const gpt2_test::temporary_directory dir;
  const auto path = dir / "ckpt.safetensors";
  // A process id that is gone: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  const std::string dead = std::to_string(child), alive = std::to_string(::getppid());
  const std::string stale = "ckpt.safetensors.tmp." + dead;
  const std::string kept[] = {"ckpt.safetensors.tmp." + alive,      // its writer still runs
                              "ckpt.safetensors.tmp." + dead + "x",  // not a temporary's name
                              "ckpt.safetensors.tmp.0" + dead,       // not as a writer names it
                              "other.safetensors.tmp." + dead};      // another target's
  write_all(dir / stale, "half written");
  for (const auto& name : kept) write_all(dir / name, "keep");

  gpt2::atomic_file_writer writer(path);
  writer.write(std::as_bytes(std::span(std::string_view("new"))));
  writer.commit();
  CHECK(read_all(path) == "new");
  CHECK_FALSE(std::filesystem::exists(dir / stale));
  for (const auto& name : kept) {
    CAPTURE(name);
    CHECK(read_all(dir / name) == "keep");
  }
}

TEST_CASE("an output directory is created and checked for writing before a run needs it") {
  const gpt2_test::temporary_directory dir;
  gpt2::require_writable_directory(dir / "new" / "nested");
  CHECK(std::filesystem::is_directory(dir / "new" / "nested"));
  CHECK(std::filesystem::is_empty(dir / "new" / "nested"));  // the probe file is gone

  write_all(dir / "file", "x");
  for (const auto& not_a_directory : {dir / "file", dir / "file" / "below"}) {
    const std::string problem = not_a_directory.string() + ": cannot create the output directory";
    CHECK_THROWS_WITH_AS(gpt2::require_writable_directory(not_a_directory), doctest::Contains(problem.c_str()),
                         std::runtime_error);
  }
  // A directory nobody may create files in, not even root (tests often run as root, for
  // whom permission bits do not count).
  CHECK_THROWS_WITH_AS(gpt2::require_writable_directory("/proc"),
                       doctest::Contains("pot: /proc: cannot create files in the output directory"),
                       std::runtime_error);
}
