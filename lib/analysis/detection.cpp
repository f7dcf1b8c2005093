#include "netscope/analysis/detection.hpp"

#include <algorithm>
#include <cmath>

namespace netscope::analysis {

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ull;

HostPairKey pair_key(const decode::IpAddr& a, const decode::IpAddr& b, std::uint16_t vlan) noexcept {
  HostPairKey k;
  k.a = a.bytes;
  k.b = b.bytes;
  k.version = a.version;
  k.vlan = vlan;
  return k;
}

/// Adds `v` to the set [set, set + count) unless present; returns the new count. The
/// caller guarantees room for one more.
std::uint32_t add_distinct(std::uint32_t* set, std::uint32_t count, std::uint32_t v) noexcept {
  for (std::uint32_t i = 0; i < count; ++i) {
    if (set[i] == v) return count;
  }
  set[count] = v;
  return count + 1;
}

}  // namespace

struct Detector::SynEntry {
  HostKey key;
  std::uint64_t last_ns = 0;
  std::uint64_t second = 0;  ///< calendar second the counts belong to
  std::uint32_t attempts = 0;
  std::uint32_t completed = 0;
  std::uint64_t quiet_until_ns = 0;
};

struct Detector::ScanEntry {
  HostPairKey key;  ///< (scanner, victim)
  std::uint64_t last_ns = 0;
  std::uint64_t window_start_ns = 0;
  std::uint32_t count = 0;  ///< distinct ports in port_sets_
  bool alerted = false;
};

struct Detector::HostScanEntry {
  HostKey key;  ///< scanner, with the port in `extra`
  std::uint64_t last_ns = 0;
  std::uint64_t window_start_ns = 0;
  std::uint32_t count = 0;  ///< distinct host fingerprints in host_sets_
  bool alerted = false;
};

struct Detector::DdosEntry {
  HostKey key;
  std::uint64_t last_ns = 0;
  std::uint64_t second = 0;
  std::uint64_t quiet_until_ns = 0;
  double baseline = 0;       ///< EWMA of packets per second over learned seconds
  std::uint32_t packets = 0; ///< in `second`
  std::uint32_t learned = 0; ///< seconds in the baseline
  bool over = false;         ///< `second` crossed the threshold: left out of the baseline
};

Detector::Detector(const DetectionConfig& cfg, AlertRing& alerts) : cfg_(cfg), alerts_(alerts) {
  cfg_.port_scan_ports = std::clamp<std::uint32_t>(cfg_.port_scan_ports, 1, kMaxScanThreshold);
  cfg_.host_scan_hosts = std::clamp<std::uint32_t>(cfg_.host_scan_hosts, 1, kMaxScanThreshold);
  cfg_.ddos_alpha = std::clamp(cfg_.ddos_alpha, 0.0, 1.0);
  syn_ = std::make_unique<BucketTable<HostKey, SynEntry>>(cfg_.syn_destinations);
  port_scan_ = std::make_unique<BucketTable<HostPairKey, ScanEntry>>(cfg_.port_scan_pairs);
  host_scan_ = std::make_unique<BucketTable<HostKey, HostScanEntry>>(cfg_.host_scan_keys);
  ddos_ = std::make_unique<BucketTable<HostKey, DdosEntry>>(cfg_.ddos_destinations);
  port_sets_ = std::make_unique<std::uint32_t[]>(port_scan_->capacity() * cfg_.port_scan_ports);
  host_sets_ = std::make_unique<std::uint32_t[]>(host_scan_->capacity() * cfg_.host_scan_hosts);
}

Detector::~Detector() = default;

std::uint64_t Detector::memory_bytes() const noexcept {
  return syn_->memory_bytes() + port_scan_->memory_bytes() + host_scan_->memory_bytes() + ddos_->memory_bytes() +
         sizeof(std::uint32_t) * (port_scan_->capacity() * cfg_.port_scan_ports +
                                  host_scan_->capacity() * cfg_.host_scan_hosts);
}

void Detector::raise(Alert& a) noexcept {
  a.severity = cfg_.severity[static_cast<std::size_t>(a.type)];
  counters_.alerts[static_cast<std::size_t>(a.type)].add();
  alerts_.push(a);
}

void Detector::on_packet(const decode::IpAddr& /*src*/, const decode::IpAddr& dst, std::uint16_t vlan,
                         std::uint64_t now_ns) noexcept {
  const HostKey k = host_key(dst, vlan);
  bool created = false;
  bool evicted = false;
  DdosEntry& e = *ddos_->find_or_insert(k, hash(k), now_ns, created, evicted);
  if (evicted) counters_.ddos_evictions.add();
  const std::uint64_t sec = now_ns / kSecond;
  if (created) {
    e.second = sec;
  } else if (sec > e.second) {
    if (!e.over) {  // a normal second joins the baseline
      e.baseline = e.learned == 0 ? e.packets : e.baseline + cfg_.ddos_alpha * (e.packets - e.baseline);
      ++e.learned;
    }
    const std::uint64_t empty = sec - e.second - 1;  // seconds without packets
    if (empty > 0 && e.learned > 0) {
      e.baseline *= std::pow(1.0 - cfg_.ddos_alpha, static_cast<double>(std::min<std::uint64_t>(empty, 10000)));
      e.learned = static_cast<std::uint32_t>(std::min<std::uint64_t>(e.learned + empty, 0xFFFFFFFFu));
    }
    e.second = sec;
    e.packets = 0;
    e.over = false;
  }
  ++e.packets;
  if (e.over) return;
  const double threshold = std::max<double>(cfg_.ddos_min_pps, cfg_.ddos_factor * e.baseline);
  const bool relative = e.learned >= cfg_.ddos_warmup_s && e.packets >= threshold;
  const bool absolute = cfg_.ddos_absolute_pps != 0 && e.packets >= cfg_.ddos_absolute_pps;
  if (!relative && !absolute) return;
  e.over = true;
  if (now_ns < e.quiet_until_ns) return;
  e.quiet_until_ns = now_ns + cfg_.holdoff_ns;
  Alert a;
  a.type = AlertType::ddos;
  a.first_ns = sec * kSecond;
  a.last_ns = now_ns;
  a.count = e.packets;
  a.threshold = relative ? static_cast<std::uint64_t>(std::ceil(threshold)) : cfg_.ddos_absolute_pps;
  a.baseline = static_cast<std::uint64_t>(std::llround(e.baseline));
  a.victim = dst;
  a.vlan = vlan;
  raise(a);
}

void Detector::on_connection_attempt(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t dport,
                                     std::uint16_t vlan, std::uint64_t now_ns) noexcept {
  const HostKey k = host_key(dst, vlan);
  bool created = false;
  bool evicted = false;
  SynEntry& e = *syn_->find_or_insert(k, hash(k), now_ns, created, evicted);
  if (evicted) counters_.syn_evictions.add();
  const std::uint64_t sec = now_ns / kSecond;
  if (created || sec != e.second) {
    e.second = sec;
    e.attempts = 0;
    e.completed = 0;
  }
  ++e.attempts;
  const std::uint32_t half_open = e.attempts > e.completed ? e.attempts - e.completed : 0;
  if (half_open < cfg_.syn_flood_half_open || now_ns < e.quiet_until_ns) return;
  e.quiet_until_ns = now_ns + cfg_.holdoff_ns;
  Alert a;
  a.type = AlertType::syn_flood;
  a.first_ns = sec * kSecond;
  a.last_ns = now_ns;
  a.count = half_open;
  a.threshold = cfg_.syn_flood_half_open;
  a.attacker = src;
  a.victim = dst;
  a.port = dport;
  a.vlan = vlan;
  raise(a);
}

void Detector::on_connection_established(const decode::IpAddr& /*src*/, const decode::IpAddr& dst,
                                         std::uint16_t /*dport*/, std::uint16_t vlan, std::uint64_t now_ns) noexcept {
  const HostKey k = host_key(dst, vlan);
  SynEntry* e = syn_->find(k, hash(k));
  if (e != nullptr && e->second == now_ns / kSecond) ++e->completed;
}

void Detector::on_connection_failed(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t dport,
                                    std::uint16_t vlan, std::uint64_t now_ns) noexcept {
  bool created = false;
  bool evicted = false;
  {
    const HostPairKey k = pair_key(src, dst, vlan);
    ScanEntry& e = *port_scan_->find_or_insert(k, hash(k), now_ns, created, evicted);
    if (evicted) counters_.port_scan_evictions.add();
    if (created || (now_ns > e.window_start_ns && now_ns - e.window_start_ns >= cfg_.scan_window_ns)) {  // time may step back (merged inputs)
      e.window_start_ns = now_ns;
      e.count = 0;
      e.alerted = false;
    }
    if (!e.alerted) {
      std::uint32_t* set = &port_sets_[static_cast<std::size_t>(port_scan_->index_of(&e)) * cfg_.port_scan_ports];
      e.count = add_distinct(set, e.count, dport);
      if (e.count >= cfg_.port_scan_ports) {
        e.alerted = true;
        Alert a;
        a.type = AlertType::port_scan;
        a.first_ns = e.window_start_ns;
        a.last_ns = now_ns;
        a.count = e.count;
        a.threshold = cfg_.port_scan_ports;
        a.attacker = src;
        a.victim = dst;
        a.port = dport;
        a.vlan = vlan;
        raise(a);
      }
    }
  }
  {
    const HostKey k = host_key(src, vlan, dport);
    HostScanEntry& e = *host_scan_->find_or_insert(k, hash(k), now_ns, created, evicted);
    if (evicted) counters_.host_scan_evictions.add();
    if (created || (now_ns > e.window_start_ns && now_ns - e.window_start_ns >= cfg_.scan_window_ns)) {  // time may step back (merged inputs)
      e.window_start_ns = now_ns;
      e.count = 0;
      e.alerted = false;
    }
    if (!e.alerted) {
      const HostKey victim = host_key(dst, vlan);
      const auto fingerprint = static_cast<std::uint32_t>(hash(victim) >> 32);
      std::uint32_t* set = &host_sets_[static_cast<std::size_t>(host_scan_->index_of(&e)) * cfg_.host_scan_hosts];
      e.count = add_distinct(set, e.count, fingerprint);
      if (e.count >= cfg_.host_scan_hosts) {
        e.alerted = true;
        Alert a;
        a.type = AlertType::host_scan;
        a.first_ns = e.window_start_ns;
        a.last_ns = now_ns;
        a.count = e.count;
        a.threshold = cfg_.host_scan_hosts;
        a.attacker = src;
        a.victim = dst;  // the host that made it cross
        a.port = dport;
        a.vlan = vlan;
        raise(a);
      }
    }
  }
}

}  // namespace netscope::analysis
