// http_parse on arbitrary byte streams. Byte 0 chooses the direction (bit 0: response),
// whether the request direction is first primed with a pipeline holding HEAD and CONNECT
// (bit 1), and where the stream is cut into segments (bits 2-7). The rest is the stream.
//
// Contract checked besides memory safety (each segment is copied to a buffer of exactly
// its size): records stay inside their segment and their bounds; the same stream cut
// three ways (whole, at seeded points, byte by byte) gives the same completed heads,
// numbers and hashes, the same error at the same stream offset and the same final state;
// a head seen whole has hashes equal to the hashes of its copies; a failed direction
// reports nothing more.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "netscope/l7/http.hpp"

namespace {

namespace l7 = netscope::l7;
namespace hf = l7::http_flag;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

struct Summary {
  std::uint64_t content_length;
  std::uint32_t index, host_hash, uri_hash;
  std::uint16_t flags, status;
  l7::HttpMethod method;
  bool operator==(const Summary&) const = default;
};

struct Run {
  std::vector<Summary> heads;
  std::size_t head_count = 0;
  std::size_t dropped = 0;
  l7::HttpError error = l7::HttpError::none;
  std::size_t error_at = 0;  // stream offset
  std::uint32_t messages = 0;
  bool failed = false, tunnel = false, lost = false;
  bool operator==(const Run&) const = default;
};

constexpr std::string_view kPrime =
    "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nCONNECT b:443 HTTP/1.1\r\n\r\n";
constexpr std::uint16_t kSegmentation = hf::kHeadStart | hf::kHostTruncated | hf::kUriTruncated;

void check_records(const l7::HttpResult& r, std::span<const l7::HttpMessage> out, std::size_t size,
                   bool request, Run& run) {
  require(r.records <= out.size());
  require(r.pipelined <= r.heads);
  if (!r.ok()) require(r.error_offset < size && static_cast<std::size_t>(r.error) < l7::kHttpErrorCount);
  std::size_t completed = 0;
  for (std::size_t k = 0; k < r.records; ++k) {
    const l7::HttpMessage& m = out[k];
    require(m.offset <= m.end && m.end <= size);
    require(m.host_len <= l7::kHttpHostCopy && m.uri_len <= l7::kHttpUriCopy);
    require(m.has(hf::kRequest) == request);
    require(request || m.method == l7::HttpMethod::none);
    if (!m.has(hf::kHeadStart)) require(m.offset == 0);
    if (!m.has(hf::kComplete)) {
      require(k + 1 == r.records && r.dropped == 0);  // only the last record may be open
      continue;
    }
    ++completed;
    if (m.has(hf::kHeadStart)) {
      // The whole head was in this segment: the copies hash to the hashes.
      if (m.has(hf::kHasHost) && !m.has(hf::kHostTruncated)) {
        require(l7::name_hash_nocase(m.host_view()) == m.host_hash);
      }
      if (request && !m.has(hf::kUriTruncated)) require(l7::name_hash(m.uri_view()) == m.uri_hash);
    }
    if (!request) require(m.status >= 100 && m.status <= 999);
    run.heads.push_back({m.content_length, m.index, m.host_hash, m.uri_hash,
                         static_cast<std::uint16_t>(m.flags & ~kSegmentation), m.status, m.method});
  }
  if (r.dropped == 0) require(completed == r.heads);
}

Run parse(const std::uint8_t* data, std::size_t size, std::span<const std::size_t> cuts, bool response,
          bool prime) {
  l7::HttpSession s{};
  std::array<l7::HttpMessage, 32> out{};
  if (prime) {
    const std::vector<std::uint8_t> p(kPrime.begin(), kPrime.end());
    l7::http_parse(s, l7::HttpDirection::request, {p.data(), p.size()}, out);
  }
  const auto dir = response ? l7::HttpDirection::response : l7::HttpDirection::request;
  Run run;
  std::size_t start = 0;
  for (std::size_t c = 0; c <= cuts.size(); ++c) {
    const std::size_t end = c < cuts.size() ? cuts[c] : size;
    const std::vector<std::uint8_t> seg(data + start, data + end);  // exactly sized
    const l7::HttpResult r = l7::http_parse(s, dir, {seg.data(), seg.size()}, out);
    check_records(r, out, seg.size(), !response, run);
    run.head_count += r.heads;
    run.dropped += r.dropped;
    if (!r.ok()) {
      require(run.error == l7::HttpError::none);  // one error per stream
      run.error = r.error;
      run.error_at = start + r.error_offset;
    }
    if (run.error != l7::HttpError::none && r.ok()) require(r.records == 0 && r.heads == 0);
    start = end;
  }
  const l7::HttpParser& p = response ? s.response : s.request;
  run.messages = p.messages();
  run.failed = p.failed();
  run.tunnel = p.tunnel();
  run.lost = p.lost();
  require(run.failed == (run.error != l7::HttpError::none));
  require(p.error() == run.error);
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t ctl = data[0];
  const bool response = (ctl & 1) != 0;
  const bool prime = (ctl & 2) != 0;
  const std::uint8_t* stream = data + 1;
  const std::size_t n = size - 1;

  const Run whole = parse(stream, n, {}, response, prime);

  std::array<std::size_t, 3> cuts{};
  std::uint32_t h = 2166136261u ^ (ctl >> 2);
  for (std::size_t& c : cuts) {
    h = h * 16777619u + 0x9E3779B9u;
    c = n == 0 ? 0 : h % (n + 1);
  }
  std::sort(cuts.begin(), cuts.end());
  const Run split = parse(stream, n, cuts, response, prime);
  require(split.head_count == whole.head_count);
  require(split.error == whole.error && split.error_at == whole.error_at);
  require(split.messages == whole.messages && split.failed == whole.failed &&
          split.tunnel == whole.tunnel && split.lost == whole.lost);
  if (split.dropped == 0 && whole.dropped == 0) require(split.heads == whole.heads);

  if (n <= 512) {
    std::vector<std::size_t> every(n > 0 ? n - 1 : 0);
    for (std::size_t k = 0; k < every.size(); ++k) every[k] = k + 1;
    const Run bytes = parse(stream, n, every, response, prime);
    if (bytes.dropped == 0 && whole.dropped == 0) require(bytes == whole);
  }
  return 0;
}
