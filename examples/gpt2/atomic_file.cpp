#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace gpt2 {

namespace {

[[noreturn]] void throw_system_error(const std::filesystem::path& file, const char* step) {
  throw std::runtime_error("pot: " + file.string() + ": " + step + " failed: " +
                           std::strerror(errno));
}

}  // namespace

atomic_file_writer::atomic_file_writer(std::filesystem::path target)
    : target_(std::move(target)),
      temporary_(target_.string() + ".tmp." + std::to_string(::getpid())) {
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
  std::filesystem::path directory = target_.parent_path();
  if (directory.empty()) directory = ".";
  const int directory_descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_descriptor >= 0) {
    ::fsync(directory_descriptor);
    ::close(directory_descriptor);
  }
}

}  // namespace gpt2
