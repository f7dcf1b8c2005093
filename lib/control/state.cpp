#include "netscope/control/state.hpp"

#include <chrono>
#include <map>

#include "netscope/control/query.hpp"

namespace netscope::control {

std::uint64_t wall_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::uint64_t sa_id(const seq::SaKey& k) noexcept {
  const std::uint64_t h = seq::hash(k) & (kIdLimit - 1);
  return h == 0 ? 1 : h;
}

std::uint64_t counter_delta(std::uint64_t a, std::uint64_t b) noexcept { return b >= a ? b - a : b; }

const SaView* Published::find_sa(std::uint64_t id) const noexcept {
  const auto it = std::lower_bound(sas.begin(), sas.end(), id,
                                   [](const SaView& v, std::uint64_t x) { return v.id < x; });
  return it != sas.end() && it->id == id ? &*it : nullptr;
}

std::shared_ptr<const Published> make_published(std::shared_ptr<const Snapshot> s,
                                                const Published* before, std::uint64_t now_ns) {
  auto p = std::make_shared<Published>();
  p->received_ns = now_ns;
  p->snap = std::move(s);
  if (before != nullptr) p->prev = before->snap;
  // Merge SAs by id; keep the first entry's identity (a hash collision of two different
  // keys, about 2^-53 per pair, would merge them as well).
  std::vector<SaView> views;
  views.reserve(p->snap->sas.size());
  for (const engine::SaSummary& sa : p->snap->sas) views.push_back({sa_id(sa.key), sa, {sa.lcore}});
  std::sort(views.begin(), views.end(), [](const SaView& a, const SaView& b) {
    return a.id != b.id ? a.id < b.id : a.s.lcore < b.s.lcore;
  });
  for (SaView& v : views) {
    if (!p->sas.empty() && p->sas.back().id == v.id) {
      SaView& m = p->sas.back();
      seq::SequenceCounters& c = m.s.counters;
      const seq::SequenceCounters& d = v.s.counters;
      c.packets += d.packets;
      c.lost += d.lost;
      c.gaps += d.gaps;
      c.duplicates += d.duplicates;
      c.reordered += d.reordered;
      c.out_of_window += d.out_of_window;
      c.rollovers += d.rollovers;
      c.resets += d.resets;
      c.rekeys += d.rekeys;
      c.stuck += d.stuck;
      m.s.bytes += v.s.bytes;
      m.s.first_seq = std::min(m.s.first_seq, v.s.first_seq);
      m.s.highest_seq = std::max(m.s.highest_seq, v.s.highest_seq);
      if (v.s.last_seen_ns > m.s.last_seen_ns) {  // recent numbers: the lcore that saw it last
        m.s.recent = v.s.recent;
        m.s.recent_count = v.s.recent_count;
      }
      m.s.first_seen_ns = std::min(m.s.first_seen_ns, v.s.first_seen_ns);
      m.s.last_seen_ns = std::max(m.s.last_seen_ns, v.s.last_seen_ns);
      m.s.extended |= v.s.extended;
      m.s.extended_inferred |= v.s.extended_inferred;
      m.lcores.push_back(v.s.lcore);
    } else {
      p->sas.push_back(std::move(v));
    }
  }
  if (p->prev != nullptr && p->snap->time_ns > p->prev->time_ns) {
    const double dt = static_cast<double>(p->snap->time_ns - p->prev->time_ns) / 1e9;
    p->pps = static_cast<double>(counter_delta(p->prev->packets, p->snap->packets)) / dt;
    p->bps = static_cast<double>(counter_delta(p->prev->bytes, p->snap->bytes)) * 8.0 / dt;
  }
  return p;
}

HistoryPoint history_point(const Snapshot& s) noexcept {
  HistoryPoint h;
  h.time_ns = s.time_ns;
  h.packets = s.packets;
  h.bytes = s.bytes;
  for (std::uint64_t e : s.events) h.anomalies += e;
  for (std::size_t i = 1; i < s.malformed.size(); ++i) h.malformed += s.malformed[i];
  h.flows_created = s.flows_created;
  h.dropped = s.ring_drops;
  for (const PortStats& p : s.ports) h.dropped += p.rx_missed + p.rx_nombuf;
  return h;
}

void History::add(const HistoryPoint& p) {
  std::lock_guard lock(mu_);
  if (!points_.empty() && points_.back().time_ns / 1'000'000'000ull == p.time_ns / 1'000'000'000ull) {
    points_.back() = p;
    return;
  }
  if (!points_.empty() && p.time_ns < points_.back().time_ns) points_.clear();  // clock went back
  if (points_.size() == cap_) points_.pop_front();
  points_.push_back(p);
}

std::vector<HistoryPoint> History::since(std::uint64_t since_ns) const {
  std::lock_guard lock(mu_);
  auto it = std::lower_bound(points_.begin(), points_.end(), since_ns,
                             [](const HistoryPoint& h, std::uint64_t t) { return h.time_ns < t; });
  if (it != points_.begin()) --it;
  return {it, points_.end()};
}

void History::peaks(double& pps, double& bps) const {
  std::lock_guard lock(mu_);
  pps = 0;
  bps = 0;
  for (std::size_t i = 1; i < points_.size(); ++i) {
    const HistoryPoint& a = points_[i - 1];
    const HistoryPoint& b = points_[i];
    if (b.time_ns <= a.time_ns) continue;
    const double dt = static_cast<double>(b.time_ns - a.time_ns) / 1e9;
    pps = std::max(pps, static_cast<double>(counter_delta(a.packets, b.packets)) / dt);
    bps = std::max(bps, static_cast<double>(counter_delta(a.bytes, b.bytes)) * 8.0 / dt);
  }
}

std::string_view to_string(Stream s) noexcept {
  switch (s) {
    case Stream::stats: return "stats";
    case Stream::anomalies: return "anomalies";
    case Stream::flows: return "flows";
  }
  return "unknown";
}

std::string_view to_string(Rejection r) noexcept {
  switch (r) {
    case Rejection::bad_request: return "bad_request";
    case Rejection::unauthorized: return "unauthorized";
    case Rejection::not_found: return "not_found";
    case Rejection::method_not_allowed: return "method_not_allowed";
    case Rejection::rate_limited: return "rate_limited";
    case Rejection::too_large: return "too_large";
    case Rejection::unavailable: return "unavailable";
    case Rejection::internal: return "internal";
  }
  return "unknown";
}

HubState::HubState(HubConfig c)
    : cfg(std::move(c)),
      start_ns(wall_ns()),
      flows(cfg.max_flows),
      events(cfg.max_events),
      packets(cfg.max_packets),
      history(cfg.history_seconds) {}

std::uint64_t Notifier::generation() const {
  std::lock_guard lock(mu_);
  return gen_;
}

void Notifier::notify() {
  {
    std::lock_guard lock(mu_);
    ++gen_;
  }
  cv_.notify_all();
}

std::uint64_t Notifier::wait(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return gen_ != seen; });
  return gen_;
}

std::shared_ptr<const Published> HubState::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

void HubState::set_published(std::shared_ptr<const Published> p) {
  std::lock_guard lock(mu_);
  published_ = std::move(p);
}

bool HubState::push_command(Command c) {
  std::lock_guard lock(mu_);
  if (commands_.size() >= std::max<std::size_t>(cfg.command_queue, 1)) {
    counters.commands_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  commands_.push_back(std::move(c));
  return true;
}

std::optional<Command> HubState::pop_command() {
  std::lock_guard lock(mu_);
  if (commands_.empty()) return std::nullopt;
  Command c = std::move(commands_.front());
  commands_.pop_front();
  return c;
}

std::size_t HubState::commands_pending() const {
  std::lock_guard lock(mu_);
  return commands_.size();
}

std::optional<Filter> HubState::add_item(std::vector<Filter>& list, std::uint64_t& next, Command::Type type,
                                         std::string text) {
  std::lock_guard lock(mu_);
  if (commands_.size() >= std::max<std::size_t>(cfg.command_queue, 1)) {
    counters.commands_dropped.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Filter f{next++, std::move(text), wall_ns()};
  list.push_back(f);
  commands_.push_back({type, f.id, f.expression});
  return f;
}

bool HubState::remove_item(std::vector<Filter>& list, Command::Type type, std::uint64_t id) {
  std::lock_guard lock(mu_);
  const auto it = std::find_if(list.begin(), list.end(), [id](const Filter& f) { return f.id == id; });
  if (it == list.end()) return false;
  if (commands_.size() >= std::max<std::size_t>(cfg.command_queue, 1)) {
    counters.commands_dropped.fetch_add(1, std::memory_order_relaxed);
    throw ApiError(503, "busy", "command queue full; retry later");
  }
  commands_.push_back({type, id, it->expression});
  list.erase(it);
  return true;
}

std::optional<Filter> HubState::add_filter(std::string expression) {
  return add_item(filters_, next_filter_id_, Command::Type::add_filter, std::move(expression));
}

bool HubState::remove_filter(std::uint64_t id) { return remove_item(filters_, Command::Type::remove_filter, id); }

std::vector<Filter> HubState::filters() const {
  std::lock_guard lock(mu_);
  return filters_;
}

std::optional<Filter> HubState::add_rule(std::string rule) {
  return add_item(rules_, next_rule_id_, Command::Type::add_rule, std::move(rule));
}

bool HubState::remove_rule(std::uint64_t id) { return remove_item(rules_, Command::Type::remove_rule, id); }

std::vector<Filter> HubState::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

void HubState::set_runtime_config(std::string json) {
  std::lock_guard lock(mu_);
  runtime_config_ = std::move(json);
}

std::string HubState::runtime_config() const {
  std::lock_guard lock(mu_);
  return runtime_config_;
}

}  // namespace netscope::control
