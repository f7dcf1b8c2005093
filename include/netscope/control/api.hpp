// The REST API (docs/api.md, docs/openapi.yaml) as a pure function of a request and the
// hub state: admission (API key, rate limit), CORS, routing, validation, JSON bodies.
// No sockets here; the HTTP server (server.hpp) feeds it. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "netscope/control/state.hpp"

namespace netscope::control {

struct HttpRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< decoded path, without the query
  std::string query;   ///< raw query string (still percent-encoded), without '?'
  std::string body;
  std::string api_key;  ///< X-API-Key header value
  std::string origin;   ///< Origin header value
  std::string client;   ///< remote address, the rate-limit key
  bool body_too_large = false;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// {"error": code, "message": message, "status": status}
[[nodiscard]] HttpResponse error_response(int status, const std::string& code, const std::string& message);

/// Token bucket per client address. Bounded: idle buckets are forgotten. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst);
  /// 0 when the request may go ahead, otherwise the seconds to wait (at least 1).
  std::uint64_t admit(const std::string& client, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

/// Why a capture filter or field rule sent by an API client cannot be used (an empty
/// code when it can). REST and gRPC both check with these, so a bad one is refused the
/// same way on either: REST answers 400 with `code`, gRPC INVALID_ARGUMENT.
struct TextProblem {
  std::string code;     ///< bad_body (length, control characters), bad_filter or bad_rule
  std::string message;
  explicit operator bool() const noexcept { return !code.empty(); }
};
/// 1 to 1024 characters, no control characters, compiles with libpcap for Ethernet.
TextProblem check_filter_expression(const std::string& expression);
/// 1 to 1024 characters, no control characters, parses as a field rule.
TextProblem check_field_rule(const std::string& rule);

class Api {
 public:
  explicit Api(HubState& st);

  /// Answers one request. Never throws; every failure is a 4xx/5xx JSON error.
  [[nodiscard]] HttpResponse handle(const HttpRequest& r);

  /// Admission alone (API key, rate limit, CORS preflight is not admission): the
  /// rejection to send, or nullopt. Used for WebSocket upgrades too.
  [[nodiscard]] std::optional<HttpResponse> admit(const HttpRequest& r);

  /// CORS headers for `origin` when it is allowed (empty otherwise).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> cors_headers(const std::string& origin) const;

  /// Counts a rejection by HTTP status (metrics).
  void count(int status);

 private:
  HttpResponse route(const HttpRequest& r);
  HttpResponse health() const;
  HttpResponse stats_current(const HttpRequest& r) const;
  HttpResponse stats_summary(const HttpRequest& r) const;
  HttpResponse stats_history(const HttpRequest& r) const;
  HttpResponse flows(const HttpRequest& r) const;
  HttpResponse flow(std::uint64_t id) const;
  HttpResponse sas(const HttpRequest& r) const;
  HttpResponse sa(std::uint64_t id) const;
  HttpResponse anomalies(const HttpRequest& r) const;
  HttpResponse sa_sequence(std::uint64_t id) const;
  /// flows|sas/{id}/gaps and /anomalies: the anomaly list restricted to one SA.
  HttpResponse sa_anomalies(const HttpRequest& r, std::uint64_t id, bool gaps_only) const;
  HttpResponse sa_reset(const HttpRequest& r, std::uint64_t id);
  HttpResponse packets_recent(const HttpRequest& r) const;
  HttpResponse packets_inspect(const HttpRequest& r) const;
  HttpResponse anomaly(std::uint64_t id) const;
  HttpResponse config() const;
  HttpResponse filters() const;
  HttpResponse add_filter(const HttpRequest& r);
  HttpResponse rules() const;
  HttpResponse add_rule(const HttpRequest& r);
  HttpResponse remove_rule(std::uint64_t id);
  HttpResponse remove_filter(std::uint64_t id);
  HttpResponse capture(const HttpRequest& r, bool pause);
  HttpResponse diagnostics(const HttpRequest& r) const;
  HttpResponse traffic(const HttpRequest& r, bool top) const;  ///< /api/v1/top, /api/v1/topology
  HttpResponse correlation(const HttpRequest& r) const;        ///< /api/v1/correlation

  HubState& st_;
  RateLimiter limiter_;
};

}  // namespace netscope::control
