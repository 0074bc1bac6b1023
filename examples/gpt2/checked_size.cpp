#include "checked_size.hpp"

#include <unistd.h>

#include <cstdio>

namespace gpt2 {

checked_size checked_product(std::span<const std::size_t> dimensions) {
  checked_size product = 1;
  for (const std::size_t dimension : dimensions) product *= dimension;
  return product;
}

std::size_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return std::numeric_limits<std::size_t>::max();  // unknown: no bound
  try {
    return (checked_size(static_cast<std::size_t>(pages)) * static_cast<std::size_t>(page_size)).value();
  } catch (const std::overflow_error&) {
    return std::numeric_limits<std::size_t>::max();
  }
}

std::string format_bytes(double bytes) {
  if (bytes < 1000) return std::to_string(static_cast<unsigned>(bytes)) + " bytes";
  constexpr const char* units[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB"};
  std::size_t unit = 0;
  bytes /= 1000;
  while (bytes >= 1000 && unit + 1 < std::size(units)) bytes /= 1000, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", bytes, units[unit]);
  return text;
}

void require_memory(checked_size bytes, std::string_view what) {
  const std::size_t memory = physical_memory_bytes();
  if (bytes.value() <= memory) return;
  throw std::length_error("pot: " + std::string(what) + " needs " +
                          format_bytes(static_cast<double>(bytes.value())) + ", more than this machine's " +
                          format_bytes(static_cast<double>(memory)) + " of memory");
}

}  // namespace gpt2
