// gRPC front end of the control hub: the netscope.v1.NetworkTracker service
// (lib/rpc/proto/netscope.proto, docs/grpc.md), grpc.health.v1.Health and server
// reflection. Reads only what the hub published (HubState); commands go through the hub's
// command queue. No DPDK; grpc headers stay out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace netscope::control {
class HubState;
}

namespace netscope::rpc {

/// The default address when the REST API is enabled and no gRPC address is given.
inline constexpr const char* kDefaultListen = "127.0.0.1:50051";

struct GrpcConfig {
  std::string listen;            ///< "ADDR:PORT"; port 0 picks a free port
  std::string tls_certificate;   ///< PEM certificate chain file; with tls_key: TLS only
  std::string tls_key;           ///< PEM private key file
  std::string client_ca;         ///< PEM CA file: require client certificates it signed (mTLS)
  std::string token;             ///< bearer token required on every call when non-empty
  double rate_limit = 0;         ///< calls per second per client address; 0: unlimited
  double rate_limit_burst = 0;   ///< 0: max(1, 2 x rate_limit)
  unsigned max_streams = 1024;   ///< open streaming calls at most; beyond: RESOURCE_EXHAUSTED
};

/// One gRPC server over a hub's state. start/stop from one control thread.
class GrpcServer {
 public:
  GrpcServer(control::HubState& state, GrpcConfig cfg);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  /// Binds and starts serving. Throws std::runtime_error with one clear line (address in
  /// use, unreadable certificate, ...).
  void start();
  /// Ends every stream (within about 100 ms), then shuts the server down. Idempotent.
  void stop();
  /// "ADDR:PORT" actually bound (port 0 resolved); empty before start().
  [[nodiscard]] std::string bound_address() const;
  [[nodiscard]] bool tls() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::rpc
