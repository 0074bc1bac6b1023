#include "atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "strict_number.hpp"

namespace gpt2 {

namespace {

[[noreturn]] void throw_system_error(const std::filesystem::path& file, const char* step) {
  throw std::runtime_error("pot: " + file.string() + ": " + step + " failed: " +
                           std::strerror(errno));
}

std::filesystem::path directory_of(const std::filesystem::path& file) {
  const std::filesystem::path directory = file.parent_path();
  return directory.empty() ? "." : directory;
}

/// Whether process \p pid is gone. EPERM means it exists under another user.
bool process_is_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Removes "<target>.tmp.<pid>" files of writers that died before their commit (SIGKILL,
// a crash, power loss): their destructor never ran, and nothing else removes them. A
// temporary whose process still runs is left alone, and so is any other name. Best
// effort: a directory that cannot be listed leaves the open() below to report.
void remove_stale_temporaries(const std::filesystem::path& target) {
  const std::string prefix = target.filename().string() + ".tmp.";
  std::error_code error;
  try {
    for (const auto& entry : std::filesystem::directory_iterator(directory_of(target), error)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with(prefix)) continue;
      const std::string digits = name.substr(prefix.size());
      const auto pid = parse_strict_number<pid_t>(digits);
      if (!pid || *pid <= 0 || std::to_string(*pid) != digits || *pid == ::getpid()) continue;
      if (process_is_gone(*pid)) std::filesystem::remove(entry.path(), error);
    }
  } catch (const std::filesystem::filesystem_error&) {
    // The listing failed part way: what was left is removed by a later writer.
  }
}

}  // namespace

void require_writable_directory(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    throw std::runtime_error("pot: " + directory.string() + ": cannot create the output directory: " +
                             error.message());
  }
  const std::filesystem::path probe = directory / (".pot-write-test." + std::to_string(::getpid()));
  const int descriptor = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (descriptor < 0) {
    throw std::runtime_error("pot: " + directory.string() + ": cannot create files in the output directory: " +
                             std::strerror(errno));
  }
  ::close(descriptor);
  std::filesystem::remove(probe, error);
}

atomic_file_writer::atomic_file_writer(std::filesystem::path target)
    : target_(std::move(target)),
      temporary_(target_.string() + ".tmp." + std::to_string(::getpid())) {
  remove_stale_temporaries(target_);
  descriptor_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (descriptor_ < 0) throw_system_error(temporary_, "creating the temporary file");
}

atomic_file_writer::~atomic_file_writer() {
  if (descriptor_ >= 0) ::close(descriptor_);
  if (!committed_) {
    std::error_code ignored;  // a destructor must not throw; nothing better to do
    std::filesystem::remove(temporary_, ignored);
  }
}

void atomic_file_writer::write(std::span<const std::byte> bytes) {
  const std::byte* next = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ::ssize_t written = ::write(descriptor_, next, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_system_error(temporary_, "writing");
    }
    next += written;
    left -= static_cast<std::size_t>(written);
  }
}

void atomic_file_writer::commit() {
  if (::fsync(descriptor_) != 0) throw_system_error(temporary_, "fsync");
  const int closed = ::close(descriptor_);
  descriptor_ = -1;
  if (closed != 0) throw_system_error(temporary_, "closing");
  std::error_code error;
  std::filesystem::rename(temporary_, target_, error);
  if (error) {
    throw std::runtime_error("pot: " + target_.string() + ": cannot replace it with " +
                             temporary_.string() + ": " + error.message());
  }
  committed_ = true;
  // Persist the rename itself; the data is already safe, so a failure here is not fatal.
  const std::filesystem::path directory = directory_of(target_);
  const int directory_descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_descriptor >= 0) {
    ::fsync(directory_descriptor);
    ::close(directory_descriptor);
  }
}

}  // namespace gpt2
