#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "netscope/runtime/runtime.hpp"

namespace netscope::runtime {

namespace {

void scan_vdev(std::string_view spec, std::vector<CaptureArg>& out) {
  const auto comma = spec.find(',');
  const std::string_view name = spec.substr(0, comma);
  if (name.rfind("net_pcap", 0) != 0 || comma == std::string_view::npos) return;
  std::string_view rest = spec.substr(comma + 1);
  while (!rest.empty()) {
    const auto next = rest.find(',');
    const std::string_view kv = rest.substr(0, next);
    if (kv.rfind("rx_pcap=", 0) == 0) {
      out.push_back({std::string(name), std::string(kv.substr(8))});
    }
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
}

}  // namespace

std::vector<CaptureArg> find_capture_args(int argc, char** argv) {
  std::vector<CaptureArg> out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (a.rfind("--vdev=", 0) == 0) {
      scan_vdev(a.substr(7), out);
    } else if (a == "--vdev" && i + 1 < argc) {
      scan_vdev(argv[++i], out);
    }
  }
  return out;
}

std::string check_capture(const std::string& file) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  if (p == nullptr) {
    return err[0] != '\0' ? std::string(err) : std::string("cannot open");
  }
  const int link = pcap_datalink(p);
  pcap_close(p);
  if (link != DLT_EN10MB) {
    return "link type " + std::string(pcap_datalink_val_to_name(link) ? pcap_datalink_val_to_name(link) : "?") +
           " is not Ethernet (DLT_EN10MB)";
  }
  return {};
}

int init_eal(int argc, char** argv) {
  for (const CaptureArg& c : find_capture_args(argc, argv)) {
    const std::string why = check_capture(c.file);
    if (!why.empty()) {
      std::fprintf(stderr, "netscope: cannot replay '%s' (%s): %s\n", c.file.c_str(), c.vdev.c_str(),
                   why.c_str());
      return -1;
    }
  }
  const int ret = rte_eal_init(argc, argv);
  if (ret < 0) {
    std::fprintf(stderr,
                 "netscope: EAL initialization failed: %s (check the EAL options before '--'; "
                 "without hugepages use --no-huge, and use a distinct --file-prefix per process)\n",
                 rte_strerror(rte_errno));
    return -1;
  }
  return ret;
}

}  // namespace netscope::runtime
