// What our parsers see in each frame of a capture, in tshark's field columns, and the
// comparison of the two. Frames go through decode_frame and then http_parse (one
// HttpSession per connection) or dns_parse / dns_parse_tcp, as on the per-packet path.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "l7_support.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/l7/dns.hpp"
#include "netscope/l7/http.hpp"

namespace netscope::l7::test {

inline const std::vector<std::string> kViewFields = {
    "http.request.method", "http.host",          "http.request.uri", "http.response.code",
    "dns.id",              "dns.flags.response", "dns.qry.name",     "dns.qry.type",
    "dns.flags.rcode",     "dns.count.answers",  "dns.a",            "dns.aaaa"};

/// Appends to a ','-joined column as tshark's aggregator does.
inline void add(std::vector<std::string>& row, std::size_t col, const std::string& v) {
  if (!row[col].empty()) row[col] += ",";
  row[col] += v;
}

inline std::string ip_text(const DnsAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.version == 4 ? AF_INET : AF_INET6, a.bytes.data(), buf, sizeof buf);
  return buf;
}

/// Marks a cell that cannot be compared (see add_dns).
inline const std::string kNotCompared = "\x01not compared";

/// A message's fields; Wireshark leaves the rcode out of queries. A TCP message split
/// across segments is parsed from the bytes of its first segment only: its answers are not
/// compared.
inline void add_dns(std::vector<std::string>& row, const DnsMessage& m) {
  EXPECT_EQ(m.error, DnsError::none) << to_string(m.error);
  char id[8];
  std::snprintf(id, sizeof id, "0x%04x", m.id);
  add(row, 4, id);
  add(row, 5, m.is_response() ? "1" : "0");
  add(row, 6, std::string(m.qname_view()));
  add(row, 7, std::to_string(m.qtype));
  if (m.is_response()) add(row, 8, std::to_string(m.rcode()));
  add(row, 9, std::to_string(m.ancount));
  if (m.partial) {
    row[10] = row[11] = kNotCompared;
    return;
  }
  for (std::size_t k = 0; k < m.address_count; ++k) {
    add(row, m.addresses[k].version == 4 ? 10 : 11, ip_text(m.addresses[k]));
  }
}

/// Our view of each frame. `server_ports` tell the direction of a TCP segment; port 53
/// is DNS, any other server port HTTP.
inline std::vector<std::vector<std::string>> frame_view(const std::vector<Buf>& frames,
                                                        const std::set<std::uint16_t>& server_ports) {
  std::vector<std::vector<std::string>> rows;
  std::map<std::uint16_t, HttpSession> http;  // by client port
  std::map<std::uint32_t, std::string> host_text, uri_text;  // by client port * 2 + direction
  std::map<std::uint32_t, DnsTcpStream> dns_tcp;
  // A TCP DNS message that continues in later segments, reported where it ends as Wireshark does.
  std::map<std::uint32_t, std::pair<DnsMessage, std::size_t>> dns_pending;
  std::array<HttpMessage, 8> hout{};
  std::array<DnsMessage, 4> dout{};
  for (const Buf& f : frames) {
    std::vector<std::string> row(kViewFields.size());
    decode::DecodedPacket p;
    decode::decode_frame({f.data(), f.size()}, p);
    EXPECT_EQ(p.malformed, decode::Malformed::none);
    const Bytes payload{f.data() + p.payload_offset, p.payload_len};
    if (p.has(decode::kLayerUdp) && (p.udp.src_port == 53 || p.udp.dst_port == 53)) {
      DnsMessage m;
      dns_parse(payload, m);
      add_dns(row, m);
    } else if (p.has(decode::kLayerTcp) && !payload.empty()) {
      const bool to_server = server_ports.count(p.tcp.dst_port) != 0;
      const std::uint16_t client = to_server ? p.tcp.src_port : p.tcp.dst_port;
      const std::uint16_t server = to_server ? p.tcp.dst_port : p.tcp.src_port;
      const std::uint32_t key = client * 2u + (to_server ? 0u : 1u);
      if (server == 53) {
        if (auto it = dns_pending.find(key); it != dns_pending.end()) {
          if (payload.size() >= it->second.second) {
            add_dns(row, it->second.first);
            dns_pending.erase(it);
          } else {
            it->second.second -= payload.size();
          }
        }
        DnsTcpStream& st = dns_tcp[key];
        const DnsTcpResult r = dns_parse_tcp(st, payload, dout);
        for (std::size_t k = 0; k < r.records; ++k) {
          if (dout[k].partial) {
            dns_pending[key] = {dout[k], st.pending()};
          } else {
            add_dns(row, dout[k]);
          }
        }
      } else {
        const HttpDirection dir = to_server ? HttpDirection::request : HttpDirection::response;
        const HttpResult r = http_parse(http[client], dir, payload, hout);
        EXPECT_TRUE(r.ok()) << to_string(r.error);
        for (std::size_t k = 0; k < r.records; ++k) {
          const HttpMessage& m = hout[k];
          if (m.has(http_flag::kHeadStart)) {
            host_text[key].clear();
            uri_text[key].clear();
          }
          host_text[key] += m.host_view();
          uri_text[key] += m.uri_view();
          if (!m.has(http_flag::kComplete)) continue;
          if (m.has(http_flag::kRequest)) {
            add(row, 0, std::string(to_string(m.method)));
            if (m.has(http_flag::kHasHost)) add(row, 1, host_text[key]);
            add(row, 2, uri_text[key]);
          } else {
            add(row, 3, std::to_string(m.status));
          }
        }
      }
    }
    rows.push_back(row);
  }
  return rows;
}

/// Writes the frames to a pcap, reads the fields with tshark, compares frame by frame.
/// Returns the number of tshark values checked (occurrences, not cells).
inline std::size_t compare_with_tshark(const std::vector<Buf>& frames,
                                       const std::set<std::uint16_t>& server_ports,
                                       const std::string& name, std::string options = "") {
  EXPECT_TRUE(have_tool("tshark")) << "tshark is needed (Debian package tshark)";
  const std::string pcap = temp_path(name + ".pcap");
  write_pcap(pcap, frames);
  // Bodies are not reassembled, so that Wireshark reports a head in the frame that ends
  // it, as we do.
  for (const std::uint16_t port : server_ports) {
    if (port != 53 && port != 80 && port != 8080) options += " -d tcp.port==" + std::to_string(port) + ",http";
  }
  const auto theirs = tshark_fields(pcap, kViewFields, "-o http.desegment_body:FALSE " + options);
  std::remove(pcap.c_str());
  const auto mine = frame_view(frames, server_ports);
  EXPECT_EQ(theirs.size(), frames.size());
  std::size_t checked = 0;
  for (std::size_t i = 0; i < frames.size() && i < theirs.size(); ++i) {
    for (std::size_t k = 0; k < kViewFields.size(); ++k) {
      if (mine[i][k] == kNotCompared) continue;
      EXPECT_EQ(mine[i][k], theirs[i][k]) << name << " frame " << i + 1 << " " << kViewFields[k];
      if (!theirs[i][k].empty()) checked += split(theirs[i][k], ',').size();
    }
  }
  return checked;
}

}  // namespace netscope::l7::test
