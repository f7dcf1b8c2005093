// The HTTP(S) and WebSocket server of the hub (civetweb): REST and /metrics through Api,
// and the three streams. Each WebSocket client has a bounded send queue drained by its
// own sender thread; a client whose queue overflows is closed with code 1008, so a slow
// client never slows the others or the hub thread.
#pragma once

#include <memory>
#include <string>

#include "netscope/control/api.hpp"
#include "netscope/control/state.hpp"

namespace netscope::control {

/// WebSocket close code for a client whose send queue overflowed (RFC 6455 1008,
/// "policy violation"); the reason text says "send queue overflow".
inline constexpr unsigned kCloseSlowClient = 1008;
/// Close code sent to every client when the hub stops.
inline constexpr unsigned kCloseGoingAway = 1001;

class Server {
 public:
  /// `st` and `api` must outlive the server.
  Server(HubState& st, Api& api);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds HubConfig::api_listen and starts serving. Throws std::runtime_error with
  /// civetweb's reason (port in use, bad certificate, bad address).
  void start();
  /// Closes every client (1001) and stops. Idempotent.
  void stop();

  /// "ADDR:PORT" actually bound.
  [[nodiscard]] std::string bound_address() const;

  /// Queues `msg` (a text message) for every client of stream `s`. Never blocks on a
  /// client: a full queue marks that client slow and it is closed by its sender.
  void broadcast(Stream s, const std::shared_ptr<const std::string>& msg);
  [[nodiscard]] bool has_clients(Stream s) const;
  /// Shuts the sockets of clients that were closed for being slow but did not go within
  /// HubConfig::ws_close_grace_ms, or whose send failed. Never blocks; the hub thread
  /// calls it every tick.
  void reap();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::control
