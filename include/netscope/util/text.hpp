// Small formatting helpers shared by the report and the control plane.
#pragma once

#include <cstdint>
#include <string>

namespace netscope::util {

/// RFC 3339 UTC time with nanoseconds: "2026-11-22T01:02:03.000000123Z".
std::string rfc3339_ns(std::uint64_t unix_ns);

/// Human count with SI suffix: 1234567 -> "1.23M".
std::string human_count(double v);

}  // namespace netscope::util
