#include "flow_export.hpp"

#include <stdexcept>

#include "netscope/report/report.hpp"
#include "netscope/seq/sa_table.hpp"

namespace netscope::runtime {

namespace {

/// A CSV field: quoted, with quotes doubled, when it holds a comma or a quote.
std::string csv_field(std::string_view text) {
  const std::string t = report::wire_text(text);
  if (t.find_first_of(",\"") == std::string::npos) return t;
  std::string out = "\"";
  for (const char c : t) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

/// The analysis columns of a CSV row, starting with a comma.
std::string csv_analysis(const engine::FlowRecord& r) {
  using namespace engine;
  const FlowTcp& t = r.tcp;
  const FlowL7& l = r.l7;
  const bool tcp = (t.flags & flow_tcp_flag::kSeen) != 0;
  const auto app = static_cast<l7::AppProtocol>(l.app < l7::kAppProtocolCount ? l.app : 0);
  auto num = [](bool valid, std::uint64_t v) { return valid ? std::to_string(v) : std::string(); };
  std::string o = ",";
  o += l7::to_string(app);
  o += ',';
  if (tcp) o += analysis::to_string(static_cast<analysis::TcpConnState>(t.state));
  o += ',' + (tcp ? csv_field(t.history_view()) : std::string());
  o += ',' + num((t.flags & flow_tcp_flag::kServerRtt) != 0, t.handshake_server_ns);
  o += ',' + num((t.flags & flow_tcp_flag::kClientRtt) != 0, t.handshake_client_ns);
  o += ',' + num(tcp, t.rtt_samples);
  o += ',' + num(t.rtt_samples != 0, t.rtt_samples != 0 ? t.rtt_sum_ns / t.rtt_samples : 0);
  const std::uint32_t FlowTcpDirection::*fields[] = {
      &FlowTcpDirection::retransmissions, &FlowTcpDirection::fast_retransmissions, &FlowTcpDirection::out_of_order,
      &FlowTcpDirection::duplicate_acks, &FlowTcpDirection::zero_windows, &FlowTcpDirection::lost_segments};
  for (auto field : fields) {
    o += ',' + num(tcp, t.dir[0].*field);
    o += ',' + num(tcp, t.dir[1].*field);
  }
  const bool req = (l.flags & flow_l7_flag::kHttpRequest) != 0;
  const bool resp = (l.flags & flow_l7_flag::kHttpResponse) != 0;
  o += ',';
  if (req) o += l7::to_string(static_cast<l7::HttpMethod>(l.http_method));
  o += ',' + (req ? csv_field(l.name_view()) : std::string());
  o += ',' + (req ? csv_field(l.uri_view()) : std::string());
  o += ',' + num(resp, l.http_status);
  o += ',' + num((l.flags & flow_l7_flag::kContentLength) != 0, l.http_content_length);
  o += ',' + num(req || resp || l.http_requests != 0, l.http_requests);
  const bool q = (l.flags & flow_l7_flag::kDnsQuery) != 0;
  const bool a = (l.flags & flow_l7_flag::kDnsResponse) != 0;
  o += ',' + (q ? csv_field(l.name_view()) : std::string());
  o += ',' + num(q, l.dns_qtype);
  o += ',' + num(a, l.dns_rcode);
  o += ',' + num(a, l.dns_answers);
  o += ',' + num((l.flags & flow_l7_flag::kDnsTime) != 0, l.dns_response_ns);
  o += ',' + (app == l7::AppProtocol::tls ? csv_field(l.name_view()) : std::string());
  o += ',' + std::to_string(r.icmp.errors);
  return o;
}

}  // namespace

FlowExporter::FlowExporter(const std::string& path, const std::string& format) : csv_(format == "csv") {
  f_ = std::fopen(path.c_str(), "w");
  if (f_ == nullptr) throw std::runtime_error("cannot open the flow export file '" + path + "'");
  if (csv_) {
    std::fputs("ip_version,protocol,vlan,addr_a,port_a,addr_b,port_b,initiator,packets_a_to_b,bytes_a_to_b,"
               "packets_b_to_a,bytes_b_to_a,tcp_flags,first_seen,last_seen,end_reason,lcore,"
               "app,tcp_state,tcp_history,handshake_server_rtt_ns,handshake_client_rtt_ns,rtt_samples,"
               "rtt_avg_ns,retransmissions_a_to_b,retransmissions_b_to_a,fast_retransmissions_a_to_b,"
               "fast_retransmissions_b_to_a,out_of_order_a_to_b,out_of_order_b_to_a,duplicate_acks_a_to_b,"
               "duplicate_acks_b_to_a,zero_windows_a_to_b,zero_windows_b_to_a,lost_segments_a_to_b,"
               "lost_segments_b_to_a,http_method,http_host,http_uri,http_status,http_content_length,"
               "http_requests,dns_qname,dns_qtype,dns_rcode,dns_answers,dns_response_ns,tls_sni,icmp_errors\n",
               f_);
  }
}

FlowExporter::~FlowExporter() {
  if (f_ != nullptr) std::fclose(f_);
}

void FlowExporter::write(const engine::FlowRecord& r) {
  const std::string a = seq::ip_text(r.key.addr_a, r.key.ip_version);
  const std::string b = seq::ip_text(r.key.addr_b, r.key.ip_version);
  const auto reason = flow::to_string(r.reason);
  int n = 0;
  if (csv_) {
    n = std::fprintf(f_, "%u,%u,%u,%s,%u,%s,%u,%s,%llu,%llu,%llu,%llu,%u,%llu,%llu,%.*s,%u%s\n", r.key.ip_version,
                     r.key.protocol, r.key.vlan, a.c_str(), r.key.port_a, b.c_str(), r.key.port_b,
                     r.initiator_is_a ? "a" : "b", static_cast<unsigned long long>(r.a_to_b.packets),
                     static_cast<unsigned long long>(r.a_to_b.bytes), static_cast<unsigned long long>(r.b_to_a.packets),
                     static_cast<unsigned long long>(r.b_to_a.bytes), r.tcp_flags,
                     static_cast<unsigned long long>(r.first_seen_ns), static_cast<unsigned long long>(r.last_seen_ns),
                     static_cast<int>(reason.size()), reason.data(), r.lcore, csv_analysis(r).c_str());
  } else {
    nlohmann::json j = nlohmann::json::object();
    report::put_flow_analysis(j, r);
    const std::string analysis = j.dump();
    n = std::fprintf(f_,
                     "{\"ip_version\":%u,\"protocol\":%u,\"vlan\":%u,\"a\":{\"addr\":\"%s\",\"port\":%u},"
                     "\"b\":{\"addr\":\"%s\",\"port\":%u},\"initiator\":\"%s\",\"packets_a_to_b\":%llu,"
                     "\"bytes_a_to_b\":%llu,\"packets_b_to_a\":%llu,\"bytes_b_to_a\":%llu,\"tcp_flags\":%u,"
                     "\"first_seen\":%llu,\"last_seen\":%llu,\"end_reason\":\"%.*s\",\"lcore\":%u,%s\n",
                     r.key.ip_version, r.key.protocol, r.key.vlan, a.c_str(), r.key.port_a, b.c_str(), r.key.port_b,
                     r.initiator_is_a ? "a" : "b", static_cast<unsigned long long>(r.a_to_b.packets),
                     static_cast<unsigned long long>(r.a_to_b.bytes), static_cast<unsigned long long>(r.b_to_a.packets),
                     static_cast<unsigned long long>(r.b_to_a.bytes), r.tcp_flags,
                     static_cast<unsigned long long>(r.first_seen_ns), static_cast<unsigned long long>(r.last_seen_ns),
                     static_cast<int>(reason.size()), reason.data(), r.lcore, analysis.c_str() + 1);
  }
  if (n < 0) ok_ = false;
}

bool FlowExporter::close() {
  if (f_ == nullptr) return ok_;
  ok_ &= std::fflush(f_) == 0;
  ok_ &= std::fclose(f_) == 0;
  f_ = nullptr;
  return ok_;
}

}  // namespace netscope::runtime
