// The NetScope metric set (docs/metrics.md): the latest snapshot and the hub's own
// counters as a Prometheus text page. Any thread; allocates.
#pragma once

#include <string>

#include "netscope/control/state.hpp"

namespace netscope::control {

/// Renders /metrics. Data-plane families appear once a snapshot was published; the
/// build_info and hub families always.
[[nodiscard]] std::string render_metrics(const HubState& st);

}  // namespace netscope::control
