#include "netscope/seq/sa_table.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>

#include "netscope/util/hash.hpp"
#include <cstdio>
#include <cstring>

namespace netscope::seq {

std::string_view to_string(SaProtocol p) noexcept {
  switch (p) {
    case SaProtocol::macsec:
      return "macsec";
    case SaProtocol::esp:
      return "esp";
    case SaProtocol::ah:
      return "ah";
  }
  return "unknown";
}

std::uint64_t hash(const SaKey& k) noexcept { return util::hash_key(&k, sizeof k); }

bool sa_key_of(const decode::DecodedPacket& p, SaKey& key, std::uint32_t& seq32) noexcept {
  key = SaKey{};
  if (p.has(decode::kLayerMacsec)) {
    key.protocol = SaProtocol::macsec;
    key.an = p.sectag.an;
    if (p.sectag.has_sci) {
      key.sci = p.sectag.sci;
    } else {
      std::uint64_t mac = 0;
      for (std::uint8_t b : p.eth.src) {
        mac = (mac << 8) | b;
      }
      key.sci = (mac << 16) | 1u;
    }
    seq32 = p.sectag.pn;
    return true;
  }
  const bool esp = p.has(decode::kLayerEsp);
  const bool ah = p.has(decode::kLayerAh);
  if (!esp && !ah) {
    return false;
  }
  // AH outside ESP: the outer AH is the sequence space we see first.
  if (ah) {
    key.protocol = SaProtocol::ah;
    key.spi = p.ah.spi;
    seq32 = p.ah.seq;
  } else {
    key.protocol = SaProtocol::esp;
    key.spi = p.esp.spi;
    seq32 = p.esp.seq;
    key.udp_encap = p.has(decode::kLayerNatT) ? 1 : 0;
  }
  if (p.ip_version == 4) {
    key.ip_version = 4;
    key.dst = p.ipv4.dst.bytes;
  } else if (p.ip_version == 6) {
    key.ip_version = 6;
    key.dst = p.ipv6.dst.bytes;
  }
  return true;
}

std::string sci_text(std::uint64_t sci) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(sci));
  return buf;
}

std::string ip_text(const std::array<std::uint8_t, 16>& addr, std::uint8_t version) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (version == 4) {
    inet_ntop(AF_INET, addr.data(), buf, sizeof buf);
  } else if (version == 6) {
    inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  }
  return buf;
}

SaTable::SaTable(std::uint32_t capacity, const TrackerConfig& cfg) : cfg_(cfg) {
  max_size_ = std::max<std::uint32_t>(capacity, 16);
  capacity_ = std::bit_ceil(max_size_ * 2);
  mask_ = capacity_ - 1;
  words_ = window_words(cfg.window);
  entries_ = util::LargeArray<SaEntry>(max_size_);
  index_ = util::LargeArray<std::uint64_t>(capacity_);
  bitmaps_ = util::LargeArray<std::uint64_t>(static_cast<std::size_t>(max_size_) * words_);
  recent_ = util::LargeArray<std::uint64_t>(static_cast<std::size_t>(max_size_) * kRecentSeq);
}

std::uint32_t SaTable::recent(const SaEntry& e, std::span<std::uint64_t, kRecentSeq> out) const noexcept {
  const std::uint64_t* ring = recent_.get() + index_of(e) * kRecentSeq;
  const std::uint32_t n = e.recent_count;
  const std::uint32_t start = (e.recent_head + kRecentSeq - n) % kRecentSeq;
  for (std::uint32_t i = 0; i < n; ++i) out[i] = ring[(start + i) % kRecentSeq];
  return n;
}

void SaTable::reset(SaEntry& e, bool extended) noexcept {
  e.tracker.init(extended);
  e.bytes = 0;
  e.recent_head = 0;
  e.recent_count = 0;
  const std::span<std::uint64_t> b = bitmap(e);
  std::fill(b.begin(), b.end(), 0);
}

const SaEntry* SaTable::find(const SaKey& key, std::uint64_t h) const noexcept {
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;; i = (i + 1) & mask_) {
    const std::uint64_t s = index_[i];
    if (s == 0) return nullptr;
    if (static_cast<std::uint32_t>(s >> 32) == tag) {
      const SaEntry& e = entries_[static_cast<std::uint32_t>(s) - 1];
      if (e.key == key) return &e;
    }
  }
}

SaEntry* SaTable::find_or_insert(const SaKey& key, std::uint64_t h, bool& created) noexcept {
  created = false;
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;
  for (;; i = (i + 1) & mask_) {
    const std::uint64_t s = index_[i];
    if (s == 0) break;
    if (static_cast<std::uint32_t>(s >> 32) == tag) {
      SaEntry& e = entries_[static_cast<std::uint32_t>(s) - 1];
      if (e.key == key) [[likely]] return &e;
    }
  }
  if (size_ >= max_size_) return nullptr;
  SaEntry& e = entries_[size_];
  e.used = true;
  e.key = key;
  e.bytes = 0;
  e.recent_head = 0;
  e.recent_count = 0;
  e.tracker.init(false);
  ++size_;
  index_[i] = (static_cast<std::uint64_t>(tag) << 32) | size_;
  created = true;
  return &e;
}

const SaEntry* SaTable::previous_an(const SaKey& key) const noexcept {
  const SaEntry* best = nullptr;
  for (std::uint8_t an = 0; an < 4; ++an) {
    if (an == key.an) {
      continue;
    }
    SaKey other = key;
    other.an = an;
    const SaEntry* e = find(other, hash(other));
    if (e != nullptr && (best == nullptr || e->last_seen_ns > best->last_seen_ns)) {
      best = e;
    }
  }
  return best;
}

std::span<std::uint64_t> SaTable::bitmap(const SaEntry& e) noexcept {
  const auto idx = static_cast<std::size_t>(&e - entries_.get());
  return {bitmaps_.get() + idx * words_, words_};
}

std::span<const std::uint64_t> SaTable::bitmap(const SaEntry& e) const noexcept {
  const auto idx = static_cast<std::size_t>(&e - entries_.get());
  return {bitmaps_.get() + idx * words_, words_};
}

}  // namespace netscope::seq
