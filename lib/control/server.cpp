#include "netscope/control/server.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <dirent.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "netscope/control/query.hpp"

namespace netscope::control {

namespace {

constexpr const char* kStreamPaths[kStreamCount] = {"/api/v1/stream/stats", "/api/v1/stream/anomalies",
                                                    "/api/v1/stream/flows"};

bool header_has(const char* value, const char* token) {
  if (value == nullptr) return false;
  const std::size_t n = std::strlen(token);
  for (const char* p = value; *p != '\0'; ++p) {
    if (strncasecmp(p, token, n) == 0) return true;
  }
  return false;
}

/// One WebSocket client. The queue and flags are guarded by mu.
struct Client {
  mg_connection* conn = nullptr;
  Stream stream = Stream::stats;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<const std::string>> queue;
  std::size_t bytes = 0;
  bool slow = false;        ///< queue overflowed: send 1008 and stop
  bool going_away = false;  ///< server stops: send 1001 and stop
  bool closing = false;     ///< civetweb is closing the connection: stop now
  bool done = false;        ///< the sender has stopped writing
  int fd = -1;              ///< the connection's socket, for shutting down a stuck client
  std::optional<std::chrono::steady_clock::time_point> shut_at;  ///< shut the socket then
  bool shut = false;
  std::optional<std::chrono::steady_clock::time_point> writing_since;  ///< a send in progress
  std::thread sender;
};

/// The socket of a server connection, found by its two endpoints (civetweb does not
/// expose it). -1 when not found. Only called while the connection is open.
int socket_of(const mg_request_info* ri) {
  sockaddr_in peer_want{};
  if (inet_pton(AF_INET, ri->remote_addr, &peer_want.sin_addr) != 1) return -1;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(dir)) continue;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_in peer{}, local{};
    socklen_t pl = sizeof peer, ll = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0 || peer.sin_family != AF_INET) continue;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
    if (ntohs(peer.sin_port) == ri->remote_port && peer.sin_addr.s_addr == peer_want.sin_addr.s_addr &&
        ntohs(local.sin_port) == ri->server_port) {
      found = fd;
      break;
    }
  }
  closedir(dir);
  return found;
}

void close_frame(mg_connection* conn, unsigned code, const std::string& reason) {
  std::string payload;
  payload += static_cast<char>((code >> 8) & 0xFF);
  payload += static_cast<char>(code & 0xFF);
  payload += reason;
  mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload.data(), payload.size());
}

}  // namespace

struct Server::Impl {
  HubState& st;
  Api& api;
  mg_context* ctx = nullptr;
  std::string host;
  int port = 0;

  mutable std::mutex clients_mu;
  std::vector<std::shared_ptr<Client>> clients[kStreamCount];
  std::atomic<std::size_t> client_count{0};

  Impl(HubState& s, Api& a) : st(s), api(a) {}

  static Impl* of(const mg_connection* conn) {
    return static_cast<Impl*>(mg_get_request_info(conn)->user_data);
  }

  static void write_response(mg_connection* conn, const HttpResponse& resp, bool head) {
    const mg_request_info* ri = mg_get_request_info(conn);
    const char* connection = mg_get_header(conn, "Connection");
    bool keep_alive = ri->http_version != nullptr && std::strcmp(ri->http_version, "1.1") == 0;
    if (connection != nullptr) keep_alive = header_has(connection, "keep-alive");
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + mg_get_response_code_text(conn, resp.status) + "\r\n";
    const bool body = resp.status != 204 && resp.status != 304;
    if (body) {
      out += "Content-Type: " + resp.content_type + "\r\n";
      out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    }
    out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
    for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (body && !head) out += resp.body;
    mg_write(conn, out.data(), out.size());
  }

  static HttpRequest request_of(mg_connection* conn) {
    const mg_request_info* ri = mg_get_request_info(conn);
    HttpRequest r;
    r.method = ri->request_method != nullptr ? ri->request_method : "";
    r.path = ri->local_uri != nullptr ? ri->local_uri : "/";
    r.query = ri->query_string != nullptr ? ri->query_string : "";
    if (const char* k = mg_get_header(conn, "X-API-Key")) r.api_key = k;
    if (const char* o = mg_get_header(conn, "Origin")) r.origin = o;
    r.client = ri->remote_addr;
    return r;
  }

  static int begin_request(mg_connection* conn) {
    Impl& self = *of(conn);
    try {
      HttpRequest req = request_of(conn);
      const bool upgrade = header_has(mg_get_header(conn, "Upgrade"), "websocket");
      if (upgrade) {
        for (const char* p : kStreamPaths) {
          if (req.path != p) continue;
          self.st.counters.http_requests.fetch_add(1, std::memory_order_relaxed);
          std::optional<HttpResponse> reject;
          try {
            Query(req.query).allow_only({"api_key"});
            reject = self.api.admit(req);
          } catch (const ApiError& e) {
            reject = error_response(e.status(), e.code(), e.what());
          }
          if (!reject && req.method != "GET") reject = error_response(405, "method_not_allowed", "WebSocket upgrades use GET");
          if (!reject && self.client_count.load() >= self.st.cfg.ws_max_clients) {
            self.st.counters.ws_rejected.fetch_add(1, std::memory_order_relaxed);
            reject = error_response(503, "too_many_clients", "WebSocket client limit reached");
          }
          if (reject) {
            self.api.count(reject->status);
            write_response(conn, *reject, false);
            return reject->status;
          }
          return 0;  // civetweb performs the handshake and calls the websocket handlers
        }
      }
      const mg_request_info* ri = mg_get_request_info(conn);
      const std::size_t max = self.st.cfg.max_body_bytes;
      if (ri->content_length > static_cast<long long>(max)) {
        req.body_too_large = true;
      } else if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS") {
        char buf[8192];
        for (;;) {
          const int n = mg_read(conn, buf, sizeof buf);
          if (n <= 0) break;
          req.body.append(buf, static_cast<std::size_t>(n));
          if (req.body.size() > max) {
            req.body_too_large = true;
            break;
          }
        }
      }
      const HttpResponse resp = self.api.handle(req);
      write_response(conn, resp, req.method == "HEAD");
      return resp.status;
    } catch (const std::exception& e) {
      // Out of memory or similar: answer something rather than drop the connection.
      const HttpResponse resp = error_response(500, "internal", e.what());
      write_response(conn, resp, false);
      return 500;
    }
  }

  static int log_message(const mg_connection*, const char*) { return 1; }

  // WebSocket handlers; cbdata is the Impl, the stream is found from the path.
  static int ws_connect(const mg_connection*, void* cbdata) {
    Impl& self = *static_cast<Impl*>(cbdata);
    if (self.client_count.load() >= self.st.cfg.ws_max_clients) {
      self.st.counters.ws_rejected.fetch_add(1, std::memory_order_relaxed);
      return 1;
    }
    return 0;
  }

  static void ws_ready(mg_connection* conn, void* cbdata) {
    Impl& self = *static_cast<Impl*>(cbdata);
    const char* path = mg_get_request_info(conn)->local_uri;
    auto c = std::make_shared<Client>();
    c->conn = conn;
    c->fd = socket_of(mg_get_request_info(conn));
    for (std::size_t i = 0; i < kStreamCount; ++i) {
      if (path != nullptr && std::strcmp(path, kStreamPaths[i]) == 0) c->stream = static_cast<Stream>(i);
    }
    Client* raw = c.get();
    raw->sender = std::thread([&self, raw] { self.send_loop(*raw); });
    mg_set_user_connection_data(conn, raw);
    {
      std::lock_guard lock(self.clients_mu);
      self.clients[static_cast<std::size_t>(c->stream)].push_back(c);
    }
    self.client_count.fetch_add(1);
    self.st.counters.ws_clients[static_cast<std::size_t>(c->stream)].fetch_add(1, std::memory_order_relaxed);
  }

  static int ws_data(mg_connection*, int bits, char*, std::size_t, void*) {
    // Clients have nothing to say; a close frame ends the connection.
    return (bits & 0x0F) == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE ? 0 : 1;
  }

  static void ws_close(const mg_connection* conn, void* cbdata) {
    Impl& self = *static_cast<Impl*>(cbdata);
    auto* raw = static_cast<Client*>(mg_get_user_connection_data(conn));
    if (raw == nullptr) return;
    std::shared_ptr<Client> keep;
    {
      std::lock_guard lock(self.clients_mu);
      auto& list = self.clients[static_cast<std::size_t>(raw->stream)];
      for (auto it = list.begin(); it != list.end(); ++it) {
        if (it->get() == raw) {
          keep = *it;
          list.erase(it);
          break;
        }
      }
    }
    {
      std::lock_guard lock(raw->mu);
      raw->closing = true;
    }
    raw->cv.notify_all();
    if (raw->sender.joinable()) raw->sender.join();
    self.client_count.fetch_sub(1);
    self.st.counters.ws_clients[static_cast<std::size_t>(raw->stream)].fetch_sub(1, std::memory_order_relaxed);
  }

  void send_loop(Client& c) {
    const auto idx = static_cast<std::size_t>(c.stream);
    std::unique_lock lock(c.mu);
    for (;;) {
      c.cv.wait(lock, [&] { return c.closing || c.slow || c.going_away || !c.queue.empty(); });
      if (c.closing) break;
      if (c.slow || c.going_away) {
        const bool slow = c.slow;
        c.queue.clear();
        c.bytes = 0;
        lock.unlock();
        if (slow) {
          close_frame(c.conn, kCloseSlowClient, "send queue overflow: client too slow");
        } else {
          close_frame(c.conn, kCloseGoingAway, "server stopping");
        }
        lock.lock();
        break;
      }
      const auto msg = std::move(c.queue.front());
      c.queue.pop_front();
      c.bytes -= msg->size();
      c.writing_since = std::chrono::steady_clock::now();
      lock.unlock();
      const int r = mg_websocket_write(c.conn, MG_WEBSOCKET_OPCODE_TEXT, msg->data(), msg->size());
      lock.lock();
      c.writing_since.reset();
      if (r <= 0) {
        c.shut_at = std::chrono::steady_clock::now();  // broken: end the connection now
        break;
      }
      st.counters.ws_messages[idx].fetch_add(1, std::memory_order_relaxed);
    }
    c.done = true;
    c.queue.clear();
    c.bytes = 0;
    c.cv.notify_all();
  }
};

Server::Server(HubState& st, Api& api) : impl_(std::make_unique<Impl>(st, api)) {}

Server::~Server() { stop(); }

void Server::start() {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(MG_FEATURES_TLS | MG_FEATURES_WEBSOCKET); });
  Impl& m = *impl_;
  const HubConfig& cfg = m.st.cfg;
  // "ADDR:PORT" or "PORT"; civetweb in Debian 12 has no IPv6.
  const std::string& listen = cfg.api_listen;
  const std::size_t colon = listen.rfind(':');
  m.host = colon == std::string::npos ? "0.0.0.0" : listen.substr(0, colon);
  const std::string port_text = colon == std::string::npos ? listen : listen.substr(colon + 1);
  const auto port = parse_u64(port_text);
  unsigned char addr[4] = {};
  if (!port || *port > 65535 || (colon != std::string::npos && inet_pton(AF_INET, m.host.c_str(), addr) != 1)) {
    throw std::runtime_error("api listen address '" + listen + "': expected IPV4:PORT, e.g. 127.0.0.1:8080");
  }
  const std::string ports = m.host + ":" + port_text + (cfg.tls_certificate.empty() ? "" : "s");
  const std::string threads = std::to_string(std::max(cfg.api_threads, 1u) + cfg.ws_max_clients);
  const std::string io_timeout = std::to_string(std::max(cfg.io_timeout_ms, 100u));
  const std::string ping = std::to_string(std::max(cfg.ws_ping_interval_ms, 100u));
  std::vector<const char*> opts = {"listening_ports", ports.c_str(),
                                   "num_threads", threads.c_str(),
                                   "request_timeout_ms", io_timeout.c_str(),
                                   "keep_alive_timeout_ms", "5000",
                                   "enable_keep_alive", "yes",
                                   "websocket_timeout_ms", ping.c_str(),
                                   "enable_websocket_ping_pong", "yes",
                                   "tcp_nodelay", "1",
                                   "listen_backlog", "512"};
  if (!cfg.tls_certificate.empty()) {
    opts.push_back("ssl_certificate");
    opts.push_back(cfg.tls_certificate.c_str());
  }
  opts.push_back(nullptr);
  mg_callbacks cb{};
  cb.begin_request = &Impl::begin_request;
  cb.log_message = &Impl::log_message;
  mg_init_data init_data{};
  init_data.callbacks = &cb;
  init_data.user_data = &m;
  init_data.configuration_options = opts.data();
  char err[256] = {};
  unsigned code = 0;
  mg_error_data error{&code, err, sizeof err};
  m.ctx = mg_start2(&init_data, &error);
  if (m.ctx == nullptr) {
    throw std::runtime_error("cannot serve the API on " + listen + ": " + (err[0] != '\0' ? err : "civetweb failed to start"));
  }
  for (const char* p : kStreamPaths) {
    mg_set_websocket_handler(m.ctx, p, &Impl::ws_connect, &Impl::ws_ready, &Impl::ws_data, &Impl::ws_close, &m);
  }
  mg_server_port sp{};
  if (mg_get_server_ports(m.ctx, 1, &sp) >= 1) m.port = sp.port;
}

void Server::stop() {
  Impl& m = *impl_;
  if (m.ctx == nullptr) return;
  std::vector<std::shared_ptr<Client>> all;
  {
    std::lock_guard lock(m.clients_mu);
    for (auto& list : m.clients) all.insert(all.end(), list.begin(), list.end());
  }
  for (auto& c : all) {
    {
      std::lock_guard lock(c->mu);
      c->going_away = true;
    }
    c->cv.notify_all();
  }
  // Give senders a moment to put the 1001 close frame on the wire.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  for (auto& c : all) {
    std::unique_lock lock(c->mu);
    c->cv.wait_until(lock, deadline, [&] { return c->done; });
    c->shut_at = std::chrono::steady_clock::now();
  }
  reap();  // a client that does not read must not hold up the stop
  // civetweb's accept loop polls in 2 s quanta; a connection wakes it so that mg_stop
  // returns at once instead of up to 2 s later.
  std::atomic<bool> stopped{false};
  std::thread poke([&] {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(m.port));
    if (inet_pton(AF_INET, m.host == "0.0.0.0" ? "127.0.0.1" : m.host.c_str(), &a.sin_addr) != 1) return;
    while (!stopped.load()) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) {
        (void)connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  mg_stop(m.ctx);
  stopped = true;
  poke.join();
  m.ctx = nullptr;
}

std::string Server::bound_address() const {
  if (impl_->ctx == nullptr) return {};
  return impl_->host + ":" + std::to_string(impl_->port);
}

void Server::broadcast(Stream s, const std::shared_ptr<const std::string>& msg) {
  Impl& m = *impl_;
  const HubConfig& cfg = m.st.cfg;
  const auto idx = static_cast<std::size_t>(s);
  std::lock_guard lock(m.clients_mu);
  for (const auto& c : m.clients[idx]) {
    bool wake = true;
    {
      std::lock_guard cl(c->mu);
      if (c->done || c->slow || c->going_away || c->closing) continue;
      if (c->queue.size() + 1 > std::max<std::size_t>(cfg.ws_queue_messages, 1) ||
          c->bytes + msg->size() > std::max(cfg.ws_queue_bytes, msg->size())) {
        c->slow = true;
        c->shut_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg.ws_close_grace_ms);
        m.st.counters.ws_slow_closed[idx].fetch_add(1, std::memory_order_relaxed);
      } else {
        wake = c->queue.empty();
        c->queue.push_back(msg);
        c->bytes += msg->size();
      }
    }
    if (wake) c->cv.notify_one();
  }
}

void Server::reap() {
  Impl& m = *impl_;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(m.clients_mu);  // held: a registered client's socket is still open
  for (const auto& list : m.clients) {
    for (const auto& c : list) {
      std::lock_guard cl(c->mu);
      if (!c->shut && !c->slow && c->writing_since &&
          now - *c->writing_since > std::chrono::milliseconds(m.st.cfg.io_timeout_ms)) {
        // One message stuck longer than io_timeout: the client stopped reading. Its
        // socket is full, so no close frame could get through either.
        c->slow = true;
        c->shut_at = now;
        m.st.counters.ws_slow_closed[static_cast<std::size_t>(c->stream)].fetch_add(1, std::memory_order_relaxed);
      }
      if (c->shut || c->fd < 0 || !c->shut_at || now < *c->shut_at) continue;
      // Wakes the sender blocked in send() and the reader in recv(); civetweb then runs
      // the close handler and closes the socket.
      shutdown(c->fd, SHUT_RDWR);
      c->shut = true;
    }
  }
}

bool Server::has_clients(Stream s) const {
  std::lock_guard lock(impl_->clients_mu);
  return !impl_->clients[static_cast<std::size_t>(s)].empty();
}

}  // namespace netscope::control
