#include "netscope/report/correlation.hpp"

#include <string>

#include "netscope/report/report.hpp"

namespace netscope::report {

using nlohmann::json;

json latency_json(const engine::LatencySummary& l) {
  json j = {{"count", l.count}, {"negative", l.negative}};
  if (l.count != 0) {
    j["min"] = l.min;
    j["max"] = l.max;
    j["mean"] = l.mean();
    j["p50"] = l.quantile(0.50);
    j["p90"] = l.quantile(0.90);
    j["p99"] = l.quantile(0.99);
  }
  return j;
}

namespace {

void put_totals(json& j, const engine::CorrelationTotals& t) {
  j["matched"] = t.matched;
  j["lost_a_to_b"] = t.lost_a_to_b;
  j["lost_b_to_a"] = t.lost_b_to_a;
  j["duplicates"] = t.duplicates;
  j["untracked"] = {{"table_full", t.untracked_full}, {"non_ip", t.untracked_non_ip}};
  j["pending"] = t.pending;
  const std::uint64_t sent_a = t.matched + t.lost_a_to_b;
  j["loss_ratio_a_to_b"] = sent_a == 0 ? 0.0 : static_cast<double>(t.lost_a_to_b) / static_cast<double>(sent_a);
  j["latency_ns"] = latency_json(t.latency);
}

}  // namespace

json correlation_json(const engine::CorrelationView& v) {
  json pairs = json::array();
  for (const engine::CorrelationPairView& p : v.pairs) {
    json j;
    j["a"] = {{"id", p.ports.a}, {"name", p.name_a}};
    j["b"] = {{"id", p.ports.b}, {"name", p.name_b}};
    j["timestamps"] = p.timestamps;
    put_totals(j, p.totals);
    j["untracked"]["sa_table_full"] = p.totals.sa_table_full;
    json sas = json::array();
    for (const engine::CorrelationSaView& s : p.sas) {
      json sj;
      put_sa_identity(sj, s.key);
      put_totals(sj, s.totals);
      sj["untracked"].erase("non_ip");
      sas.push_back(std::move(sj));
    }
    j["sas"] = std::move(sas);
    pairs.push_back(std::move(j));
  }
  return {{"window_ns", v.window_ns}, {"pairs", std::move(pairs)}};
}

void write_correlation_text(const json& j, std::FILE* out) {
  if (j.is_null()) return;
  std::fprintf(out, "\nCorrelation (window %.3f s):\n", static_cast<double>(j["window_ns"].get<std::uint64_t>()) / 1e9);
  auto u = [](const json& v) { return static_cast<unsigned long long>(v.get<std::uint64_t>()); };
  auto lat = [&](const json& l) {
    if (l["count"].get<std::uint64_t>() == 0) return std::string("no latency (nothing matched)");
    char buf[200];
    std::snprintf(buf, sizeof buf, "latency us min %.1f mean %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f",
                  static_cast<double>(l["min"].get<std::int64_t>()) / 1e3, l["mean"].get<double>() / 1e3,
                  static_cast<double>(l["p50"].get<std::int64_t>()) / 1e3, static_cast<double>(l["p90"].get<std::int64_t>()) / 1e3,
                  static_cast<double>(l["p99"].get<std::int64_t>()) / 1e3, static_cast<double>(l["max"].get<std::int64_t>()) / 1e3);
    return std::string(buf);
  };
  for (const json& p : j["pairs"]) {
    std::fprintf(out, "  %s -> %s (%s timestamps): matched %llu, lost a->b %llu, lost b->a %llu, duplicates %llu, "
                 "untracked %llu full / %llu non-IP\n",
                 p["a"]["name"].get<std::string>().c_str(), p["b"]["name"].get<std::string>().c_str(),
                 p["timestamps"].get<std::string>().c_str(), u(p["matched"]), u(p["lost_a_to_b"]), u(p["lost_b_to_a"]),
                 u(p["duplicates"]), u(p["untracked"]["table_full"]), u(p["untracked"]["non_ip"]));
    std::fprintf(out, "    %s\n", lat(p["latency_ns"]).c_str());
    for (const json& s : p["sas"]) {
      const std::string id = s["protocol"].get<std::string>() == "macsec"
                                 ? "sci=" + s["sci"].get<std::string>() + " an=" + std::to_string(s["an"].get<int>())
                                 : "spi=" + std::to_string(s["spi"].get<std::uint32_t>()) + " dst=" + s["dst"].get<std::string>();
      std::fprintf(out, "    %-6s %-34s matched %llu lost a->b %llu b->a %llu; %s\n", s["protocol"].get<std::string>().c_str(),
                   id.c_str(), u(s["matched"]), u(s["lost_a_to_b"]), u(s["lost_b_to_a"]), lat(s["latency_ns"]).c_str());
    }
  }
}

}  // namespace netscope::report
