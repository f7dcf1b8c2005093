#include "netscope/engine/worker.hpp"

#include <gtest/gtest.h>

#include "frame_builder.hpp"

namespace netscope::engine {
namespace {

namespace tf = decode::test_frames;

/// Reference Toeplitz: bit-serial over a 40-byte key (as rte_softrss).
std::uint32_t toeplitz_reference(const std::vector<std::uint8_t>& in) {
  std::uint8_t key[40];
  for (int i = 0; i < 40; i += 2) {
    key[i] = 0x6D;
    key[i + 1] = 0x5A;
  }
  std::uint32_t h = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      if (in[i] & (0x80 >> b)) {
        const std::size_t bit = i * 8 + static_cast<std::size_t>(b);
        std::uint32_t w = 0;
        for (int k = 0; k < 32; ++k) {
          const std::size_t kb = bit + static_cast<std::size_t>(k);
          w = (w << 1) | ((key[(kb / 8) % 40] >> (7 - kb % 8)) & 1u);
        }
        h ^= w;
      }
    }
  }
  return h;
}

TEST(Shard, ToeplitzMatchesBitSerialReference) {
  std::vector<std::uint8_t> in;
  for (int len = 0; len < 37; ++len) {
    EXPECT_EQ(toeplitz_6d5a(in), toeplitz_reference(in)) << len;
    in.push_back(static_cast<std::uint8_t>(len * 37 + 11));
  }
}

decode::DecodedPacket decoded(const tf::Buf& f) {
  decode::DecodedPacket p;
  decode::decode_frame(tf::span(f), p);
  return p;
}

TEST(Shard, BothDirectionsOfAFlowHashAlike) {
  const tf::Buf t = tf::tcp(40000, 443, 1, 1, 0x10);
  tf::Buf fwd = tf::cat({tf::ethernet(0x0800), tf::ipv4(6, t.size()), t});
  tf::Buf rev = fwd;
  // Swap addresses and ports in place.
  for (int i = 0; i < 4; ++i) std::swap(rev[14 + 12 + i], rev[14 + 16 + i]);
  std::swap(rev[34], rev[36]);
  std::swap(rev[35], rev[37]);
  tf::fix_ipv4_checksum(rev, 14);
  EXPECT_EQ(shard_hash(decoded(fwd)), shard_hash(decoded(rev)));
  const tf::Buf other_t = tf::tcp(40001, 443, 1, 1, 0x10);
  const tf::Buf other = tf::cat({tf::ethernet(0x0800), tf::ipv4(6, other_t.size()), other_t});
  EXPECT_NE(shard_hash(decoded(fwd)), shard_hash(decoded(other)));
}

TEST(Shard, AllPacketsOfAnSaHashAlike) {
  auto esp = [](std::uint32_t spi, std::uint32_t seq) {
    return tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 16), tf::esp(spi, seq), tf::payload(16)});
  };
  EXPECT_EQ(shard_hash(decoded(esp(7, 1))), shard_hash(decoded(esp(7, 99))));
  EXPECT_NE(shard_hash(decoded(esp(7, 1))), shard_hash(decoded(esp(8, 1))));
  auto macsec = [](std::uint8_t an, std::uint32_t pn) {
    return tf::cat({tf::ethernet(0x88E5), tf::sectag(tf::tci::kSc | tf::tci::kE | tf::tci::kC, an, 0, pn),
                    tf::payload(40), tf::icv()});
  };
  EXPECT_EQ(shard_hash(decoded(macsec(0, 1))), shard_hash(decoded(macsec(1, 5))))
      << "one SCI: every AN on one core, so rekeys are seen";
}

TEST(Worker, FlowRecordsOnExpiryEvictionAndFlush) {
  EngineConfig cfg;
  cfg.sensors.enabled = false;  // flush() then counts flows only
  cfg.max_flows = 16;
  cfg.timeouts.idle_ns = 1000;
  CollectingSink sink(1000, 1000);
  Worker w(cfg, sink);
  auto udp = [](std::uint16_t sport) {
    return tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 4), tf::udp(sport, 53, 4), tf::payload(4)});
  };
  for (std::uint16_t i = 0; i < 20; ++i) {
    const tf::Buf f = udp(static_cast<std::uint16_t>(1000 + i));
    w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 100 + i, 0, i);
  }
  EXPECT_EQ(w.counters().flows_evicted.value(), 4u);
  ASSERT_EQ(sink.flows.size(), 4u);
  EXPECT_EQ(sink.flows[0].reason, flow::EndReason::table_full);
  EXPECT_EQ(sink.flows[0].key.port_a, 1000u);  // the least recently used
  w.maintain(100 + 4 + 1000);  // flows last seen at <= 104 expire
  EXPECT_EQ(w.counters().flows_expired.value(), 1u);
  EXPECT_EQ(sink.flows.back().reason, flow::EndReason::idle_timeout);
  EXPECT_EQ(w.flush(), 15u);
  EXPECT_EQ(sink.flows.size(), 20u);
  EXPECT_EQ(sink.flows.back().reason, flow::EndReason::shutdown);
}

TEST(Worker, WrongLcoreCountsPacketsOwnedElsewhere) {
  EngineConfig cfg;
  cfg.worker_count = 4;
  CollectingSink sink(100, 100);
  std::uint64_t wrong = 0;
  for (std::uint16_t idx = 0; idx < 4; ++idx) {
    cfg.worker_index = idx;
    Worker w(cfg, sink);
    for (std::uint32_t spi = 1; spi <= 40; ++spi) {
      const tf::Buf f = tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 16), tf::esp(spi, 1), tf::payload(16)});
      w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 0, 0, 0);
    }
    wrong += w.counters().wrong_lcore.value();
  }
  EXPECT_EQ(wrong, 3u * 40u) << "each packet is owned by exactly one of the four workers";
}

/// Keeps what a worker hands out, including the packet tap and SA summaries.
class TapSink final : public RecordSink {
 public:
  bool on_flow(const FlowRecord&) noexcept override { return true; }
  bool on_event(const AnomalyEvent& e) noexcept override {
    events.push_back(e);
    return true;
  }
  bool on_sa(const SaSummary& s) noexcept override {
    sas.push_back(s);
    return true;
  }
  bool on_packet(const PacketSummary& p) noexcept override {
    if (packets.size() >= refuse_after) return false;
    packets.push_back(p);
    return true;
  }
  std::vector<AnomalyEvent> events;
  std::vector<SaSummary> sas;
  std::vector<PacketSummary> packets;
  std::size_t refuse_after = 1000;
};

tf::Buf esp_frame(std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 16), tf::esp(spi, seq), tf::payload(16)});
}

TEST(Worker, PacketTapEmitsOnlyWithinTheGrantAndCarriesVerdicts) {
  EngineConfig cfg;
  TapSink sink;
  Worker w(cfg, sink);
  const std::uint32_t seqs[] = {1, 2, 4, 3, 3, 5};
  std::uint64_t i = 0;
  for (const std::uint32_t s : seqs) {
    const tf::Buf f = esp_frame(7, s);
    w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 10 + i, 0, i);
    ++i;
  }
  EXPECT_TRUE(sink.packets.empty()) << "no grant, no tap";
  w.grant_tap(w.counters().tap_packets.value() + 4);
  for (const std::uint32_t s : seqs) {
    const tf::Buf f = esp_frame(8, s);
    w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 10 + i, 0, i);
    ++i;
  }
  ASSERT_EQ(sink.packets.size(), 4u) << "exactly the granted number";
  EXPECT_EQ(w.counters().tap_packets.value(), 4u);
  const PacketVerdict want[] = {PacketVerdict::in_order, PacketVerdict::in_order, PacketVerdict::gap,
                                PacketVerdict::reordered};
  for (std::size_t k = 0; k < 4; ++k) {
    const PacketSummary& p = sink.packets[k];
    EXPECT_TRUE(p.has_sa);
    EXPECT_EQ(p.sa.spi, 8u);
    EXPECT_EQ(p.seq, seqs[k]);
    EXPECT_EQ(p.verdict, want[k]) << k << ": " << to_string(p.verdict);
    EXPECT_EQ(p.cls, TrafficClass::esp);
    EXPECT_EQ(p.packet_index, 6 + k);
  }
  // A refusing sink is counted, not lost silently.
  sink.refuse_after = 4;
  w.grant_tap(w.counters().tap_packets.value() + 2);
  const tf::Buf f = esp_frame(8, 6);
  w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 100, 0, 99);
  EXPECT_EQ(w.counters().tap_dropped.value(), 1u);
}

TEST(Worker, RecentNumbersResetAndRestore) {
  EngineConfig cfg;
  TapSink sink;
  Worker w(cfg, sink);
  for (std::uint32_t s = 1; s <= 20; ++s) {
    if (s == 10) continue;  // one lost
    const tf::Buf f = esp_frame(9, s);
    w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), s, 0, s);
  }
  w.publish_all_sas();
  ASSERT_EQ(sink.sas.size(), 1u);
  SaSummary saved = sink.sas.back();
  ASSERT_EQ(saved.recent_count, seq::kRecentSeq);
  EXPECT_EQ(saved.recent[0], 20u - seq::kRecentSeq);  // 4..20 without 10, oldest first
  EXPECT_EQ(saved.recent[seq::kRecentSeq - 1], 20u);
  EXPECT_EQ(saved.counters.lost, 1u);

  // Reset through the mailbox: applied at the next maintain(), state starts again.
  ASSERT_TRUE(w.request_sa_reset(saved.key));
  w.maintain(30);
  EXPECT_EQ(w.counters().sa_resets.value(), 1u);
  ASSERT_EQ(sink.sas.size(), 2u);
  EXPECT_EQ(sink.sas.back().counters.packets, 0u);
  EXPECT_EQ(sink.sas.back().recent_count, 0u);
  const std::size_t events_before = sink.events.size();
  const tf::Buf f = esp_frame(9, 500);
  w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 40, 0, 40);
  EXPECT_EQ(sink.events.size(), events_before) << "the first packet after a reset re-baselines";

  // Restore into a fresh worker: tracking continues with no false gap or duplicate.
  TapSink sink2;
  Worker w2(cfg, sink2);
  ASSERT_TRUE(w2.restore_sa(saved));
  for (std::uint32_t s = 21; s <= 25; ++s) {
    const tf::Buf g = esp_frame(9, s);
    w2.process(tf::span(g), static_cast<std::uint32_t>(g.size()), 100 + s, 0, s);
  }
  EXPECT_TRUE(sink2.events.empty());
  w2.publish_all_sas();
  ASSERT_EQ(sink2.sas.size(), 1u);
  EXPECT_EQ(sink2.sas[0].counters.packets, saved.counters.packets + 5);
  EXPECT_EQ(sink2.sas[0].counters.lost, 1u);
  EXPECT_EQ(sink2.sas[0].highest_seq, 25u);
  // A replayed old number is a duplicate, as it would have been without the restart.
  const tf::Buf d = esp_frame(9, 20);
  w2.process(tf::span(d), static_cast<std::uint32_t>(d.size()), 200, 0, 26);
  ASSERT_EQ(sink2.events.size(), 1u);
  EXPECT_EQ(sink2.events[0].type, seq::EventType::duplicate);
}

}  // namespace
}  // namespace netscope::engine
