#include "netscope/control/hub.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "netscope/control/api.hpp"
#include "netscope/control/database.hpp"
#include "netscope/control/metrics.hpp"
#include "netscope/control/server.hpp"
#include "netscope/control/state.hpp"
#include "netscope/control/views.hpp"

namespace netscope::control {

namespace {
constexpr auto kTick = std::chrono::milliseconds(10);
constexpr auto kStatsPeriod = std::chrono::seconds(1);
}  // namespace

struct Hub::Impl {
  explicit Impl(HubConfig cfg) : st(std::move(cfg)), api(st) {
    const std::size_t cap = std::max<std::size_t>(st.cfg.ingest_queue, 1);
    in_events.reserve(cap);
    work_events.reserve(cap);
    in_flows.reserve(cap);
    work_flows.reserve(cap);
    in_packets.reserve(cap);
    work_packets.reserve(cap);
  }

  HubState st;
  Api api;
  std::unique_ptr<Database> db;
  std::unique_ptr<Server> server;

  // Ingress from the control lcore, swapped out by the hub thread each tick.
  std::mutex in_mu;
  std::condition_variable in_cv;    ///< wakes the hub thread
  std::condition_variable done_cv;  ///< wakes sync()
  std::vector<engine::AnomalyEvent> in_events, work_events;
  std::vector<engine::FlowRecord> in_flows, work_flows;
  std::vector<engine::PacketSummary> in_packets, work_packets;
  std::shared_ptr<const Snapshot> in_snapshot;
  std::uint64_t submitted = 0;  ///< generation of the last hand-over
  std::uint64_t handled = 0;    ///< generation the hub thread finished
  bool wake = false;
  bool stopping = false;
  std::thread thread;
  bool started = false;

  // Hub-thread state.
  std::uint64_t next_flow_id = 1;
  std::uint64_t next_event_id = 1;
  std::uint64_t next_packet_id = 1;
  std::shared_ptr<const Published> last_pub;
  HistoryPoint last_point;
  bool have_point = false;
  std::uint64_t seq[kStreamCount] = {};

  void run();
  void handle_events();
  void handle_flows();
  void handle_packets();
  template <typename T>
  void ingest(std::vector<T>& in, const T& item, std::atomic<std::uint64_t>& dropped);
  void handle_snapshot(std::shared_ptr<const Snapshot> s);
  void send_stats();
  template <typename T, typename F>
  void stream_batches(Stream s, const char* key, const std::vector<T>& items, F to_json);
};

template <typename T, typename F>
void Hub::Impl::stream_batches(Stream s, const char* key, const std::vector<T>& items, F to_json) {
  if (server == nullptr || !server->has_clients(s)) return;
  const std::size_t batch = std::max<std::size_t>(st.cfg.ws_batch_max, 1);
  for (std::size_t i = 0; i < items.size(); i += batch) {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t k = i; k < std::min(items.size(), i + batch); ++k) list.push_back(to_json(items[k]));
    nlohmann::json msg = {{"type", std::string(to_string(s))}, {"seq", ++seq[static_cast<std::size_t>(s)]}, {key, list}};
    server->broadcast(s, std::make_shared<const std::string>(msg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
}

void Hub::Impl::handle_events() {
  if (work_events.empty()) return;
  const std::uint64_t now = wall_ns();
  std::vector<StoredEvent> batch;
  batch.reserve(work_events.size());
  for (const engine::AnomalyEvent& e : work_events) batch.push_back({next_event_id++, now, e});
  st.events.append(batch);
  st.counters.events_received.fetch_add(batch.size(), std::memory_order_relaxed);
  if (db != nullptr) {
    for (const StoredEvent& e : batch) db->add(e);
  }
  stream_batches(Stream::anomalies, "events", batch, [](const StoredEvent& e) { return anomaly_json(e); });
  work_events.clear();
}

void Hub::Impl::handle_flows() {
  if (work_flows.empty()) return;
  const std::uint64_t now = wall_ns();
  std::vector<StoredFlow> batch;
  batch.reserve(work_flows.size());
  for (const engine::FlowRecord& f : work_flows) batch.push_back({next_flow_id++, now, f});
  st.flows.append(batch);
  st.counters.flows_received.fetch_add(batch.size(), std::memory_order_relaxed);
  if (db != nullptr) {
    for (const StoredFlow& f : batch) db->add(f);
  }
  stream_batches(Stream::flows, "flows", batch, [](const StoredFlow& f) { return flow_json(f); });
  work_flows.clear();
}

void Hub::Impl::handle_packets() {
  if (work_packets.empty()) return;
  const std::uint64_t now = wall_ns();
  std::vector<StoredPacket> batch;
  batch.reserve(work_packets.size());
  for (const engine::PacketSummary& p : work_packets) batch.push_back({next_packet_id++, now, p});
  st.packets.append(batch);
  st.counters.packets_received.fetch_add(batch.size(), std::memory_order_relaxed);
  work_packets.clear();
}

void Hub::Impl::handle_snapshot(std::shared_ptr<const Snapshot> s) {
  st.counters.snapshots.fetch_add(1, std::memory_order_relaxed);
  auto pub = make_published(std::move(s), last_pub.get(), wall_ns());
  st.set_published(pub);
  const HistoryPoint hp = history_point(*pub->snap);
  st.history.add(hp);
  if (db != nullptr) {
    if (have_point) db->add(stats_row(last_point, hp));
    db->set_sas(pub);
  }
  last_point = hp;
  have_point = true;
  last_pub = std::move(pub);
}

void Hub::Impl::send_stats() {
  if (server == nullptr || last_pub == nullptr || !server->has_clients(Stream::stats)) return;
  const nlohmann::json msg = {{"type", "stats"}, {"seq", ++seq[0]}, {"data", stats_json(*last_pub)}};
  server->broadcast(Stream::stats, std::make_shared<const std::string>(msg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

void Hub::Impl::run() {
  auto next_stats = std::chrono::steady_clock::now() + kStatsPeriod;
  std::unique_lock lock(in_mu);
  for (;;) {
    const auto until = std::min(std::chrono::steady_clock::now() + kTick, next_stats);
    in_cv.wait_until(lock, until, [&] { return stopping || wake; });
    wake = false;
    const bool last = stopping;
    const std::uint64_t gen = submitted;
    in_events.swap(work_events);
    in_flows.swap(work_flows);
    in_packets.swap(work_packets);
    std::shared_ptr<const Snapshot> snap = std::move(in_snapshot);
    in_snapshot.reset();
    lock.unlock();
    const bool news = snap != nullptr || !work_events.empty() || !work_flows.empty() || !work_packets.empty();
    try {
      if (snap != nullptr) handle_snapshot(std::move(snap));
      handle_events();
      handle_flows();
      handle_packets();
      if (news) st.updates.notify();
      if (server != nullptr) server->reap();
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_stats) {
        send_stats();
        next_stats += kStatsPeriod;
        if (next_stats < now) next_stats = now + kStatsPeriod;
      }
    } catch (const std::exception&) {
      // Out of memory while building a view: drop this tick's records, keep serving.
      work_events.clear();
      work_flows.clear();
      work_packets.clear();
    }
    lock.lock();
    handled = gen;
    done_cv.notify_all();
    if (last) break;
  }
}

Hub::Hub(HubConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}

Hub::~Hub() { stop(); }

void Hub::start() {
  Impl& m = *impl_;
  if (m.started) return;
  if (!m.st.cfg.db_path.empty()) {
    m.db = std::make_unique<Database>(m.st.cfg, m.st.db);
    m.next_flow_id = m.db->max_flow_id() + 1;
    m.next_event_id = m.db->max_event_id() + 1;
    m.db->start();
    m.st.db_enabled = true;
  }
  if (!m.st.cfg.api_listen.empty()) {
    m.server = std::make_unique<Server>(m.st, m.api);
    try {
      m.server->start();
    } catch (...) {
      m.server.reset();
      if (m.db != nullptr) m.db->stop();
      m.db.reset();
      m.st.db_enabled = false;
      throw;
    }
  }
  {
    std::lock_guard lock(m.in_mu);
    m.stopping = false;
  }
  m.thread = std::thread([&m] { m.run(); });
  m.started = true;
}

void Hub::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  {
    std::lock_guard lock(m.in_mu);
    m.stopping = true;
  }
  m.in_cv.notify_all();
  if (m.thread.joinable()) m.thread.join();
  if (m.server != nullptr) m.server->stop();
  if (m.db != nullptr) m.db->stop();
  m.started = false;
}

void Hub::publish(std::shared_ptr<const Snapshot> s) {
  Impl& m = *impl_;
  std::shared_ptr<const Snapshot> old;
  {
    std::lock_guard lock(m.in_mu);
    old = std::move(m.in_snapshot);  // freed outside the lock
    m.in_snapshot = std::move(s);
    ++m.submitted;
    m.wake = true;
  }
  m.in_cv.notify_one();
}

/// Appends to a buffer reserved up front (never reallocates); full: dropped and counted.
template <typename T>
void Hub::Impl::ingest(std::vector<T>& in, const T& item, std::atomic<std::uint64_t>& dropped) {
  std::lock_guard lock(in_mu);
  if (in.size() >= in.capacity()) {
    dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  in.push_back(item);
  ++submitted;
}

void Hub::on_event(const engine::AnomalyEvent& e) {
  impl_->ingest(impl_->in_events, e, impl_->st.counters.ingest_dropped_events);
}

void Hub::on_flow(const engine::FlowRecord& f) {
  impl_->ingest(impl_->in_flows, f, impl_->st.counters.ingest_dropped_flows);
}

void Hub::on_packet(const engine::PacketSummary& p) {
  impl_->ingest(impl_->in_packets, p, impl_->st.counters.ingest_dropped_packets);
}

std::uint64_t Hub::tap_rate() const noexcept {
  const HubState& st = impl_->st;
  return st.packet_subscribers.load(std::memory_order_relaxed) > 0 ? st.cfg.tap_stream_pps : st.cfg.tap_idle_pps;
}

HubState& Hub::state() noexcept { return impl_->st; }

std::optional<Command> Hub::poll_command() { return impl_->st.pop_command(); }

void Hub::set_runtime_config(std::string json_object) { impl_->st.set_runtime_config(std::move(json_object)); }

std::string Hub::bound_address() const {
  return impl_->server != nullptr ? impl_->server->bound_address() : std::string();
}

std::string Hub::metrics_text() const { return render_metrics(impl_->st); }

bool Hub::sync(std::chrono::milliseconds timeout, bool database) {
  Impl& m = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  {
    std::unique_lock lock(m.in_mu);
    if (!m.started) return false;
    const std::uint64_t gen = m.submitted;
    m.wake = true;
    m.in_cv.notify_one();
    if (!m.done_cv.wait_until(lock, deadline, [&] { return m.handled >= gen; })) return false;
  }
  if (database && m.db != nullptr) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return m.db->flush(std::max(left, std::chrono::milliseconds(0)));
  }
  return true;
}

}  // namespace netscope::control
