#include "ports.hpp"

#include <pcap/pcap.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>

#include <array>
#include <stdexcept>
#include <string_view>

namespace netscope::runtime {

std::uint64_t count_capture(const std::string& file, std::string& warning) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  if (p == nullptr) throw std::runtime_error("cannot open capture '" + file + "': " + err);
  std::uint64_t n = 0;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) ++n;
  if (rc == PCAP_ERROR) {
    // net_pcap stops at the same record (pcap_next returns NULL): report, do not wait.
    warning = "capture '" + file + "' is damaged after " + std::to_string(n) +
              " packets (" + pcap_geterr(p) + "); the rest is ignored";
  }
  pcap_close(p);
  return n;
}

std::vector<PortState> discover_ports() {
  std::vector<PortState> ports;
  std::uint16_t pid = 0;
  RTE_ETH_FOREACH_DEV(pid) {
    PortState p;
    p.id = pid;
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(pid, &info) != 0) {
      throw std::runtime_error("cannot read device info of port " + std::to_string(pid));
    }
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(pid, name);
    p.name = name;
    p.driver = info.driver_name != nullptr ? info.driver_name : "";
    p.rx_queues = 1;
    p.max_rx_queues = std::max<std::uint16_t>(1, info.max_rx_queues);
    p.rss_offloads = info.flow_type_rss_offloads;
    p.hash_key_size = info.hash_key_size != 0 ? info.hash_key_size : 40;
    // af_packet (qpairs) and af_xdp (queue_count) open every socket at probe time and the
    // kernel spreads flows over all of them: every one must be configured and polled.
    if (p.driver == "net_af_packet" || p.driver == "net_af_xdp") p.rx_queues = p.max_rx_queues;
    if (p.driver == "net_pcap") {
      const rte_devargs* da = rte_dev_devargs(info.device);
      std::string_view args = (da != nullptr && da->args != nullptr) ? da->args : "";
      bool infinite = false;
      bool iface = false;
      while (!args.empty()) {
        const auto next = args.find(',');
        const std::string_view kv = args.substr(0, next);
        if (kv.rfind("rx_pcap=", 0) == 0) p.files.emplace_back(kv.substr(8));
        if (kv.rfind("infinite_rx=", 0) == 0 && kv.substr(12) != "0") infinite = true;
        if (kv.rfind("rx_iface", 0) == 0 || kv.rfind("iface=", 0) == 0) iface = true;
        if (next == std::string_view::npos) break;
        args = args.substr(next + 1);
      }
      p.rx_queues = static_cast<std::uint16_t>(std::max<std::size_t>(1, info.max_rx_queues));
      p.from_files = !p.files.empty() && !iface;
      p.replay = p.from_files && !infinite;
      p.timestamp_scale = 1000;  // net_pcap stamps microseconds from the capture
      if (p.replay) {
        for (const std::string& f : p.files) {
          std::string warning;
          p.expected_packets += count_capture(f, warning);
          if (!warning.empty()) p.warning += (p.warning.empty() ? "" : "; ") + warning;
        }
      }
    }
    ports.push_back(std::move(p));
  }
  return ports;
}

void start_port(const PortState& p, const config::Config& cfg, rte_mempool* pool, std::uint16_t tx_queues) {
  rte_eth_conf conf{};
  // Several queues with hardware RSS: the symmetric key (0x6D5A repeated) puts both
  // directions of a flow on one queue; the workers count what still arrives elsewhere.
  std::array<std::uint8_t, 64> key{};
  if (p.rx_queues > 1 && p.rss_offloads != 0) {
    for (std::size_t i = 0; i < key.size(); i += 2) {
      key[i] = 0x6D;
      key[i + 1] = 0x5A;
    }
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = std::min<std::uint8_t>(p.hash_key_size, 64);
    conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & p.rss_offloads;
  }
  int rc = rte_eth_dev_configure(p.id, p.rx_queues, tx_queues, &conf);
  if (rc != 0) throw std::runtime_error("port " + p.name + ": configure failed: " + rte_strerror(-rc));
  std::uint16_t rx_desc = static_cast<std::uint16_t>(cfg.rx_ring);
  std::uint16_t tx_desc = 512;
  rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &rx_desc, &tx_desc);
  const int socket = rte_eth_dev_socket_id(p.id) < 0 ? 0 : rte_eth_dev_socket_id(p.id);
  for (std::uint16_t q = 0; q < p.rx_queues; ++q) {
    rc = rte_eth_rx_queue_setup(p.id, q, rx_desc, static_cast<unsigned>(socket), nullptr, pool);
    if (rc != 0) {
      throw std::runtime_error("port " + p.name + ": RX queue " + std::to_string(q) +
                               " setup failed: " + rte_strerror(-rc));
    }
  }
  for (std::uint16_t q = 0; q < tx_queues; ++q) {
    rc = rte_eth_tx_queue_setup(p.id, q, tx_desc, static_cast<unsigned>(socket), nullptr);
    if (rc != 0) throw std::runtime_error("port " + p.name + ": TX queue setup failed: " + rte_strerror(-rc));
  }
  rc = rte_eth_dev_start(p.id);
  if (rc != 0) throw std::runtime_error("port " + p.name + ": start failed: " + rte_strerror(-rc));
  rte_eth_promiscuous_enable(p.id);  // not all PMDs support it; harmless when they do not
}

}  // namespace netscope::runtime
