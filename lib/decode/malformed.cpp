#include <array>

#include "netscope/decode/packet.hpp"

namespace netscope::decode {

namespace {

constexpr std::array<std::string_view, kMalformedCount + 1> kNames = {
#define NETSCOPE_X(name) std::string_view{#name},
    NETSCOPE_MALFORMED_REASONS(NETSCOPE_X)
#undef NETSCOPE_X
        std::string_view{"unknown"},
};

}  // namespace

std::string_view to_string(Malformed m) noexcept {
  const auto i = static_cast<std::size_t>(m);
  return i < kMalformedCount ? kNames[i] : kNames[kMalformedCount];
}

}  // namespace netscope::decode
