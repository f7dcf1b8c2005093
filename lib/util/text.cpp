#include "netscope/util/text.hpp"

#include <cstdio>
#include <ctime>

namespace netscope::util {

std::string rfc3339_ns(std::uint64_t unix_ns) {
  const std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000ull);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned long long>(unix_ns % 1000000000ull));
  return buf;
}

std::string human_count(double v) {
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (v >= 1000.0 && i < 4) {
    v /= 1000.0;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i == 0 ? "%.0f%s" : "%.2f%s", v, suffix[i]);
  return buf;
}

}  // namespace netscope::util
