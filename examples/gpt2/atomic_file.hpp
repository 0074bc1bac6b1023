/// \file
/// \brief Whole-file replacement that never leaves a partly written target.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace gpt2 {

/// \brief Writes a file under a temporary name and renames it over the target on commit().
///
/// The temporary is "<target>.tmp.<pid>" in the target's directory, so the final
/// std::filesystem::rename stays on one file system and is atomic: readers see either
/// the old file or the complete new one, even if the process dies mid-write. Data is
/// fsync()ed before the rename and the directory after it, so a power loss cannot
/// publish the name before the contents. A writer destroyed without a successful
/// commit() (an exception on the way) removes its temporary and leaves the target as
/// it was. A writer killed before commit() (SIGKILL, a crash) cannot remove its
/// temporary; the next writer of the same target removes every "<target>.tmp.<pid>"
/// whose process no longer runs.
class atomic_file_writer {
 public:
  /// \brief Creates the temporary file next to \p target.
  /// \throws std::runtime_error naming the temporary and the system error
  explicit atomic_file_writer(std::filesystem::path target);
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  /// \brief Removes the temporary unless commit() succeeded.
  ~atomic_file_writer();

  /// \brief Appends \p bytes to the temporary file.
  /// \throws std::runtime_error naming the file and the system error (e.g. disk full)
  void write(std::span<const std::byte> bytes);

  /// \brief Flushes, fsyncs and renames the temporary over the target.
  /// \throws std::runtime_error naming the file and the failed step
  void commit();

  /// \brief The temporary file's path (for diagnostics and tests).
  [[nodiscard]] const std::filesystem::path& temporary_path() const noexcept { return temporary_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  int descriptor_ = -1;
  bool committed_ = false;
};

/// \brief Creates \p directory if needed and checks that files can be created in it, so
/// that a long run finds an unusable output directory before it starts, not at its
/// first checkpoint.
/// \throws std::runtime_error "pot: <directory>: <problem>"
void require_writable_directory(const std::filesystem::path& directory);

}  // namespace gpt2
