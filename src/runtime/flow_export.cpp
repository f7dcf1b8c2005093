#include "flow_export.hpp"

#include <stdexcept>

#include "netscope/seq/sa_table.hpp"

namespace netscope::runtime {

FlowExporter::FlowExporter(const std::string& path, const std::string& format) : csv_(format == "csv") {
  f_ = std::fopen(path.c_str(), "w");
  if (f_ == nullptr) throw std::runtime_error("cannot open the flow export file '" + path + "'");
  if (csv_) {
    std::fputs("ip_version,protocol,vlan,addr_a,port_a,addr_b,port_b,initiator,packets_a_to_b,bytes_a_to_b,"
               "packets_b_to_a,bytes_b_to_a,tcp_flags,first_seen,last_seen,end_reason,lcore\n",
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
    n = std::fprintf(f_, "%u,%u,%u,%s,%u,%s,%u,%s,%llu,%llu,%llu,%llu,%u,%llu,%llu,%.*s,%u\n", r.key.ip_version,
                     r.key.protocol, r.key.vlan, a.c_str(), r.key.port_a, b.c_str(), r.key.port_b,
                     r.initiator_is_a ? "a" : "b", static_cast<unsigned long long>(r.a_to_b.packets),
                     static_cast<unsigned long long>(r.a_to_b.bytes), static_cast<unsigned long long>(r.b_to_a.packets),
                     static_cast<unsigned long long>(r.b_to_a.bytes), r.tcp_flags,
                     static_cast<unsigned long long>(r.first_seen_ns), static_cast<unsigned long long>(r.last_seen_ns),
                     static_cast<int>(reason.size()), reason.data(), r.lcore);
  } else {
    n = std::fprintf(f_,
                     "{\"ip_version\":%u,\"protocol\":%u,\"vlan\":%u,\"a\":{\"addr\":\"%s\",\"port\":%u},"
                     "\"b\":{\"addr\":\"%s\",\"port\":%u},\"initiator\":\"%s\",\"packets_a_to_b\":%llu,"
                     "\"bytes_a_to_b\":%llu,\"packets_b_to_a\":%llu,\"bytes_b_to_a\":%llu,\"tcp_flags\":%u,"
                     "\"first_seen\":%llu,\"last_seen\":%llu,\"end_reason\":\"%.*s\",\"lcore\":%u}\n",
                     r.key.ip_version, r.key.protocol, r.key.vlan, a.c_str(), r.key.port_a, b.c_str(), r.key.port_b,
                     r.initiator_is_a ? "a" : "b", static_cast<unsigned long long>(r.a_to_b.packets),
                     static_cast<unsigned long long>(r.a_to_b.bytes), static_cast<unsigned long long>(r.b_to_a.packets),
                     static_cast<unsigned long long>(r.b_to_a.bytes), r.tcp_flags,
                     static_cast<unsigned long long>(r.first_seen_ns), static_cast<unsigned long long>(r.last_seen_ns),
                     static_cast<int>(reason.size()), reason.data(), r.lcore);
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
