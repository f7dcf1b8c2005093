#include "xdp.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <net/if.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "../bpf/netscope_xdp.h"
#include "netscope/runtime/runtime.hpp"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace netscope::runtime {

namespace {

/// Value of `key=` in a devargs string "k=v,k=v", or empty.
std::string devarg(std::string_view args, std::string_view key) {
  while (!args.empty()) {
    const auto next = args.find(',');
    const std::string_view kv = args.substr(0, next);
    if (kv.size() > key.size() && kv.substr(0, key.size()) == key && kv[key.size()] == '=') {
      return std::string(kv.substr(key.size() + 1));
    }
    if (next == std::string_view::npos) break;
    args = args.substr(next + 1);
  }
  return {};
}

bool is_af_xdp(std::string_view name) { return name.rfind("net_af_xdp", 0) == 0 || name.rfind("eth_af_xdp", 0) == 0; }
bool is_af_packet(std::string_view name) {
  return name.rfind("net_af_packet", 0) == 0 || name.rfind("eth_af_packet", 0) == 0;
}

/// Effective capability set of this process (capget), or all-ones when it cannot be read
/// (the kernel then gives the real answer when the PMD opens its sockets).
std::uint64_t effective_caps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  if (syscall(SYS_capget, &hdr, data.data()) != 0) return ~std::uint64_t{0};
  return static_cast<std::uint64_t>(data[0].effective) | static_cast<std::uint64_t>(data[1].effective) << 32;
}

bool has_cap(std::uint64_t caps, int cap) { return (caps >> cap) & 1u; }

std::string missing_caps(std::uint64_t caps, bool af_xdp) {
  std::string missing;
  auto need = [&](bool ok, const char* name) {
    if (!ok) missing += (missing.empty() ? "" : ", ") + std::string(name);
  };
  need(has_cap(caps, CAP_NET_RAW), "CAP_NET_RAW");
  if (af_xdp) {
    need(has_cap(caps, CAP_NET_ADMIN), "CAP_NET_ADMIN");
    need(has_cap(caps, CAP_BPF) || has_cap(caps, CAP_SYS_ADMIN), "CAP_BPF (or CAP_SYS_ADMIN)");
  }
  return missing;
}

std::string default_object() {
  for (const char* path : {NETSCOPE_XDP_OBJECT_BUILD, NETSCOPE_XDP_OBJECT_INSTALL}) {
    if (access(path, R_OK) == 0) return path;
  }
  return {};
}

}  // namespace

std::uint32_t xdp_class_mask(const std::vector<std::string>& classes) {
  std::uint32_t mask = 0;
  for (const std::string& c : classes) {
    if (c == "macsec") mask |= NETSCOPE_XDP_MACSEC;
    if (c == "esp") mask |= NETSCOPE_XDP_ESP;
    if (c == "ah") mask |= NETSCOPE_XDP_AH;
    if (c == "nat-t") mask |= NETSCOPE_XDP_NATT;
    if (c == "all") mask |= NETSCOPE_XDP_ALL;
  }
  return (mask == 0 ? NETSCOPE_XDP_DEFAULT : mask) | NETSCOPE_XDP_CONFIGURED;
}

std::string prepare_live_capture(const config::Config& cfg, std::vector<std::string>& eal_args) {
  const bool prefilter = !cfg.xdp_prefilter.empty();
  std::string object;
  bool any_af_xdp = false;
  const std::uint64_t caps = effective_caps();
  for (std::size_t i = 1; i < eal_args.size(); ++i) {
    std::string* spec = nullptr;
    if (eal_args[i].rfind("--vdev=", 0) == 0) {
      spec = &eal_args[i];
    } else if (eal_args[i] == "--vdev" && i + 1 < eal_args.size()) {
      spec = &eal_args[++i];
    } else {
      continue;
    }
    const std::size_t start = spec->rfind("--vdev=", 0) == 0 ? 7 : 0;
    const std::string_view text = std::string_view(*spec).substr(start);
    const std::string_view name = text.substr(0, text.find(','));
    const bool xdp = is_af_xdp(name);
    if (!xdp && !is_af_packet(name)) continue;
    const std::string_view args = text.size() > name.size() ? text.substr(name.size() + 1) : std::string_view{};
    const std::string vdev(name);
    if (const std::string missing = missing_caps(caps, xdp); !missing.empty()) {
      return vdev + " needs " + missing +
             ": run netscope as root, or give the binary these capabilities "
             "(setcap cap_net_raw,cap_net_admin,cap_bpf,cap_ipc_lock+ep netscope)";
    }
    const std::string iface = devarg(args, "iface");
    if (iface.empty()) return vdev + ": no iface= given (e.g. --vdev=" + vdev + ",iface=eth1)";
    const unsigned ifindex = if_nametoindex(iface.c_str());
    if (ifindex == 0) {
      return vdev + ": interface '" + iface + "' does not exist in this network namespace (ip link show)";
    }
    if (!xdp) continue;
    any_af_xdp = true;
    const bool own_prog = !devarg(args, "xdp_prog").empty();
    std::uint32_t attached = 0;
    if (bpf_xdp_query_id(static_cast<int>(ifindex), 0, &attached) == 0 && attached != 0) {
      return vdev + ": interface '" + iface + "' already runs an XDP program (id " + std::to_string(attached) +
             "); the kernel allows one per interface here. Remove it (ip link set dev " + iface +
             " xdp off) if it is left over from an earlier run";
    }
    if (prefilter && !own_prog) {
      if (object.empty()) object = cfg.xdp_object.empty() ? default_object() : cfg.xdp_object;
      if (object.empty()) {
        return "--xdp-prefilter: the BPF object netscope_xdp.o was not built (clang missing at build time?) "
               "and is not installed; give one with --xdp-object";
      }
      if (access(object.c_str(), R_OK) != 0) {
        return "--xdp-object '" + object + "': " + std::strerror(errno);
      }
      if (object.find(',') != std::string::npos) return "--xdp-object '" + object + "': the path may not contain ','";
      *spec += ",xdp_prog=" + object;
    }
  }
  if (prefilter && !any_af_xdp) return "--xdp-prefilter applies to net_af_xdp ports, and there is none";
  if (any_af_xdp && !has_cap(caps, CAP_IPC_LOCK)) {
    // The AF_XDP umem is charged to RLIMIT_MEMLOCK without CAP_IPC_LOCK.
    rlimit r{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_MEMLOCK, &r) != 0) {
      getrlimit(RLIMIT_MEMLOCK, &r);
      if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < (64u << 20)) {
        return "net_af_xdp: locked-memory limit is " + std::to_string(r.rlim_cur >> 10) +
               " KiB and cannot be raised: give CAP_IPC_LOCK or raise `ulimit -l`";
      }
    }
  }
  return {};
}

std::unique_ptr<XdpPrefilter> XdpPrefilter::open(std::uint16_t port_id, std::uint32_t mask) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0 || info.driver_name == nullptr ||
      std::string_view(info.driver_name) != "net_af_xdp") {
    return nullptr;
  }
  const rte_devargs* da = rte_dev_devargs(info.device);
  const std::string_view args = (da != nullptr && da->args != nullptr) ? da->args : "";
  if (devarg(args, "xdp_prog").empty()) return nullptr;  // libxdp's default program
  const std::string iface = devarg(args, "iface");
  const unsigned ifindex = if_nametoindex(iface.c_str());
  std::uint32_t prog_id = 0;
  if (ifindex == 0 || bpf_xdp_query_id(static_cast<int>(ifindex), 0, &prog_id) != 0 || prog_id == 0) {
    throw std::runtime_error("XDP pre-filter: no XDP program attached to '" + iface + "' after the port started");
  }
  const int prog_fd = bpf_prog_get_fd_by_id(prog_id);
  if (prog_fd < 0) {
    throw std::runtime_error("XDP pre-filter: cannot open program " + std::to_string(prog_id) + " on '" + iface +
                             "': " + std::strerror(errno));
  }
  std::array<std::uint32_t, 16> map_ids{};
  bpf_prog_info pinfo{};
  pinfo.nr_map_ids = map_ids.size();
  pinfo.map_ids = reinterpret_cast<std::uintptr_t>(map_ids.data());
  std::uint32_t len = sizeof(pinfo);
  const int rc = bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len);
  close(prog_fd);
  if (rc != 0) throw std::runtime_error("XDP pre-filter: cannot read program info: " + std::string(std::strerror(errno)));

  int cfg_fd = -1;
  int stats_fd = -1;
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(pinfo.nr_map_ids, map_ids.size()); ++i) {
    const int fd = bpf_map_get_fd_by_id(map_ids[i]);
    if (fd < 0) continue;
    bpf_map_info minfo{};
    std::uint32_t mlen = sizeof(minfo);
    if (bpf_obj_get_info_by_fd(fd, &minfo, &mlen) == 0) {
      if (std::strcmp(minfo.name, "ns_xdp_cfg") == 0 && cfg_fd < 0) {
        cfg_fd = fd;
        continue;
      }
      if (std::strcmp(minfo.name, "ns_xdp_stats") == 0 && stats_fd < 0) {
        stats_fd = fd;
        continue;
      }
    }
    close(fd);
  }
  if (cfg_fd < 0 || stats_fd < 0) {
    if (cfg_fd >= 0) close(cfg_fd);
    if (stats_fd >= 0) close(stats_fd);
    return nullptr;  // someone else's xdp_prog: it is theirs to configure
  }
  const std::uint32_t key = 0;
  const int wrc = bpf_map_update_elem(cfg_fd, &key, &mask, BPF_ANY);
  close(cfg_fd);
  if (wrc != 0) {
    close(stats_fd);
    throw std::runtime_error("XDP pre-filter on '" + iface + "': cannot write its configuration: " +
                             std::strerror(errno));
  }
  std::unique_ptr<XdpPrefilter> x(new XdpPrefilter());
  x->ifname_ = iface;
  x->prog_id_ = prog_id;
  x->stats_fd_ = stats_fd;
  const int cpus = libbpf_num_possible_cpus();
  x->per_cpu_.resize(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  return x;
}

XdpPrefilter::~XdpPrefilter() {
  if (stats_fd_ >= 0) close(stats_fd_);
}

XdpCounters XdpPrefilter::counters() const {
  XdpCounters c;
  std::array<std::uint64_t*, NETSCOPE_XDP_STAT_COUNT> out{&c.redirected, &c.passed, &c.no_socket};
  for (std::uint32_t k = 0; k < NETSCOPE_XDP_STAT_COUNT; ++k) {
    if (bpf_map_lookup_elem(stats_fd_, &k, per_cpu_.data()) != 0) continue;
    for (const std::uint64_t v : per_cpu_) *out[k] += v;
  }
  return c;
}

}  // namespace netscope::runtime
