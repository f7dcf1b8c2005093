// IPv4 and IPv6 fragment reassembly with memory fixed at construction: a table of datagrams
// in progress, a pool of 1 KiB payload chunks shared by all of them, a timeout, an overlap
// policy, and a counter for every drop by reason. A completed datagram comes out as one
// contiguous frame (the first fragment's L2 header, the IP header rewritten as unfragmented,
// the whole payload) that decode_frame() decodes like any other frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "netscope/analysis/hash_index.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::analysis {

/// Why fragments were thrown away. Counted once per datagram (with the fragments it held)
/// or per lone fragment. Names are stable (metric labels, JSON keys).
#define NETSCOPE_FRAGMENT_DROPS(X)                                                        \
  X(timeout)            /* not complete within the timeout */                            \
  X(too_many_datagrams) /* table full: the oldest datagram was evicted for a new one */  \
  X(too_many_fragments) /* more fragments than max_fragments for one datagram */         \
  X(buffer_full)        /* chunk pool exhausted: oldest datagrams evicted, or this one */\
  X(overlap)            /* overlapping fragments, under OverlapPolicy::reject */         \
  X(too_big)            /* reassembled frame would exceed 65535 bytes */                 \
  X(bad_offset)         /* non-last fragment not a multiple of 8, empty, or past the end */\
  X(bad_header)         /* headers too long to keep, or IPv6 fragment header not found */

enum class FragmentDrop : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_FRAGMENT_DROPS(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kFragmentDropCount = static_cast<std::size_t>(FragmentDrop::count_);
std::string_view to_string(FragmentDrop d) noexcept;

/// What to do when a fragment overlaps bytes already received (exact duplicates of a
/// received fragment are always ignored and counted as duplicates).
enum class OverlapPolicy : std::uint8_t {
  reject,      ///< drop the whole datagram (RFC 5722 for IPv6, Linux since 4.19 for IPv4)
  first_wins,  ///< keep the bytes received first, take only the new bytes (BSD/Windows-like)
};

struct ReassemblyConfig {
  std::uint32_t max_datagrams = 1024;      ///< datagrams in progress at once
  std::uint32_t buffer_bytes = 4u << 20;   ///< payload pool shared by all (1 KiB chunks)
  std::uint16_t max_fragments = 64;        ///< fragments kept per datagram
  std::uint64_t timeout_ns = 30'000'000'000ull;  ///< from the first fragment (Linux ipfrag_time)
  OverlapPolicy overlap = OverlapPolicy::reject;
};

/// Counters; one writer (the owning lcore), readable from any thread.
struct ReassemblyCounters {
  util::Counter fragments;          ///< fragments offered to add()
  util::Counter completed;          ///< datagrams reassembled
  util::Counter duplicates;         ///< exact duplicate fragments ignored
  util::Counter overlaps_trimmed;   ///< fragments trimmed under first_wins
  util::Counter fragments_dropped;  ///< fragments discarded by all drops together
  std::array<util::Counter, kFragmentDropCount> drops;  ///< drop events by reason
};

enum class FragmentVerdict : std::uint8_t {
  not_fragment,  ///< not an IP fragment (or an IPv6 atomic fragment): use the frame as is
  held,          ///< kept; the datagram is not complete yet
  complete,      ///< this fragment completed a datagram: `out` is valid
  dropped,       ///< discarded (counted by reason); nothing to analyse
};

/// A reassembled datagram. `frame` points into the Reassembler and stays valid until the
/// next call to add() or expire().
struct ReassembledDatagram {
  decode::Bytes frame;          ///< L2 header + IP header (unfragmented) + whole payload
  std::uint16_t l3_offset = 0;  ///< where the IP header starts in `frame`
  std::uint16_t fragments = 0;  ///< fragments it was built from
  std::uint8_t ip_version = 0;
};

/// Reassembles fragments on one lcore. All memory is allocated by the constructor; add()
/// and expire() never allocate, never throw, and do work bounded by the configuration.
class Reassembler {
 public:
  static constexpr std::uint32_t kChunkBytes = 1024;
  static constexpr std::uint32_t kMaxPayload = 65535;       ///< bytes after the IP header(s)
  static constexpr std::uint32_t kMaxHeaderBytes = 192;     ///< L2 + IP headers kept per datagram
  static constexpr std::uint32_t kChunksPerDatagram = (kMaxPayload + kChunkBytes - 1) / kChunkBytes;

  explicit Reassembler(const ReassemblyConfig& cfg);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  /// Offers a decoded frame. Frames without kLayerIpFragment return not_fragment at once.
  /// The key is (source, destination, IP ID or IPv6 fragment ID, protocol, outer VLAN).
  /// `now_ns` also expires the datagram it finds when that one is too old.
  FragmentVerdict add(decode::Bytes frame, const decode::DecodedPacket& p, std::uint64_t now_ns,
                      ReassembledDatagram& out) noexcept;

  /// Drops datagrams older than the timeout, oldest first, at most `max_work`. Returns how
  /// many were dropped. Call it regularly (e.g. once per burst or per millisecond).
  std::uint32_t expire(std::uint64_t now_ns, std::uint32_t max_work) noexcept;

  [[nodiscard]] const ReassemblyCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint32_t in_progress() const noexcept { return used_; }
  [[nodiscard]] std::uint32_t free_chunks() const noexcept { return free_chunk_count_; }
  /// Bytes of memory held, for the memory budget.
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept;

 private:
  struct Key {
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, 16> dst{};
    std::uint32_t id = 0;
    std::uint16_t vlan = 0;
    std::uint8_t protocol = 0;
    std::uint8_t version = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  static_assert(sizeof(Key) == 40);
  struct Datagram;
  struct Range {
    std::uint32_t start;
    std::uint32_t end;
  };

  void drop(std::uint32_t slot, FragmentDrop why) noexcept;
  void release(std::uint32_t slot) noexcept;
  std::uint32_t allocate_slot(const Key& key, std::uint64_t h, std::uint64_t now_ns) noexcept;
  bool ensure_chunks(std::uint32_t slot, std::uint32_t start, std::uint32_t end) noexcept;
  void copy_in(std::uint32_t slot, std::uint32_t start, const std::uint8_t* src, std::uint32_t len) noexcept;
  FragmentVerdict finish(std::uint32_t slot, ReassembledDatagram& out) noexcept;
  void lru_unlink(std::uint32_t slot) noexcept;
  void lru_push_back(std::uint32_t slot) noexcept;

  ReassemblyConfig cfg_;
  std::uint32_t used_ = 0;
  std::uint32_t chunk_count_ = 0;
  std::uint32_t free_chunk_count_ = 0;
  std::uint32_t oldest_ = 0;  ///< slot + 1 of the oldest datagram (LRU head), 0 none
  std::uint32_t newest_ = 0;
  std::uint32_t free_slot_ = 0;  ///< free slot list through Datagram::next (slot + 1)
  std::unique_ptr<Datagram[]> slots_;
  std::unique_ptr<Range[]> ranges_;            ///< max_fragments per slot, sorted by start
  std::unique_ptr<std::uint8_t[]> headers_;    ///< kMaxHeaderBytes per slot
  std::unique_ptr<std::uint32_t[]> chunk_map_; ///< kChunksPerDatagram per slot: chunk + 1
  std::unique_ptr<std::uint8_t[]> chunks_;     ///< the payload pool
  std::unique_ptr<std::uint32_t[]> free_chunks_;  ///< stack of free chunk numbers
  std::unique_ptr<std::uint8_t[]> output_;     ///< one reassembled frame (65535 bytes)
  HashIndex index_;
  ReassemblyCounters counters_;
};

}  // namespace netscope::analysis
