#include "netscope/packet/truth.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace netscope::packet {

SequenceTruth::SequenceTruth(const TruthConfig& config) noexcept : cfg_(config) {
  cfg_.window = std::clamp(cfg_.window, kMinWindow, kMaxWindow);
  if (cfg_.reset_threshold == 0) cfg_.reset_threshold = 1;
}

void SequenceTruth::set_seen(std::uint64_t n, bool v) noexcept {
  auto& word = bits_[(n % kBits) / 64];
  const std::uint64_t mask = std::uint64_t{1} << (n % 64);
  word = v ? (word | mask) : (word & ~mask);
}

std::uint64_t SequenceTruth::extend(std::uint32_t seq32) noexcept {
  const std::uint64_t h = c_.highest_seq;
  const std::uint64_t hi = h >> 32;
  auto dist = [h](std::uint64_t x) { return x > h ? x - h : h - x; };
  std::uint64_t best = (hi << 32) | seq32;
  std::uint64_t best_d = dist(best);
  if (hi > 0) {
    const std::uint64_t c = ((hi - 1) << 32) | seq32;
    if (dist(c) < best_d) best = c, best_d = dist(c);
  }
  if (hi < 0xFFFFFFFFu) {
    const std::uint64_t c = ((hi + 1) << 32) | seq32;
    if (dist(c) < best_d) best = c, best_d = dist(c);
  }
  return best;
}

void SequenceTruth::baseline(std::uint64_t seq) noexcept {
  if (!has_origin_) {
    origin_ = seq;
    has_origin_ = true;
  }
  c_.first_seq = c_.highest_seq = seq;
  bits_.fill(0);
  set_seen(seq, true);
  last_ = seq;
  run_ = 1;
  stuck_reported_ = false;
}

std::uint64_t SequenceTruth::open_holes() const noexcept {
  const std::uint64_t h = c_.highest_seq;
  const std::uint64_t low = h + 1 >= cfg_.window ? h + 1 - cfg_.window : 0;
  std::uint64_t holes = 0;
  // Numbers below first_seq count as seen: they were never expected.
  for (std::uint64_t n = std::max(low, c_.first_seq); n < h; ++n) holes += seen(n) ? 0 : 1;
  return holes;
}

void SequenceTruth::slide_to(std::uint64_t s) noexcept {
  const std::uint64_t h = c_.highest_seq;
  const std::uint64_t w = cfg_.window;
  const std::uint64_t old_low = h + 1 >= w ? h + 1 - w : 0;
  if (s >= w) {
    // Numbers leaving the window unseen are lost: first the old window's holes ...
    const std::uint64_t leave_end = std::min(h, s - w);  // inclusive
    for (std::uint64_t n = std::max(old_low, c_.first_seq); n <= leave_end; ++n) {
      c_.lost += seen(n) ? 0 : 1;
    }
    // ... then the skipped numbers that fall behind the new window at once.
    if (s - w > h) c_.lost += s - w - h;
  }
  const std::uint64_t new_low = s + 1 >= w ? s + 1 - w : 0;
  for (std::uint64_t n = std::max(h + 1, new_low); n < s; ++n) set_seen(n, false);
  set_seen(s, true);
  c_.highest_seq = s;
}

std::uint64_t SequenceTruth::observe(std::uint32_t seq32, std::uint64_t frame_bytes) noexcept {
  ++c_.packets;
  c_.bytes += frame_bytes;
  if (c_.packets == 1) {  // rule 1
    baseline(seq32);
    return seq32;
  }
  std::uint64_t s = extend(seq32);
  const std::uint64_t h = c_.highest_seq;
  bool reset = false;
  if (s > h) {
    const std::uint64_t delta = s - h;
    const bool crossing = (s >> 32) > (h >> 32);
    if (delta >= kMaxForward) {
      reset = true;  // a jump this far ahead is a restart, not loss
    } else if (crossing && !extended_ && delta >= cfg_.reset_threshold) {
      // Crossing 2^32 far from zero without extended numbering: the SA restarted. The
      // new baseline stays in the current epoch.
      reset = true;
      s = (h & ~std::uint64_t{0xFFFFFFFF}) | seq32;
    } else {  // rule 3
      if (crossing) {
        ++c_.rollovers;
        extended_ = true;
      }
      if (delta > 1) ++c_.gaps;
      slide_to(s);
    }
  } else if (s == h) {  // rule 2
    ++c_.duplicates;
  } else {
    const std::uint64_t behind = h - s;
    if (behind < cfg_.window) {  // rule 4
      if (s < c_.first_seq) {
        // Late from before the first packet: the numbers between it and the old first
        // number were sent too and become holes (their bits are clear).
        if (origin_ == c_.first_seq) origin_ = s;
        c_.first_seq = s;
        set_seen(s, true);
        ++c_.reordered;
      } else if (seen(s)) {
        ++c_.duplicates;
      } else {
        set_seen(s, true);
        ++c_.reordered;
      }
    } else if (behind < cfg_.reset_threshold) {  // rule 5
      ++c_.out_of_window;
    } else {  // rule 6
      reset = true;
    }
  }
  if (reset) {
    c_.lost += open_holes();
    ++c_.resets;
    baseline(s);
    return s;
  }
  // Stuck: S consecutive packets of this SA carrying the same number, once per such run.
  if (s == last_) {
    if (++run_ >= cfg_.stuck_threshold && !stuck_reported_) {
      stuck_reported_ = true;
      ++c_.stuck;
    }
  } else {
    last_ = s;
    run_ = 1;
    stuck_reported_ = false;
  }
  return s;
}

void SequenceTruth::finish() noexcept {
  if (finished_ || c_.packets == 0) return;
  c_.lost += open_holes();
  finished_ = true;
}

TruthModel::TruthModel(const TruthConfig& config) : cfg_(config) {}

std::size_t TruthModel::sa(const SaId& id, bool absolute_seq) {
  const auto [it, inserted] = index_.try_emplace(id.key(), sas_.size());
  if (inserted) sas_.push_back(Entry{id, absolute_seq, SequenceTruth(cfg_), 0});
  return it->second;
}

void TruthModel::observe(std::size_t index, std::uint32_t seq32,
                         std::uint64_t frame_bytes) noexcept {
  Entry& e = sas_[index];
  if (!e.seq.started() && e.id.protocol == SaProtocol::macsec) {
    // A new AN of an SCI whose most recently seen other AN is already past this PN.
    const Entry* prev = nullptr;
    for (const Entry& other : sas_) {
      if (&other != &e && other.id.protocol == SaProtocol::macsec && other.id.sci == e.id.sci &&
          other.seq.started() && (prev == nullptr || other.last_packet > prev->last_packet)) {
        prev = &other;
      }
    }
    if (prev != nullptr && seq32 < prev->seq.highest()) e.seq.count_rekey();
  }
  e.last_packet = ++packets_;
  e.seq.observe(seq32, frame_bytes);
}

void TruthModel::finish() noexcept {
  for (Entry& e : sas_) e.seq.finish();
}

std::string ip_to_string(const decode::IpAddr& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(ip.version == 6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof buf) ==
      nullptr) {
    return {};
  }
  return buf;
}

std::string TruthModel::to_json() const {
  nlohmann::ordered_json sas = nlohmann::ordered_json::array();
  for (const Entry& e : sas_) {
    nlohmann::ordered_json o;
    switch (e.id.protocol) {
      case SaProtocol::macsec: {
        char sci[17];
        std::snprintf(sci, sizeof sci, "%016llx", static_cast<unsigned long long>(e.id.sci));
        o["protocol"] = "macsec";
        o["sci"] = sci;
        o["an"] = e.id.an;
        break;
      }
      case SaProtocol::esp:
        o["protocol"] = "esp";
        o["spi"] = e.id.spi;
        o["dst"] = ip_to_string(e.id.dst);
        o["udp_encap"] = e.id.udp_encap;
        break;
      case SaProtocol::ah:
        o["protocol"] = "ah";
        o["spi"] = e.id.spi;
        o["dst"] = ip_to_string(e.id.dst);
        break;
    }
    const SaCounters& c = e.seq.counters();
    o["packets"] = c.packets;
    o["bytes"] = c.bytes;
    if (e.absolute_seq) {
      o["first_seq"] = e.seq.reported_first();
      o["highest_seq"] = c.highest_seq;
    }
    o["lost"] = c.lost;
    o["gaps"] = c.gaps;
    o["duplicates"] = c.duplicates;
    o["reordered"] = c.reordered;
    o["out_of_window"] = c.out_of_window;
    o["rollovers"] = c.rollovers;
    o["resets"] = c.resets;
    o["rekeys"] = c.rekeys;
    o["stuck"] = c.stuck;
    sas.push_back(std::move(o));
  }
  nlohmann::ordered_json root;
  root["version"] = 1;
  root["sas"] = std::move(sas);
  return root.dump(2) + "\n";
}

}  // namespace netscope::packet
