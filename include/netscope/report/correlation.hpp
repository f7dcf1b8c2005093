// JSON and text shapes of the cross-port correlation (engine/correlation.hpp), shared by the
// report's "correlation" section, GET /api/v1/correlation and /metrics. Control side only.
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "netscope/engine/correlation.hpp"

namespace netscope::report {

/// {"window_ns", "pairs": [{"a", "b", "timestamps", "matched", "lost_a_to_b", "lost_b_to_a",
/// "duplicates", "untracked": {...}, "pending", "latency_ns": {...}, "sas": [...]}]}
/// (docs/report-format.md, docs/api.md).
nlohmann::json correlation_json(const engine::CorrelationView& v);

/// {"count", "negative", and when count > 0: "min", "max", "mean", "p50", "p90", "p99"} in ns.
nlohmann::json latency_json(const engine::LatencySummary& l);

/// The human report's correlation lines (nothing when `j` is null).
void write_correlation_text(const nlohmann::json& j, std::FILE* out);

}  // namespace netscope::report
