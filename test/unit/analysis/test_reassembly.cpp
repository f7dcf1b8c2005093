#include "netscope/analysis/reassembly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "frames.hpp"

namespace netscope::analysis {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

constexpr std::uint64_t kSecond = 1'000'000'000ull;

struct Harness {
  explicit Harness(ReassemblyConfig cfg = {}) : r(cfg) {}

  FragmentVerdict add(const Buf& frame, std::uint64_t now = 0) {
    decode::DecodedPacket p;
    decode::decode_frame(decode::Bytes{frame.data(), frame.size()}, p);
    const FragmentVerdict v = r.add(decode::Bytes{frame.data(), frame.size()}, p, now, out);
    if (v == FragmentVerdict::complete) result.assign(out.frame.begin(), out.frame.end());
    return v;
  }

  /// The reassembled frame decoded again.
  decode::DecodedPacket decoded() const {
    decode::DecodedPacket p;
    decode::decode_frame(decode::Bytes{result.data(), result.size()}, p);
    return p;
  }

  /// Bytes after the IP header(s) of the reassembled frame.
  Buf payload(std::size_t ip_header_len) const {
    return Buf(result.begin() + out.l3_offset + static_cast<std::ptrdiff_t>(ip_header_len), result.end());
  }

  std::uint64_t drops(FragmentDrop d) const { return r.counters().drops[static_cast<std::size_t>(d)].value(); }

  Reassembler r;
  ReassembledDatagram out;
  Buf result;
};

TEST(Reassembly, NotAFragment) {
  Harness h;
  const Buf dg = udp_datagram(100);
  EXPECT_EQ(h.add(ipv4_fragment(V4{}, 0, false, dg)), FragmentVerdict::not_fragment);
  EXPECT_EQ(h.r.counters().fragments.value(), 0u);
  EXPECT_EQ(h.add(ethernet(0x0806)), FragmentVerdict::not_fragment);
}

TEST(Reassembly, Ipv4InOrder) {
  Harness h;
  const Buf dg = udp_datagram(3992);  // 4000 bytes of UDP
  const V4 v;
  EXPECT_EQ(h.add(ipv4_fragment(v, 0, true, slice(dg, 0, 1480))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 1480, true, slice(dg, 1480, 2960))), FragmentVerdict::held);
  EXPECT_EQ(h.r.in_progress(), 1u);
  ASSERT_EQ(h.add(ipv4_fragment(v, 2960, false, slice(dg, 2960, 4000))), FragmentVerdict::complete);
  EXPECT_EQ(h.out.fragments, 3u);
  EXPECT_EQ(h.out.ip_version, 4u);
  EXPECT_EQ(h.out.l3_offset, 14u);
  EXPECT_EQ(h.result.size(), 14u + 20u + 4000u);
  const decode::DecodedPacket p = h.decoded();
  EXPECT_EQ(p.malformed, decode::Malformed::none);  // includes the recomputed header checksum
  EXPECT_TRUE(p.has(decode::kLayerUdp));
  EXPECT_FALSE(p.has(decode::kLayerIpFragment));
  EXPECT_EQ(p.ipv4.total_length, 4020u);
  EXPECT_EQ(p.ipv4.id, v.id);
  EXPECT_EQ(p.udp.length, 4000u);
  EXPECT_EQ(h.payload(20), dg);
  EXPECT_EQ(h.r.in_progress(), 0u);
  EXPECT_EQ(h.r.counters().completed.value(), 1u);
  EXPECT_EQ(h.r.counters().fragments.value(), 3u);
  EXPECT_EQ(h.r.free_chunks(), 4096u);  // all chunks returned (4 MiB / 1 KiB)
}

TEST(Reassembly, Ipv4OutOfOrderWithDuplicateAndVlan) {
  Harness h;
  const Buf dg = udp_datagram(2992);
  V4 v;
  v.vlan = 42;
  EXPECT_EQ(h.add(ipv4_fragment(v, 2400, false, slice(dg, 2400, 3000))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, true, slice(dg, 800, 2400))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, true, slice(dg, 800, 2400))), FragmentVerdict::held);  // duplicate
  ASSERT_EQ(h.add(ipv4_fragment(v, 0, true, slice(dg, 0, 800))), FragmentVerdict::complete);
  EXPECT_EQ(h.r.counters().duplicates.value(), 1u);
  EXPECT_EQ(h.out.l3_offset, 18u);
  const decode::DecodedPacket p = h.decoded();
  EXPECT_EQ(p.vlan_count, 1u);
  EXPECT_EQ(p.vlans[0].vid, 42u);
  EXPECT_TRUE(p.has(decode::kLayerUdp));
  EXPECT_EQ(h.payload(20), dg);
}

TEST(Reassembly, InterleavedDatagramsByIdAndVlan) {
  Harness h;
  const Buf a = udp_datagram(1592, 3);
  const Buf b = udp_datagram(1592, 9);
  V4 va;
  V4 vb;
  vb.vlan = 7;  // same addresses and ID, another VLAN: another datagram
  EXPECT_EQ(h.add(ipv4_fragment(va, 0, true, slice(a, 0, 800))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(vb, 0, true, slice(b, 0, 800))), FragmentVerdict::held);
  EXPECT_EQ(h.r.in_progress(), 2u);
  ASSERT_EQ(h.add(ipv4_fragment(vb, 800, false, slice(b, 800, 1600))), FragmentVerdict::complete);
  EXPECT_EQ(h.payload(20), b);
  ASSERT_EQ(h.add(ipv4_fragment(va, 800, false, slice(a, 800, 1600))), FragmentVerdict::complete);
  EXPECT_EQ(h.payload(20), a);
}

TEST(Reassembly, OverlapRejectDropsTheDatagram) {
  Harness h;
  const Buf dg = udp_datagram(2992);
  const V4 v;
  EXPECT_EQ(h.add(ipv4_fragment(v, 0, true, slice(dg, 0, 1480))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 1000, true, slice(dg, 1000, 2480))), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::overlap), 1u);
  EXPECT_EQ(h.r.counters().fragments_dropped.value(), 2u);
  EXPECT_EQ(h.r.in_progress(), 0u);
  // What follows starts a new datagram, which never completes without its first part.
  EXPECT_EQ(h.add(ipv4_fragment(v, 2480, false, slice(dg, 2480, 3000))), FragmentVerdict::held);
  EXPECT_EQ(h.r.counters().completed.value(), 0u);
}

TEST(Reassembly, OverlapFirstWinsKeepsTheFirstBytes) {
  ReassemblyConfig cfg;
  cfg.overlap = OverlapPolicy::first_wins;
  Harness h(cfg);
  V4 v;
  v.protocol = 253;  // experimental: the bytes are not a transport header
  const Buf first(16, 'A');
  const Buf second(16, 'B');
  const Buf last(8, 'C');
  EXPECT_EQ(h.add(ipv4_fragment(v, 0, true, first)), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 8, true, second)), FragmentVerdict::held);  // overlaps 8..15
  ASSERT_EQ(h.add(ipv4_fragment(v, 24, false, last)), FragmentVerdict::complete);
  EXPECT_EQ(h.r.counters().overlaps_trimmed.value(), 1u);
  EXPECT_EQ(h.drops(FragmentDrop::overlap), 0u);
  Buf want(16, 'A');
  want.insert(want.end(), 8, 'B');
  want.insert(want.end(), 8, 'C');
  EXPECT_EQ(h.payload(20), want);
}

TEST(Reassembly, Timeout) {
  ReassemblyConfig cfg;
  cfg.timeout_ns = 30 * kSecond;
  Harness h(cfg);
  const Buf dg = udp_datagram(1592);
  const V4 v;
  EXPECT_EQ(h.add(ipv4_fragment(v, 0, true, slice(dg, 0, 800)), 0), FragmentVerdict::held);
  EXPECT_EQ(h.r.expire(29 * kSecond, 16), 0u);
  // The rest arrives too late: the old part is dropped and the late part starts anew.
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, false, slice(dg, 800, 1600)), 30 * kSecond), FragmentVerdict::held);
  EXPECT_EQ(h.drops(FragmentDrop::timeout), 1u);
  EXPECT_EQ(h.r.in_progress(), 1u);
  EXPECT_EQ(h.r.expire(60 * kSecond - 1, 16), 0u);
  EXPECT_EQ(h.r.expire(60 * kSecond, 16), 1u);
  EXPECT_EQ(h.drops(FragmentDrop::timeout), 2u);
  EXPECT_EQ(h.r.in_progress(), 0u);
  EXPECT_EQ(h.r.counters().fragments_dropped.value(), 2u);
  EXPECT_EQ(h.r.free_chunks(), 4096u);
}

TEST(Reassembly, TooManyDatagramsEvictsTheOldest) {
  ReassemblyConfig cfg;
  cfg.max_datagrams = 4;
  Harness h(cfg);
  const Buf dg = udp_datagram(1592);
  for (std::uint16_t id = 1; id <= 5; ++id) {
    V4 v;
    v.id = id;
    EXPECT_EQ(h.add(ipv4_fragment(v, 0, true, slice(dg, 0, 800)), id), FragmentVerdict::held);
  }
  EXPECT_EQ(h.drops(FragmentDrop::too_many_datagrams), 1u);
  EXPECT_EQ(h.r.in_progress(), 4u);
  V4 v;
  v.id = 1;  // evicted: its last part alone is held, not completed
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, false, slice(dg, 800, 1600)), 10), FragmentVerdict::held);
  EXPECT_EQ(h.drops(FragmentDrop::too_many_datagrams), 2u);  // id 2 made room
  v.id = 3;
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, false, slice(dg, 800, 1600)), 11), FragmentVerdict::complete);
}

TEST(Reassembly, BufferFullEvictsOlderDatagramsThenGivesUp) {
  ReassemblyConfig cfg;
  cfg.buffer_bytes = 4 * 1024;  // four chunks
  Harness h(cfg);
  const Buf big = udp_datagram(6000);
  V4 a;
  a.id = 1;
  V4 b;
  b.id = 2;
  EXPECT_EQ(h.add(ipv4_fragment(a, 0, true, slice(big, 0, 2400)), 1), FragmentVerdict::held);  // 3 chunks
  EXPECT_EQ(h.add(ipv4_fragment(b, 0, true, slice(big, 0, 2048)), 2), FragmentVerdict::held);  // 2 more: evicts a
  EXPECT_EQ(h.drops(FragmentDrop::buffer_full), 1u);
  EXPECT_EQ(h.r.in_progress(), 1u);
  // b alone cannot grow beyond the pool.
  EXPECT_EQ(h.add(ipv4_fragment(b, 2048, true, slice(big, 2048, 4096)), 3), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(b, 4096, true, slice(big, 4096, 5120)), 4), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::buffer_full), 2u);
  EXPECT_EQ(h.r.in_progress(), 0u);
  EXPECT_EQ(h.r.free_chunks(), 4u);
}

TEST(Reassembly, TooManyFragments) {
  ReassemblyConfig cfg;
  cfg.max_fragments = 4;
  Harness h(cfg);
  const Buf dg = udp_datagram(32);
  const V4 v;
  for (std::uint32_t off = 0; off < 32; off += 8) {
    EXPECT_EQ(h.add(ipv4_fragment(v, off, true, slice(dg, off, off + 8))), FragmentVerdict::held);
  }
  EXPECT_EQ(h.add(ipv4_fragment(v, 32, false, slice(dg, 32, 40))), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::too_many_fragments), 1u);
  EXPECT_EQ(h.r.counters().fragments_dropped.value(), 5u);
}

TEST(Reassembly, TooBigAndBadOffsets) {
  Harness h;
  const Buf dg = udp_datagram(2000);
  const V4 v;
  // A fragment ending past 65535 bytes (ping of death).
  EXPECT_EQ(h.add(ipv4_fragment(v, 65528, false, slice(dg, 0, 16))), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::too_big), 1u);
  // A non-last fragment whose length is not a multiple of 8.
  EXPECT_EQ(h.add(ipv4_fragment(v, 0, true, slice(dg, 0, 100))), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::bad_offset), 1u);
  // Two different ends.
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, false, slice(dg, 800, 1000))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, false, slice(dg, 800, 1200))), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::bad_offset), 2u);
  // Data beyond the known end.
  EXPECT_EQ(h.add(ipv4_fragment(v, 800, false, slice(dg, 800, 1000))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv4_fragment(v, 1600, true, slice(dg, 1600, 1800))), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::bad_offset), 3u);
  EXPECT_EQ(h.r.in_progress(), 0u);
}

TEST(Reassembly, Ipv6OutOfOrderAfterDestinationOptions) {
  Harness h;
  const Buf dg = udp_datagram(3992);
  V6 v;
  v.dest_opts = true;
  EXPECT_EQ(h.add(ipv6_fragment(v, 2904, false, slice(dg, 2904, 4000))), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv6_fragment(v, 0, true, slice(dg, 0, 1448))), FragmentVerdict::held);
  ASSERT_EQ(h.add(ipv6_fragment(v, 1448, true, slice(dg, 1448, 2904))), FragmentVerdict::complete);
  EXPECT_EQ(h.out.ip_version, 6u);
  EXPECT_EQ(h.result.size(), 14u + 40u + 8u + 4000u);  // the Fragment header is gone
  const decode::DecodedPacket p = h.decoded();
  EXPECT_EQ(p.malformed, decode::Malformed::none);
  EXPECT_FALSE(p.ipv6.fragment);
  EXPECT_FALSE(p.has(decode::kLayerIpFragment));
  EXPECT_EQ(p.ipv6.upper_protocol, 17u);
  EXPECT_EQ(p.ipv6.payload_length, 8u + 4000u);
  ASSERT_TRUE(p.has(decode::kLayerUdp));
  EXPECT_EQ(p.udp.length, 4000u);
  EXPECT_EQ(h.payload(48), dg);
}

TEST(Reassembly, Ipv6OverlapAndTimeout) {
  Harness h;
  const Buf dg = udp_datagram(2992);
  const V6 v;
  EXPECT_EQ(h.add(ipv6_fragment(v, 0, true, slice(dg, 0, 1448)), 0), FragmentVerdict::held);
  EXPECT_EQ(h.add(ipv6_fragment(v, 1440, true, slice(dg, 1440, 2888)), 1), FragmentVerdict::dropped);
  EXPECT_EQ(h.drops(FragmentDrop::overlap), 1u);
  EXPECT_EQ(h.add(ipv6_fragment(v, 0, true, slice(dg, 0, 1448)), 2), FragmentVerdict::held);
  EXPECT_EQ(h.r.expire(2 + 30 * kSecond, 8), 1u);
  EXPECT_EQ(h.drops(FragmentDrop::timeout), 1u);
}

TEST(Reassembly, Ipv6AtomicFragmentIsNotAFragment) {
  Harness h;
  const Buf dg = udp_datagram(100);
  EXPECT_EQ(h.add(ipv6_fragment(V6{}, 0, false, dg)), FragmentVerdict::not_fragment);
  EXPECT_EQ(h.r.in_progress(), 0u);
}

TEST(Reassembly, NamesAndMemory) {
  EXPECT_EQ(to_string(FragmentDrop::too_many_datagrams), "too_many_datagrams");
  EXPECT_EQ(to_string(FragmentDrop::bad_header), "bad_header");
  ReassemblyConfig cfg;
  cfg.max_datagrams = 64;
  cfg.buffer_bytes = 1 << 20;
  const Reassembler r(cfg);
  // The pool and the output frame, plus about 1.1 KiB per datagram slot.
  EXPECT_GT(r.memory_bytes(), (1u << 20) + 65535u + 64u * 1024u);
  EXPECT_LT(r.memory_bytes(), (1u << 20) + 65535u + 64u * 1280u);
}

}  // namespace
}  // namespace netscope::analysis
