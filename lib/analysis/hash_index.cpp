#include "netscope/analysis/hash_index.hpp"

// util/hash.hpp multiplies in unsigned __int128, which -Wpedantic reports; the analysis
// headers call through this file so that only it sees that header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include "netscope/util/hash.hpp"
#pragma GCC diagnostic pop

namespace netscope::analysis {

std::uint64_t hash_bytes(const void* p, std::size_t n) noexcept { return util::hash_key(p, n); }

}  // namespace netscope::analysis
