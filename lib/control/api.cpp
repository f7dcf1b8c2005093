#include "netscope/control/api.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <functional>
#include <span>

#include <nlohmann/json.hpp>

#include "netscope/control/metrics.hpp"
#include "netscope/control/query.hpp"
#include "netscope/control/views.hpp"
#include "netscope/control/exposition.hpp"
#include "netscope/report/correlation.hpp"
#include "netscope/decode/field_rules.hpp"
#include "netscope/packet/pcapng.hpp"
#include "netscope_version.h"

#include <pcap/pcap.h>

namespace netscope::control {

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxPage = 1000;
constexpr std::uint64_t kMaxSaPage = 10000;
constexpr std::uint64_t kMaxHistoryPoints = 10000;
constexpr std::size_t kMaxFilterLength = 1024;

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

std::uint64_t id_segment(std::string_view s, const char* what) {
  const auto id = parse_id(s);
  if (!id) {
    throw ApiError(400, "bad_id", std::string(what) + " id must be a decimal integer between 1 and 2^53-1");
  }
  return *id;
}

bool keys_equal(const std::string& a, const std::string& b) noexcept {
  // Constant time in the length of the presented key.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

std::shared_ptr<const Published> need_snapshot(const HubState& st) {
  auto p = st.published();
  if (p == nullptr) throw ApiError(503, "not_ready", "no snapshot published yet; retry in a second");
  return p;
}

/// Parses an optional JSON object body; empty means {}.
json object_body(const HttpRequest& r) {
  if (r.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "bad_body", "request body is not valid JSON");
  if (!j.is_object()) throw ApiError(400, "bad_body", "request body must be a JSON object");
  return j;
}

/// Sorted, cursor-paginated page of `items` (pointers) after filtering.
template <typename T>
struct Page {
  std::vector<const T*> items;
  std::size_t total = 0;
  std::optional<Cursor> next;
};

template <typename T, typename Value>
Page<T> paginate(std::vector<const T*> matches, const std::string& sort, bool desc,
                 const std::optional<Cursor>& after, std::size_t limit, Value value) {
  Page<T> page;
  page.total = matches.size();
  auto before = [&](double va, std::uint64_t ia, double vb, std::uint64_t ib) {
    if (va != vb) return desc ? va > vb : va < vb;
    return desc ? ia > ib : ia < ib;
  };
  if (after) {
    std::erase_if(matches, [&](const T* t) { return !before(after->value, after->id, value(*t), t->id); });
  }
  const std::size_t n = std::min(limit, matches.size());
  const bool more = matches.size() > n;
  std::partial_sort(matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(n), matches.end(),
                    [&](const T* a, const T* b) { return before(value(*a), a->id, value(*b), b->id); });
  matches.resize(n);
  if (more && n > 0) {
    const T* last = matches.back();
    page.next = Cursor{sort, desc, value(*last), last->id};
  }
  page.items = std::move(matches);
  return page;
}

std::optional<Cursor> cursor_for(const Query& q, const std::string& sort, bool desc) {
  const auto text = q.str("cursor");
  if (!text) return std::nullopt;
  Cursor c = decode_cursor(*text);
  if (c.sort != sort || c.descending != desc) {
    throw ApiError(400, "bad_cursor", "cursor was made for sort=" + c.sort + " order=" +
                                          (c.descending ? "desc" : "asc") + "; repeat those parameters");
  }
  return c;
}

double flow_value(const StoredFlow& f, const std::string& sort) {
  const engine::FlowRecord& r = f.rec;
  const std::uint64_t bytes = r.a_to_b.bytes + r.b_to_a.bytes;
  if (sort == "bytes") return static_cast<double>(bytes);
  if (sort == "packets") return static_cast<double>(r.a_to_b.packets + r.b_to_a.packets);
  if (sort == "bandwidth") return bits_per_second(bytes, r.first_seen_ns, r.last_seen_ns);
  if (sort == "first_seen") return static_cast<double>(r.first_seen_ns);
  if (sort == "last_seen") return static_cast<double>(r.last_seen_ns);
  if (sort == "duration") return static_cast<double>(r.last_seen_ns - std::min(r.first_seen_ns, r.last_seen_ns));
  return static_cast<double>(f.id);
}

double sa_value(const SaView& v, const std::string& sort) {
  const seq::SequenceCounters& c = v.s.counters;
  if (sort == "lost") return static_cast<double>(c.lost);
  if (sort == "packets") return static_cast<double>(c.packets);
  if (sort == "bytes") return static_cast<double>(v.s.bytes);
  if (sort == "gaps") return static_cast<double>(c.gaps);
  if (sort == "duplicates") return static_cast<double>(c.duplicates);
  if (sort == "reordered") return static_cast<double>(c.reordered);
  if (sort == "out_of_window") return static_cast<double>(c.out_of_window);
  if (sort == "last_seen") return static_cast<double>(v.s.last_seen_ns);
  return static_cast<double>(v.id);
}

struct Address {
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t version = 0;
  [[nodiscard]] bool matches(const std::array<std::uint8_t, 16>& a, std::uint8_t v) const noexcept {
    if (v != version) return false;
    return std::memcmp(a.data(), bytes.data(), version == 4 ? 4 : 16) == 0;
  }
};

std::optional<Address> parse_address(const std::string& text) {
  Address a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.version = 4;
    return a;
  }
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.version = 6;
    return a;
  }
  return std::nullopt;
}

json page_json(const char* key, json items, std::size_t total, const std::optional<Cursor>& next) {
  json j;
  j["count"] = items.size();
  j["total"] = total;
  j["next_cursor"] = next ? json(encode_cursor(*next)) : json(nullptr);
  j[key] = std::move(items);
  return j;
}

/// Length and characters of a filter or rule text; `what` names it in the message.
TextProblem check_text(const std::string& text, const char* what) {
  if (text.empty() || text.size() > kMaxFilterLength) return {"bad_body", std::string(what) + " must have 1 to 1024 characters"};
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return {"bad_body", std::string(what) + " contains a control character"};
  }
  return {};
}

}  // namespace

TextProblem check_filter_expression(const std::string& expr) {
  if (TextProblem bad = check_text(expr, "expression")) return bad;
  // Compiled here once (libpcap, Ethernet) so that a bad expression is refused now rather
  // than a line on the control lcore's stderr later.
  pcap_t* p = pcap_open_dead(DLT_EN10MB, 65535);
  if (p == nullptr) return {};
  TextProblem bad;
  bpf_program prog{};
  if (pcap_compile(p, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    bad = {"bad_filter", "filter '" + expr.substr(0, 200) + "': " + pcap_geterr(p)};
  } else {
    pcap_freecode(&prog);
  }
  pcap_close(p);
  return bad;
}

TextProblem check_field_rule(const std::string& rule) {
  if (TextProblem bad = check_text(rule, "rule")) return bad;
  try {
    (void)decode::parse_field_rule(rule);  // a bad rule is refused now, not a log line later
  } catch (const decode::RuleError& e) {
    return {"bad_rule", "rule '" + rule.substr(0, 200) + "': " + e.what()};
  }
  return {};
}

HttpResponse error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"error", code}, {"message", message}, {"status", status}});
}

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_(rate_per_s), burst_(burst > 0 ? burst : std::max(1.0, 2.0 * rate_per_s)) {}

std::uint64_t RateLimiter::admit(const std::string& client, std::chrono::steady_clock::time_point now) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mu_);
  if (buckets_.size() >= 65536 && buckets_.find(client) == buckets_.end()) {
    // Forget clients whose bucket has refilled: they lose nothing.
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + std::chrono::duration<double>(now - kv.second.last).count() * rate_ >= burst_;
    });
    if (buckets_.size() >= 65536) return 1;  // a flood of distinct clients: refuse newcomers
  }
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return static_cast<std::uint64_t>(std::max(1.0, std::ceil((1.0 - b.tokens) / rate_)));
}

Api::Api(HubState& st) : st_(st), limiter_(st.cfg.rate_limit_rps, st.cfg.rate_limit_burst) {}

void Api::count(int status) {
  Rejection r = Rejection::bad_request;
  switch (status) {
    case 401: r = Rejection::unauthorized; break;
    case 404: r = Rejection::not_found; break;
    case 405: r = Rejection::method_not_allowed; break;
    case 413: r = Rejection::too_large; break;
    case 429: r = Rejection::rate_limited; break;
    case 503: r = Rejection::unavailable; break;
    default:
      if (status >= 500) r = Rejection::internal;
      else if (status < 400) return;
  }
  st_.counters.rejected[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::pair<std::string, std::string>> Api::cors_headers(const std::string& origin) const {
  if (origin.empty()) return {};
  for (const std::string& o : st_.cfg.cors_origins) {
    if (o == "*" || o == origin) {
      return {{"Access-Control-Allow-Origin", o == "*" ? "*" : origin}, {"Vary", "Origin"}};
    }
  }
  return {};
}

std::optional<HttpResponse> Api::admit(const HttpRequest& r) {
  const bool open_path = r.path == "/health" || (r.path == "/metrics" && !st_.cfg.metrics_require_key);
  if (!st_.cfg.api_key.empty() && !open_path) {
    std::string key = r.api_key;
    if (key.empty()) {
      // Browsers cannot set headers on a WebSocket: accept ?api_key= as well.
      try {
        key = Query(r.query).str("api_key").value_or("");
      } catch (const ApiError&) {
        key.clear();
      }
    }
    if (!keys_equal(key, st_.cfg.api_key)) {
      HttpResponse e = error_response(401, "unauthorized", key.empty() ? "missing X-API-Key header" : "wrong API key");
      e.headers.emplace_back("WWW-Authenticate", "ApiKey header=\"X-API-Key\"");
      return e;
    }
  }
  if (r.path.starts_with("/api/")) {
    const std::uint64_t wait = limiter_.admit(r.client, std::chrono::steady_clock::now());
    if (wait != 0) {
      HttpResponse e = error_response(429, "rate_limited",
                                      "too many requests; retry after " + std::to_string(wait) + " s");
      e.headers.emplace_back("Retry-After", std::to_string(wait));
      return e;
    }
  }
  return std::nullopt;
}

HttpResponse Api::handle(const HttpRequest& r) {
  st_.counters.http_requests.fetch_add(1, std::memory_order_relaxed);
  HttpResponse resp;
  try {
    if (r.method == "OPTIONS") {
      // CORS preflight: no credentials are sent with it.
      auto cors = cors_headers(r.origin);
      if (cors.empty()) {
        resp = error_response(403, "cors_forbidden", "origin not allowed");
      } else {
        resp.status = 204;
        resp.headers = std::move(cors);
        resp.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        resp.headers.emplace_back("Access-Control-Allow-Headers", "X-API-Key, Content-Type");
        resp.headers.emplace_back("Access-Control-Max-Age", "600");
      }
      count(resp.status);
      return resp;
    }
    if (auto rejected = admit(r)) {
      resp = std::move(*rejected);
    } else if (r.body_too_large) {
      resp = error_response(413, "too_large", "request body larger than " + std::to_string(st_.cfg.max_body_bytes) + " bytes");
    } else {
      resp = route(r);
    }
  } catch (const ApiError& e) {
    resp = error_response(e.status(), e.code(), e.what());
  } catch (const std::exception& e) {
    resp = error_response(500, "internal", std::string("internal error: ") + e.what());
  }
  for (auto& h : cors_headers(r.origin)) resp.headers.push_back(std::move(h));
  count(resp.status);
  return resp;
}

HttpResponse Api::route(const HttpRequest& r) {
  const auto seg = split_path(r.path);
  const auto method_not_allowed = [](const char* allow) {
    HttpResponse e = error_response(405, "method_not_allowed", std::string("allowed: ") + allow);
    e.headers.emplace_back("Allow", allow);
    return e;
  };
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool post = r.method == "POST";
  const auto only_get = [&](auto&& f) { return get ? f() : method_not_allowed("GET, HEAD"); };

  if (seg.size() == 1 && seg[0] == "health") return only_get([&] { return health(); });
  if (seg.size() == 1 && seg[0] == "metrics") {
    return only_get([&] {
      Query(r.query).allow_only({"api_key"});
      HttpResponse m;
      m.content_type = std::string(Exposition::kContentType);
      m.body = render_metrics(st_);
      return m;
    });
  }
  if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1") {
    throw ApiError(404, "not_found", "no such path: " + r.path.substr(0, 200));
  }
  const std::string_view a = seg[2];
  const std::size_t n = seg.size() - 2;  // segments after /api/v1
  if (a == "stats" && n == 2) {
    if (seg[3] == "current") return only_get([&] { return stats_current(r); });
    if (seg[3] == "summary") return only_get([&] { return stats_summary(r); });
    if (seg[3] == "history") return only_get([&] { return stats_history(r); });
  }
  if (a == "flows" && n == 1) return only_get([&] { return flows(r); });
  if (a == "flows" && n == 2) return only_get([&] { return flow(id_segment(seg[3], "flow")); });
  if (a == "sas" && n == 1) return only_get([&] { return sas(r); });
  if (a == "sas" && n == 2) return only_get([&] { return sa(id_segment(seg[3], "SA")); });
  // Per-SA subresources. The capstone API calls sequence-tracked flows "flows", so
  // flows/{id}/... takes an SA id (as sas/{id}/...); finished-flow records have no sequence.
  if ((a == "flows" || a == "sas") && n == 3) {
    const std::string_view sub = seg[4];
    const std::uint64_t id = id_segment(seg[3], "SA");
    if (sub == "sequence") return only_get([&] { return sa_sequence(id); });
    if (sub == "gaps") return only_get([&] { return sa_anomalies(r, id, true); });
    if (sub == "anomalies") return only_get([&] { return sa_anomalies(r, id, false); });
    if (sub == "reset") {
      if (!post) return method_not_allowed("POST");
      return sa_reset(r, id);
    }
  }
  if (a == "packets" && n == 2 && seg[3] == "recent") return only_get([&] { return packets_recent(r); });
  if (a == "packets" && n == 2 && seg[3] == "inspect") return only_get([&] { return packets_inspect(r); });
  if (a == "anomalies" && n == 1) return only_get([&] { return anomalies(r); });
  if (a == "anomalies" && n == 2) return only_get([&] { return anomaly(id_segment(seg[3], "anomaly")); });
  if (a == "config" && n == 1) return only_get([&] { return config(); });
  if (a == "config" && n == 2 && seg[3] == "filters") {
    if (get) return filters();
    if (post) return add_filter(r);
    return method_not_allowed("GET, HEAD, POST");
  }
  if (a == "config" && n == 2 && seg[3] == "rules") {
    if (get) return rules();
    if (post) return add_rule(r);
    return method_not_allowed("GET, HEAD, POST");
  }
  if (a == "config" && n == 3 && seg[3] == "rules") {
    if (r.method != "DELETE") return method_not_allowed("DELETE");
    return remove_rule(id_segment(seg[4], "rule"));
  }
  if (a == "config" && n == 3 && seg[3] == "filters") {
    if (r.method != "DELETE") return method_not_allowed("DELETE");
    return remove_filter(id_segment(seg[4], "filter"));
  }
  if (a == "capture" && n == 2 && (seg[3] == "pause" || seg[3] == "resume")) {
    if (!post) return method_not_allowed("POST");
    return capture(r, seg[3] == "pause");
  }
  if (a == "diagnostics" && n == 1) return only_get([&] { return diagnostics(r); });
  if ((a == "top" || a == "topology") && n == 1) return only_get([&] { return traffic(r, a == "top"); });
  if (a == "correlation" && n == 1) return only_get([&] { return correlation(r); });
  if (a == "stream" && n == 2 && (seg[3] == "stats" || seg[3] == "anomalies" || seg[3] == "flows")) {
    throw ApiError(400, "upgrade_required", "this is a WebSocket endpoint: send an Upgrade: websocket request");
  }
  throw ApiError(404, "not_found", "no such path: " + r.path.substr(0, 200));
}

HttpResponse Api::health() const {
  const auto pub = st_.published();
  const std::uint64_t now = wall_ns();
  json j;
  j["status"] = "ok";
  j["version"] = NETSCOPE_VERSION;
  j["uptime_s"] = static_cast<double>(now - std::min(now, st_.start_ns)) / 1e9;
  j["snapshot"] = {{"received", pub != nullptr},
                   {"age_s", pub != nullptr ? static_cast<double>(now - std::min(now, pub->received_ns)) / 1e9 : 0.0}};
  std::string db = "disabled";
  if (st_.db_enabled.load()) db = st_.db.errors.load() == 0 ? "ok" : "errors";
  j["database"] = db;
  return json_response(200, j);
}

HttpResponse Api::stats_current(const HttpRequest& r) const {
  Query(r.query).allow_only({"api_key"});
  return json_response(200, stats_json(*need_snapshot(st_)));
}

HttpResponse Api::stats_summary(const HttpRequest& r) const {
  Query(r.query).allow_only({"api_key"});
  const auto pub = need_snapshot(st_);
  const Snapshot& s = *pub->snap;
  json j;
  j["time"] = s.time_ns;
  j["uptime_s"] = s.uptime_s;
  j["mode"] = s.mode;
  j["paused"] = s.paused;
  j["packets"] = s.packets;
  j["bytes"] = s.bytes;
  const double up = s.uptime_s > 0 ? s.uptime_s : 0;
  j["average"] = {{"packets_per_second", up > 0 ? static_cast<double>(s.packets) / up : 0.0},
                  {"bits_per_second", up > 0 ? static_cast<double>(s.bytes) * 8.0 / up : 0.0}};
  double ppk = 0, bpk = 0;
  st_.history.peaks(ppk, bpk);
  j["peak"] = {{"packets_per_second", ppk}, {"bits_per_second", bpk}};
  json totals = json::object();
  for (const SaView& v : pub->sas) {
    json& t = totals[std::string(seq::to_string(v.s.key.protocol))];
    if (t.is_null()) t = json::object();
    const seq::SequenceCounters& c = v.s.counters;
    const std::pair<const char*, std::uint64_t> add[] = {
        {"sas", 1},           {"packets", c.packets},     {"bytes", v.s.bytes},   {"lost", c.lost},
        {"gaps", c.gaps},     {"duplicates", c.duplicates}, {"reordered", c.reordered},
        {"out_of_window", c.out_of_window}, {"rollovers", c.rollovers}, {"resets", c.resets},
        {"rekeys", c.rekeys}, {"stuck", c.stuck}};
    for (const auto& [k, val] : add) t[k] = t.value(k, std::uint64_t{0}) + val;
  }
  j["sa_totals"] = totals;
  j["sas"] = pub->sas.size();
  std::uint64_t events_total = 0;
  json counts = json::object();
  for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
    counts[std::string(seq::to_string(static_cast<seq::EventType>(i)))] = s.events[i];
    events_total += s.events[i];
  }
  j["anomaly_counts"] = counts;
  j["anomalies_total"] = events_total;
  j["anomalies_stored"] = st_.events.size();
  j["flows"] = {{"active", s.flows_active},   {"created", s.flows_created}, {"expired", s.flows_expired},
                {"evicted", s.flows_evicted}, {"stored", st_.flows.size()}};
  std::vector<const SaView*> top;
  for (const SaView& v : pub->sas) {
    if (v.s.counters.lost > 0) top.push_back(&v);
  }
  const std::size_t k = std::min<std::size_t>(5, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(),
                    [](const SaView* x, const SaView* y) {
                      return x->s.counters.lost != y->s.counters.lost ? x->s.counters.lost > y->s.counters.lost
                                                                      : x->id < y->id;
                    });
  json tj = json::array();
  for (std::size_t i = 0; i < k; ++i) tj.push_back(sa_json(*top[i]));
  j["top_sas_by_loss"] = tj;
  return json_response(200, j);
}

HttpResponse Api::stats_history(const HttpRequest& r) const {
  const Query q(r.query);
  q.allow_only({"duration", "interval", "api_key"});
  const std::uint64_t max_duration = std::max<std::uint64_t>(st_.cfg.history_seconds, 1);
  const std::uint64_t duration = q.seconds("duration", std::min<std::uint64_t>(300, max_duration), 1, max_duration);
  const std::uint64_t interval = q.seconds("interval", 1, 1, duration);
  const std::uint64_t buckets = (duration + interval - 1) / interval;
  if (buckets > kMaxHistoryPoints) {
    throw ApiError(400, "bad_parameter", "duration/interval gives more than 10000 points; raise interval");
  }
  const auto pub = need_snapshot(st_);
  const std::uint64_t end_s = pub->snap->time_ns / 1'000'000'000ull + 1;
  const std::uint64_t start_s = end_s - std::min(end_s, buckets * interval);
  const auto pts = st_.history.since(start_s * 1'000'000'000ull);
  struct Bucket {
    std::uint64_t packets = 0, bytes = 0, anomalies = 0, malformed = 0, flows_created = 0, dropped = 0, samples = 0;
  };
  std::vector<Bucket> b(buckets);
  for (std::size_t i = 1; i < pts.size(); ++i) {
    const HistoryPoint& x = pts[i - 1];
    const HistoryPoint& y = pts[i];
    const std::uint64_t t = y.time_ns / 1'000'000'000ull;
    if (t < start_s || t >= start_s + buckets * interval) continue;
    Bucket& k = b[(t - start_s) / interval];
    k.packets += counter_delta(x.packets, y.packets);
    k.bytes += counter_delta(x.bytes, y.bytes);
    k.anomalies += counter_delta(x.anomalies, y.anomalies);
    k.malformed += counter_delta(x.malformed, y.malformed);
    k.flows_created += counter_delta(x.flows_created, y.flows_created);
    k.dropped += counter_delta(x.dropped, y.dropped);
    ++k.samples;
  }
  json points = json::array();
  for (std::uint64_t i = 0; i < buckets; ++i) {
    const Bucket& k = b[i];
    const double secs = static_cast<double>(interval);
    points.push_back({{"time", (start_s + i * interval) * 1'000'000'000ull},
                      {"samples", k.samples},
                      {"packets", k.packets},
                      {"bytes", k.bytes},
                      {"packets_per_second", static_cast<double>(k.packets) / secs},
                      {"bits_per_second", static_cast<double>(k.bytes) * 8.0 / secs},
                      {"anomalies", k.anomalies},
                      {"malformed", k.malformed},
                      {"flows_created", k.flows_created},
                      {"dropped", k.dropped}});
  }
  return json_response(200, {{"duration_s", duration},
                             {"interval_s", interval},
                             {"start", start_s * 1'000'000'000ull},
                             {"end", (start_s + buckets * interval) * 1'000'000'000ull},
                             {"points", points}});
}

HttpResponse Api::flows(const HttpRequest& r) const {
  const Query q(r.query);
  q.allow_only({"protocol", "ip_version", "addr", "port", "vlan", "min_bytes", "min_packets", "min_bandwidth",
                "end_reason", "since", "sort", "order", "limit", "cursor", "api_key"});
  std::optional<std::uint8_t> proto;
  if (const auto p = q.str("protocol")) {
    proto = ip_protocol(*p);
    if (!proto) throw ApiError(400, "bad_parameter", "query parameter 'protocol': expected a name (tcp, udp, icmp, icmpv6, esp, ah, gre, sctp) or 0..255");
  }
  const auto ipv = q.opt_u64("ip_version", 4, 6);
  if (ipv && *ipv != 4 && *ipv != 6) throw ApiError(400, "bad_parameter", "query parameter 'ip_version': 4 or 6");
  std::optional<Address> addr;
  if (const auto t = q.str("addr")) {
    addr = parse_address(*t);
    if (!addr) throw ApiError(400, "bad_parameter", "query parameter 'addr': not an IPv4 or IPv6 address");
  }
  const auto port = q.opt_u64("port", 0, 65535);
  const auto vlan = q.opt_u64("vlan", 0, 4095);
  const auto min_bytes = q.opt_u64("min_bytes");
  const auto min_packets = q.opt_u64("min_packets");
  const auto min_bw = q.opt_number("min_bandwidth");
  std::optional<flow::EndReason> reason;
  if (q.has("end_reason")) {
    const std::string t = q.choice("end_reason", {"idle_timeout", "table_full", "shutdown"}, "");
    for (auto e : {flow::EndReason::idle_timeout, flow::EndReason::table_full, flow::EndReason::shutdown}) {
      if (flow::to_string(e) == t) reason = e;
    }
  }
  const auto since = q.opt_u64("since");
  const std::string sort = q.choice("sort", {"id", "bytes", "packets", "bandwidth", "first_seen", "last_seen", "duration"}, "id");
  const bool desc = q.choice("order", {"asc", "desc"}, sort == "id" ? "asc" : "desc") == "desc";
  const std::uint64_t limit = q.u64("limit", 100, 1, kMaxPage);
  const auto after = cursor_for(q, sort, desc);

  const json body = st_.flows.read([&](const std::deque<StoredFlow>& items) {
    std::vector<const StoredFlow*> matches;
    for (const StoredFlow& f : items) {
      const engine::FlowRecord& x = f.rec;
      if (proto && x.key.protocol != *proto) continue;
      if (ipv && x.key.ip_version != *ipv) continue;
      if (addr && !addr->matches(x.key.addr_a, x.key.ip_version) && !addr->matches(x.key.addr_b, x.key.ip_version)) continue;
      if (port && x.key.port_a != *port && x.key.port_b != *port) continue;
      if (vlan && x.key.vlan != *vlan) continue;
      const std::uint64_t bytes = x.a_to_b.bytes + x.b_to_a.bytes;
      if (min_bytes && bytes < *min_bytes) continue;
      if (min_packets && x.a_to_b.packets + x.b_to_a.packets < *min_packets) continue;
      if (min_bw && bits_per_second(bytes, x.first_seen_ns, x.last_seen_ns) < *min_bw) continue;
      if (reason && x.reason != *reason) continue;
      if (since && x.last_seen_ns < *since) continue;
      matches.push_back(&f);
    }
    const auto page = paginate<StoredFlow>(std::move(matches), sort, desc, after, limit,
                                           [&](const StoredFlow& f) { return flow_value(f, sort); });
    json list = json::array();
    for (const StoredFlow* f : page.items) list.push_back(flow_json(*f));
    return page_json("flows", std::move(list), page.total, page.next);
  });
  return json_response(200, body);
}

HttpResponse Api::flow(std::uint64_t id) const {
  const auto f = st_.flows.get(id);
  if (!f) throw ApiError(404, "not_found", "no finished flow with id " + std::to_string(id) + " is kept");
  return json_response(200, flow_json(*f));
}

HttpResponse Api::sas(const HttpRequest& r) const {
  const Query q(r.query);
  q.allow_only({"protocol", "port", "min_lost", "sort", "order", "limit", "offset", "api_key"});
  std::optional<seq::SaProtocol> proto;
  if (q.has("protocol")) proto = sa_protocol(q.choice("protocol", {"macsec", "esp", "ah"}, ""));
  const auto port = q.opt_u64("port", 0, 65535);
  const auto min_lost = q.opt_u64("min_lost");
  const std::string sort = q.choice("sort", {"id", "lost", "packets", "bytes", "gaps", "duplicates", "reordered", "out_of_window", "last_seen"}, "id");
  const bool desc = q.choice("order", {"asc", "desc"}, sort == "id" ? "asc" : "desc") == "desc";
  const std::uint64_t limit = q.u64("limit", 100, 1, kMaxSaPage);
  const std::uint64_t offset = q.u64("offset", 0);
  const auto pub = need_snapshot(st_);
  std::vector<const SaView*> m;
  for (const SaView& v : pub->sas) {
    if (proto && v.s.key.protocol != *proto) continue;
    if (port && v.s.port != *port) continue;
    if (min_lost && v.s.counters.lost < *min_lost) continue;
    m.push_back(&v);
  }
  const auto less = [&](const SaView* x, const SaView* y) {
    const double a = sa_value(*x, sort), b = sa_value(*y, sort);
    if (a != b) return desc ? a > b : a < b;
    return x->id < y->id;
  };
  const std::size_t first = static_cast<std::size_t>(std::min<std::uint64_t>(offset, m.size()));
  const std::size_t last = static_cast<std::size_t>(std::min<std::uint64_t>(first + limit, m.size()));
  std::partial_sort(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(last), m.end(), less);
  json list = json::array();
  for (std::size_t i = first; i < last; ++i) list.push_back(sa_json(*m[i]));
  return json_response(200, {{"count", list.size()}, {"total", m.size()}, {"offset", first}, {"time", pub->snap->time_ns}, {"sas", list}});
}

HttpResponse Api::sa(std::uint64_t id) const {
  const auto pub = need_snapshot(st_);
  const SaView* v = pub->find_sa(id);
  if (v == nullptr) throw ApiError(404, "not_found", "no SA with id " + std::to_string(id));
  return json_response(200, sa_json(*v));
}

HttpResponse Api::sa_sequence(std::uint64_t id) const {
  const auto pub = need_snapshot(st_);
  const SaView* v = pub->find_sa(id);
  if (v == nullptr) throw ApiError(404, "not_found", "no SA with id " + std::to_string(id));
  return json_response(200, sequence_json(*v));
}

HttpResponse Api::sa_anomalies(const HttpRequest& r, std::uint64_t id, bool gaps_only) const {
  const Query q(r.query);
  if (q.has("sa")) throw ApiError(400, "bad_parameter", "query parameter 'sa': the SA is in the path");
  if (gaps_only && q.has("type")) throw ApiError(400, "bad_parameter", "query parameter 'type': gaps lists gaps only");
  const auto pub = need_snapshot(st_);
  if (pub->find_sa(id) == nullptr) throw ApiError(404, "not_found", "no SA with id " + std::to_string(id));
  HttpRequest sub = r;
  sub.query += (sub.query.empty() ? "" : "&") + std::string("sa=") + std::to_string(id);
  if (gaps_only) sub.query += "&type=gap";
  return anomalies(sub);
}

HttpResponse Api::sa_reset(const HttpRequest& r, std::uint64_t id) {
  Query(r.query).allow_only({"api_key"});
  if (!r.body.empty()) {
    const json b = object_body(r);
    if (!b.empty()) throw ApiError(400, "bad_body", "reset takes no body (or {})");
  }
  const auto pub = need_snapshot(st_);
  if (pub->find_sa(id) == nullptr) throw ApiError(404, "not_found", "no SA with id " + std::to_string(id));
  Command c;
  c.type = Command::Type::reset_flow;
  c.id = id;
  if (!st_.push_command(std::move(c))) throw ApiError(503, "busy", "command queue full; retry later");
  return json_response(202, {{"id", id}, {"reset", "requested"}});
}

HttpResponse Api::packets_recent(const HttpRequest& r) const {
  const Query q(r.query);
  q.allow_only({"flow_id", "sa", "class", "verdict", "port", "count", "api_key"});
  std::optional<std::uint64_t> sa;
  for (const char* name : {"flow_id", "sa"}) {
    if (const auto t = q.str(name)) {
      sa = parse_id(*t);
      if (!sa) throw ApiError(400, "bad_parameter", std::string("query parameter '") + name + "': an SA id");
    }
  }
  std::optional<std::string> cls;
  if (const auto t = q.str("class")) {
    bool known = false;
    for (std::size_t i = 0; i < engine::kTrafficClassCount; ++i) known |= *t == engine::to_string(static_cast<engine::TrafficClass>(i));
    if (!known) throw ApiError(400, "bad_parameter", "query parameter 'class': macsec, esp, ah, ike, tcp, udp, icmp, icmpv6, other_ip, arp or other");
    cls = std::string(*t);
  }
  std::optional<std::string> verdict;
  if (const auto t = q.str("verdict")) {
    bool known = false;
    for (int i = 0; i <= static_cast<int>(engine::PacketVerdict::malformed); ++i) known |= *t == engine::to_string(static_cast<engine::PacketVerdict>(i));
    if (!known) {
      throw ApiError(400, "bad_parameter", "query parameter 'verdict': none, in_order, gap, duplicate, reordered, out_of_window, rollover, "
                                           "reset, rekey, stuck or malformed");
    }
    verdict = std::string(*t);
  }
  const auto port = q.opt_u64("port", 0, 65535);
  const std::uint64_t count = q.u64("count", 100, 1, kMaxPage);
  const json body = st_.packets.read([&](const std::deque<StoredPacket>& items) {
    json list = json::array();
    for (auto it = items.rbegin(); it != items.rend() && list.size() < count; ++it) {
      const engine::PacketSummary& p = it->pkt;
      if (sa && (!p.has_sa || sa_id(p.sa) != *sa)) continue;
      if (cls && engine::to_string(p.cls) != *cls) continue;
      if (verdict && engine::to_string(p.verdict) != *verdict) continue;
      if (port && p.port != *port) continue;
      list.push_back(packet_json(*it));
    }
    return json{{"packets", std::move(list)}, {"stored", items.size()}};
  });
  json out = body;
  out["tapped"] = st_.counters.packets_received.load(std::memory_order_relaxed);
  out["dropped"] = st_.counters.ingest_dropped_packets.load(std::memory_order_relaxed);
  return json_response(200, out);
}

HttpResponse Api::packets_inspect(const HttpRequest& r) const {
  const Query q(r.query);
  q.allow_only({"port", "limit", "format", "api_key"});
  const auto port = q.opt_u64("port", 0, 65535);
  const std::uint64_t limit = q.u64("limit", 4096, 1, 4096);
  const std::string format = q.choice("format", {"json", "pcapng"}, "json");
  const auto pub = need_snapshot(st_);
  const Snapshot& s = *pub->snap;
  if (!s.inspector) throw ApiError(404, "not_found", "the packet inspector is off (inspector.packets: 0)");
  const InspectorView& v = *s.inspector;
  if (port && std::none_of(s.ports.begin(), s.ports.end(), [&](const PortStats& p) { return p.id == *port; })) {
    throw ApiError(404, "not_found", "no port " + std::to_string(*port));
  }
  // The ports asked for, each with its last `limit` frames, oldest first.
  std::vector<std::pair<const PortStats*, std::span<const InspectedFrame>>> chosen;
  for (const PortStats& p : s.ports) {
    if (port && p.id != *port) continue;
    std::span<const InspectedFrame> frames;
    if (p.id < v.ports.size()) frames = v.ports[p.id];
    if (frames.size() > limit) frames = frames.last(limit);
    chosen.emplace_back(&p, frames);
  }
  if (format == "pcapng") {
    HttpResponse out;
    out.content_type = "application/x-pcapng";
    packet::pcapng_section(out.body, "netscope packet inspector");
    for (const auto& [p, frames] : chosen) packet::pcapng_interface(out.body, {p->name, p->driver, v.snaplen});
    for (std::uint32_t i = 0; i < chosen.size(); ++i) {
      for (const InspectedFrame& f : chosen[i].second) {
        packet::pcapng_packet(out.body, i, f.timestamp_ns, f.bytes, f.wire_len);
      }
    }
    return out;
  }
  json list = json::array();
  for (const auto& [p, frames] : chosen) {
    json packets = json::array();
    for (const InspectedFrame& f : frames) packets.push_back(inspected_json(f));
    list.push_back({{"port", p->id}, {"name", p->name}, {"packets", std::move(packets)}});
  }
  return json_response(200, {{"updated", v.updated_ns}, {"per_port", v.per_port}, {"snaplen", v.snaplen},
                              {"ports", std::move(list)}});
}

HttpResponse Api::anomalies(const HttpRequest& r) const {
  const Query q(r.query);
  q.allow_only({"type", "sa", "protocol", "port", "since", "until", "order", "limit", "cursor", "api_key"});
  // A sequence event type or a detection (analysis::AlertType), compared by name.
  std::optional<std::string> type;
  if (const auto t = q.str("type")) {
    bool known = event_type(*t).has_value();
    for (std::size_t i = 0; i < analysis::kAlertTypeCount; ++i) known |= *t == analysis::to_string(static_cast<analysis::AlertType>(i));
    if (!known) {
      throw ApiError(400, "bad_parameter", "query parameter 'type': gap, duplicate, reordered, out_of_window, rollover, reset, rekey, stuck, "
                                           "syn_flood, port_scan, host_scan, ddos or mac_ip_change");
    }
    type = std::string(*t);
  }
  std::optional<std::uint64_t> sa;
  if (const auto t = q.str("sa")) {
    sa = parse_id(*t);
    if (!sa) throw ApiError(400, "bad_parameter", "query parameter 'sa': an SA id");
  }
  std::optional<seq::SaProtocol> proto;
  if (q.has("protocol")) proto = sa_protocol(q.choice("protocol", {"macsec", "esp", "ah"}, ""));
  const auto port = q.opt_u64("port", 0, 65535);
  const auto since = q.opt_u64("since");
  const auto until = q.opt_u64("until");
  const bool desc = q.choice("order", {"asc", "desc"}, "asc") == "desc";
  const std::uint64_t limit = q.u64("limit", 100, 1, kMaxPage);
  const auto after = cursor_for(q, "id", desc);
  const json body = st_.events.read([&](const std::deque<StoredEvent>& items) {
    json list = json::array();
    std::size_t total = 0;
    std::optional<Cursor> next;
    std::uint64_t last_id = 0;
    const auto visit = [&](const StoredEvent& e) {
      const engine::AnomalyEvent& ev = e.ev;
      if (type && engine::anomaly_type_name(ev) != *type) return;
      if ((proto || sa) && ev.source != engine::AnomalySource::sequence) return;
      if (proto && ev.sa.protocol != *proto) return;
      if (port && ev.port != *port) return;
      if (since && ev.timestamp_ns < *since) return;
      if (until && ev.timestamp_ns > *until) return;
      if (sa && sa_id(ev.sa) != *sa) return;
      ++total;
      if (after && (desc ? e.id >= after->id : e.id <= after->id)) return;
      if (list.size() < limit) {
        list.push_back(anomaly_json(e));
        last_id = e.id;
      } else if (!next) {
        next = Cursor{"id", desc, static_cast<double>(last_id), last_id};
      }
    };
    if (desc) {
      for (auto it = items.rbegin(); it != items.rend(); ++it) visit(*it);
    } else {
      for (const StoredEvent& e : items) visit(e);
    }
    return page_json("anomalies", std::move(list), total, next);
  });
  return json_response(200, body);
}

HttpResponse Api::traffic(const HttpRequest& r, bool top) const {
  Query(r.query).allow_only({"api_key"});
  const auto pub = need_snapshot(st_);
  json j = top ? top_json(*pub) : topology_json(*pub);
  if (j.is_null()) throw ApiError(404, "sensors_disabled", "traffic sensors are off (sensors.enabled: false)");
  return json_response(200, j);
}

HttpResponse Api::correlation(const HttpRequest& r) const {
  Query(r.query).allow_only({"api_key"});
  const auto pub = need_snapshot(st_);
  if (!pub->snap->correlation) {
    throw ApiError(404, "correlation_disabled", "no port pair is correlated (correlation.pairs, --correlate)");
  }
  json j = report::correlation_json(*pub->snap->correlation);
  j["time"] = pub->snap->time_ns;
  return json_response(200, j);
}

HttpResponse Api::anomaly(std::uint64_t id) const {
  const auto e = st_.events.get(id);
  if (!e) throw ApiError(404, "not_found", "no anomaly with id " + std::to_string(id) + " is kept");
  return json_response(200, anomaly_json(*e));
}

HttpResponse Api::config() const {
  const HubConfig& c = st_.cfg;
  json runtime = json::parse(st_.runtime_config(), nullptr, false);
  if (runtime.is_discarded()) runtime = json::object();
  json filters = json::array();
  for (const Filter& f : st_.filters()) filters.push_back({{"id", f.id}, {"expression", f.expression}, {"created", f.created_ns}});
  json j;
  j["api"] = {{"listen", c.api_listen},
              {"api_key_set", !c.api_key.empty()},
              {"cors_origins", c.cors_origins},
              {"rate_limit_rps", c.rate_limit_rps},
              {"rate_limit_burst", c.rate_limit_burst},
              {"tls", !c.tls_certificate.empty()},
              {"threads", c.api_threads},
              {"max_events", c.max_events},
              {"max_flows", c.max_flows},
              {"history_seconds", c.history_seconds},
              {"ws_max_clients", c.ws_max_clients},
              {"ws_queue_messages", c.ws_queue_messages},
              {"ws_queue_bytes", c.ws_queue_bytes}};
  j["database"] = {{"path", c.db_path},
                   {"enabled", !c.db_path.empty()},
                   {"flush_interval_ms", c.db_flush_interval_ms},
                   {"batch_rows", c.db_batch_rows},
                   {"retention_s", c.db_retention_s},
                   {"raw_retention_s", c.db_raw_retention_s}};
  j["runtime"] = runtime;
  j["filters"] = filters;
  return json_response(200, j);
}

HttpResponse Api::filters() const {
  json list = json::array();
  for (const Filter& f : st_.filters()) list.push_back({{"id", f.id}, {"expression", f.expression}, {"created", f.created_ns}});
  return json_response(200, {{"filters", list}});
}

HttpResponse Api::add_filter(const HttpRequest& r) {
  Query(r.query).allow_only({"api_key"});
  const json b = object_body(r);
  for (const auto& [k, v] : b.items()) {
    if (k != "expression") throw ApiError(400, "bad_body", "unknown field '" + k.substr(0, 64) + "'; expected {\"expression\": \"...\"}");
  }
  if (!b.contains("expression") || !b["expression"].is_string()) {
    throw ApiError(400, "bad_body", "expected {\"expression\": \"...\"} with a string expression");
  }
  std::string expr = b["expression"].get<std::string>();
  if (const TextProblem bad = check_filter_expression(expr)) throw ApiError(400, bad.code, bad.message);
  const auto f = st_.add_filter(std::move(expr));
  if (!f) throw ApiError(503, "busy", "command queue full; retry later");
  HttpResponse resp = json_response(201, {{"id", f->id}, {"expression", f->expression}, {"created", f->created_ns}});
  resp.headers.emplace_back("Location", "/api/v1/config/filters/" + std::to_string(f->id));
  return resp;
}

HttpResponse Api::rules() const {
  json list = json::array();
  for (const Filter& f : st_.rules()) list.push_back({{"id", f.id}, {"rule", f.expression}, {"created", f.created_ns}});
  return json_response(200, {{"rules", list}});
}

HttpResponse Api::add_rule(const HttpRequest& r) {
  Query(r.query).allow_only({"api_key"});
  const json b = object_body(r);
  for (const auto& [k, v] : b.items()) {
    if (k != "rule") throw ApiError(400, "bad_body", "unknown field '" + k.substr(0, 64) + "'; expected {\"rule\": \"...\"}");
  }
  if (!b.contains("rule") || !b["rule"].is_string()) {
    throw ApiError(400, "bad_body", "expected {\"rule\": \"include|exclude KEY=VALUE...\"} with a string rule");
  }
  std::string text = b["rule"].get<std::string>();
  if (const TextProblem bad = check_field_rule(text)) throw ApiError(400, bad.code, bad.message);
  const auto f = st_.add_rule(std::move(text));
  if (!f) throw ApiError(503, "busy", "command queue full; retry later");
  HttpResponse resp = json_response(201, {{"id", f->id}, {"rule", f->expression}, {"created", f->created_ns}});
  resp.headers.emplace_back("Location", "/api/v1/config/rules/" + std::to_string(f->id));
  return resp;
}

HttpResponse Api::remove_rule(std::uint64_t id) {
  if (!st_.remove_rule(id)) throw ApiError(404, "not_found", "no rule with id " + std::to_string(id));
  return json_response(200, {{"id", id}, {"removed", true}});
}

HttpResponse Api::remove_filter(std::uint64_t id) {
  if (!st_.remove_filter(id)) throw ApiError(404, "not_found", "no filter with id " + std::to_string(id));
  return json_response(200, {{"id", id}, {"removed", true}});
}

HttpResponse Api::capture(const HttpRequest& r, bool pause) {
  Query(r.query).allow_only({"api_key"});
  const json b = object_body(r);
  if (!b.empty()) throw ApiError(400, "bad_body", "this endpoint takes no body fields");
  if (!st_.push_command({pause ? Command::Type::pause : Command::Type::resume, 0, {}})) {
    throw ApiError(503, "busy", "command queue full; retry later");
  }
  const auto pub = st_.published();
  return json_response(202, {{"command", pause ? "pause" : "resume"},
                             {"queued", true},
                             {"paused", pub != nullptr && pub->snap->paused}});
}

HttpResponse Api::diagnostics(const HttpRequest& r) const {
  Query(r.query).allow_only({"api_key"});
  const auto pub = st_.published();
  const std::uint64_t now = wall_ns();
  const auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  json j;
  json hub;
  hub["snapshot_age_s"] = pub != nullptr ? json(static_cast<double>(now - std::min(now, pub->received_ns)) / 1e9) : json(nullptr);
  hub["snapshots"] = ld(st_.counters.snapshots);
  hub["dropped"] = {{"anomaly", ld(st_.counters.ingest_dropped_events)},
                    {"flow", ld(st_.counters.ingest_dropped_flows)},
                    {"database", ld(st_.db.rows_dropped)},
                    {"command", ld(st_.counters.commands_dropped)}};
  hub["stored"] = {{"flows", st_.flows.size()}, {"anomalies", st_.events.size()}};
  hub["commands_pending"] = st_.commands_pending();
  json ws = json::object();
  for (std::size_t i = 0; i < kStreamCount; ++i) {
    ws[std::string(to_string(static_cast<Stream>(i)))] = {{"clients", ld(st_.counters.ws_clients[i])},
                                                          {"messages", ld(st_.counters.ws_messages[i])},
                                                          {"slow_closed", ld(st_.counters.ws_slow_closed[i])}};
  }
  hub["websocket"] = ws;
  hub["database"] = {{"enabled", st_.db_enabled.load()},
                     {"queued", ld(st_.db.queued)},
                     {"rows_written", ld(st_.db.rows_written)},
                     {"batches", ld(st_.db.batches)},
                     {"errors", ld(st_.db.errors)},
                     {"last_commit", ld(st_.db.last_commit_ns)}};
  j["hub"] = hub;
  if (pub == nullptr) {
    j["time"] = nullptr;
    j["lcores"] = json::array();
    return json_response(200, j);
  }
  const Snapshot& s = *pub->snap;
  j["time"] = s.time_ns;
  json lcores = json::array();
  for (const LcoreStats& l : s.lcores) {
    const double all = static_cast<double>(l.busy_cycles + l.idle_cycles);
    json jl = {{"lcore", l.lcore},
               {"role", l.role},
               {"packets", l.packets},
               {"busy_cycles", l.busy_cycles},
               {"idle_cycles", l.idle_cycles},
               {"load", all > 0 ? static_cast<double>(l.busy_cycles) / all : 0.0},
               {"ring_fill", l.ring_fill},
               {"ring_size", l.ring_size},
               {"ring_fill_ratio", l.ring_size > 0 ? static_cast<double>(l.ring_fill) / static_cast<double>(l.ring_size) : 0.0}};
    jl["recent_load"] = nullptr;
    if (pub->prev != nullptr) {
      for (const LcoreStats& o : pub->prev->lcores) {
        if (o.lcore != l.lcore) continue;
        const std::uint64_t busy = counter_delta(o.busy_cycles, l.busy_cycles);
        const std::uint64_t idle = counter_delta(o.idle_cycles, l.idle_cycles);
        if (busy + idle > 0) jl["recent_load"] = static_cast<double>(busy) / static_cast<double>(busy + idle);
      }
    }
    lcores.push_back(jl);
  }
  j["lcores"] = lcores;
  j["mempool"] = {{"in_use", s.mempool_in_use},
                  {"size", s.mempool_size},
                  {"use_ratio", s.mempool_size > 0 ? static_cast<double>(s.mempool_in_use) / static_cast<double>(s.mempool_size) : 0.0}};
  std::uint64_t missed = 0, nombuf = 0, errors = 0;
  for (const PortStats& p : s.ports) {
    missed += p.rx_missed;
    nombuf += p.rx_nombuf;
    errors += p.rx_errors;
  }
  j["drops"] = {{"ring_drops", s.ring_drops},       {"ring_waits", s.ring_waits},
                {"events_dropped", s.events_dropped}, {"flow_records_dropped", s.flow_records_dropped},
                {"rx_missed", missed},               {"rx_nombuf", nombuf},
                {"rx_errors", errors},               {"sa_table_full", s.sa_table_full},
                {"wrong_lcore", s.wrong_lcore}};
  return json_response(200, j);
}

}  // namespace netscope::control
