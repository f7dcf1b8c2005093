// docs/openapi.yaml matches the implementation: every documented operation answers on a
// live hub with a body that validates against its documented schema, and every route the
// hub serves is documented.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "support.hpp"

namespace netscope::control {
namespace {

using test::json;

class Validator {
 public:
  explicit Validator(YAML::Node root) : root_(std::move(root)) {}

  // yaml-cpp: Node::operator= writes through; reset() rebinds.
  YAML::Node resolve(YAML::Node s) const {
    while (s["$ref"]) {
      std::string ref = s["$ref"].as<std::string>();  // "#/components/schemas/X"
      YAML::Node n;
      n.reset(root_);
      std::size_t pos = 2;
      while (pos < ref.size()) {
        const std::size_t slash = ref.find('/', pos);
        const std::string part = ref.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        const YAML::Node next = n[part];
        n.reset(next);
        pos = slash == std::string::npos ? ref.size() : slash + 1;
      }
      s.reset(n);
    }
    return s;
  }

  /// Appends a message per violation of schema `s` by value `v` at `where`.
  void check(const json& v, YAML::Node s, const std::string& where, std::vector<std::string>& errors) const {
    s.reset(resolve(s));
    if (v.is_null()) {
      if (!(s["nullable"] && s["nullable"].as<bool>())) errors.push_back(where + ": null not allowed");
      return;
    }
    const std::string type = s["type"] ? s["type"].as<std::string>() : "";
    if (type == "object") {
      if (!v.is_object()) return errors.push_back(where + ": not an object");
      if (s["required"]) {
        for (const auto& r : s["required"]) {
          if (!v.contains(r.as<std::string>())) errors.push_back(where + ": missing " + r.as<std::string>());
        }
      }
      for (const auto& [k, val] : v.items()) {
        if (s["properties"] && s["properties"][k]) {
          check(val, s["properties"][k], where + "." + k, errors);
        } else if (s["additionalProperties"] && s["additionalProperties"].IsMap()) {
          check(val, s["additionalProperties"], where + "." + k, errors);
        } else if (s["additionalProperties"] && !s["additionalProperties"].as<bool>()) {
          errors.push_back(where + ": unexpected " + k);
        } else if (s["properties"] && !s["additionalProperties"]) {
          errors.push_back(where + ": undocumented field " + k);
        }
      }
    } else if (type == "array") {
      if (!v.is_array()) return errors.push_back(where + ": not an array");
      for (std::size_t i = 0; i < v.size(); ++i) check(v[i], s["items"], where + "[" + std::to_string(i) + "]", errors);
    } else if (type == "integer") {
      if (!v.is_number_integer()) errors.push_back(where + ": not an integer");
    } else if (type == "number") {
      if (!v.is_number()) errors.push_back(where + ": not a number");
    } else if (type == "boolean") {
      if (!v.is_boolean()) errors.push_back(where + ": not a boolean");
    } else if (type == "string") {
      if (!v.is_string()) return errors.push_back(where + ": not a string");
      if (s["enum"]) {
        bool ok = false;
        for (const auto& e : s["enum"]) ok = ok || e.as<std::string>() == v.get<std::string>();
        if (!ok) errors.push_back(where + ": " + v.get<std::string>() + " not in enum");
      }
    }
  }

 private:
  YAML::Node root_;
};

TEST(OpenApi, MatchesImplementation) {
  const char* root = std::getenv("NETSCOPE_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "run through meson test";
  const YAML::Node spec = YAML::LoadFile(std::string(root) + "/docs/openapi.yaml");
  const Validator val(spec);

  HubConfig cfg;
  cfg.api_listen = "127.0.0.1:0";
  Hub hub(cfg);
  hub.start();
  const std::string addr = hub.bound_address();
  const std::uint64_t t = test::now_ns();
  hub.publish(test::snapshot(t - 1'000'000'000ull, 100));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  {
    // A correlated pair with one SA, from a real Correlator.
    auto snap = test::snapshot(t, 200);
    engine::CorrelationConfig cc;
    cc.pairs = {{0, 1}};
    engine::Correlator c(cc);
    const seq::SaKey k = test::esp_key(0x100);
    c.on_identity(0, 1000, 1, &k);
    c.on_identity(1, 151000, 1, &k);
    c.on_identity(0, 2000, 2, nullptr);
    auto v = std::make_shared<engine::CorrelationView>(engine::merge_correlation({&c}));
    v->pairs[0].name_a = "net_pcap0";
    v->pairs[0].name_b = "net_pcap1";
    v->pairs[0].timestamps = "capture";
    snap->correlation = v;
    hub.publish(snap);
  }
  hub.on_event(test::gap_event(test::esp_key(0x100), 1));
  hub.on_event(test::gap_event(test::macsec_key(7, 1), 2));
  hub.on_flow(test::flow_record(6, 1, 1000));
  {
    engine::PacketSummary p;
    p.timestamp_ns = t;
    p.has_sa = true;
    p.sa = test::esp_key(0x100);
    p.seq = 5;
    p.cls = engine::TrafficClass::esp;
    p.verdict = engine::PacketVerdict::gap;
    p.wire_len = 98;
    hub.on_packet(p);
  }
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  const std::string filter_id =
      std::to_string(test::http(addr, "POST", "/api/v1/config/filters", {}, R"({"expression": "esp"})").json_body()["id"].get<std::uint64_t>());
  const std::string sa = std::to_string(test::get(addr, "/api/v1/sas?limit=1").json_body()["sas"][0]["id"].get<std::uint64_t>());

  std::set<std::string> documented;
  for (const auto& p : spec["paths"]) {
    const std::string path = p.first.as<std::string>();
    for (const auto& op : p.second) {
      std::string method = op.first.as<std::string>();
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(method + " " + path);
      std::string target = path;
      if (const auto pos = target.find("{id}"); pos != std::string::npos) {
        std::string id = "1";
        // SA subresources take an SA id under flows/ too (the capstone's name for SAs).
        if (path.starts_with("/api/v1/sas") || path.find("{id}/") != std::string::npos) id = sa;
        if (path.starts_with("/api/v1/config/filters")) id = filter_id;
        target.replace(pos, 4, id);
      }
      std::string body;
      if (method == "POST" && path == "/api/v1/config/filters") body = R"({"expression": "tcp"})";
      if (method == "POST" && path == "/api/v1/config/rules") body = R"({"rule": "exclude protocol=tcp"})";
      const auto r = test::http(addr, method, target, {}, body);
      ASSERT_GE(r.status, 200) << method << " " << target;
      const YAML::Node resp = op.second["responses"][std::to_string(r.status)];
      ASSERT_TRUE(resp) << method << " " << target << " answered " << r.status << ", not documented: " << r.body;
      if (path == "/metrics") continue;
      const YAML::Node resolved = val.resolve(resp);
      const YAML::Node schema = resolved["content"]["application/json"]["schema"];
      ASSERT_TRUE(schema) << method << " " << path;
      std::vector<std::string> errors;
      val.check(r.json_body(), schema, method + " " + path, errors);
      EXPECT_TRUE(errors.empty()) << [&] {
        std::string all;
        for (const auto& e : errors) all += e + "\n";
        return all;
      }();
      // The same operation's documented error shape, with an out-of-range id or bad query.
      if (op.second["responses"]["400"]) {
        std::string bad = target + "?no_such_parameter=1";
        if (const auto pos = path.find("{id}"); pos != std::string::npos) bad = std::string(path).replace(pos, 4, "0");
        const auto e = test::http(addr, method, bad, {}, method == "POST" ? "not json" : "");
        EXPECT_EQ(e.status, 400) << method << " " << bad;
        std::vector<std::string> err_errors;
        val.check(e.json_body(), spec["components"]["schemas"]["Error"], method + " " + bad, err_errors);
        EXPECT_TRUE(err_errors.empty()) << method << " " << bad << ": " << e.body;
      }
    }
  }
  // Every route the hub serves is documented (streams are WebSocket-only, see api.md).
  for (const char* op : {"GET /health", "GET /metrics", "GET /api/v1/stats/current", "GET /api/v1/stats/summary",
                         "GET /api/v1/stats/history", "GET /api/v1/sas", "GET /api/v1/sas/{id}", "GET /api/v1/flows",
                         "GET /api/v1/flows/{id}", "GET /api/v1/anomalies", "GET /api/v1/anomalies/{id}",
                         "GET /api/v1/config", "GET /api/v1/config/filters", "POST /api/v1/config/filters",
                         "DELETE /api/v1/config/filters/{id}", "GET /api/v1/config/rules", "POST /api/v1/config/rules",
                         "DELETE /api/v1/config/rules/{id}", "POST /api/v1/capture/pause",
                         "POST /api/v1/capture/resume", "GET /api/v1/diagnostics", "GET /api/v1/packets/recent", "GET /api/v1/packets/inspect",
                         "GET /api/v1/sas/{id}/sequence", "GET /api/v1/sas/{id}/gaps", "GET /api/v1/sas/{id}/anomalies",
                         "POST /api/v1/sas/{id}/reset", "GET /api/v1/flows/{id}/sequence", "GET /api/v1/flows/{id}/gaps",
                         "GET /api/v1/flows/{id}/anomalies", "POST /api/v1/flows/{id}/reset", "GET /api/v1/top",
                         "GET /api/v1/topology", "GET /api/v1/correlation"}) {
    EXPECT_EQ(documented.count(op), 1u) << op;
  }
  EXPECT_EQ(documented.size(), 34u);
  hub.stop();
}

}  // namespace
}  // namespace netscope::control
