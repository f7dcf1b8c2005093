// The report rebuilt from a NetScope database file (`netscope report --db FILE`).
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace netscope::control {

/// The JSON report's SA, anomaly and flow sections (same field names as
/// docs/report-format.md), plus totals from the stats history. Opens the file read-only;
/// works while another netscope writes it. Throws std::runtime_error with a clear message
/// when the file is missing, not SQLite, or not a NetScope database.
[[nodiscard]] nlohmann::json report_from_database(const std::string& path, std::size_t max_anomalies = 100000);

/// The human-readable form of report_from_database().
void write_database_text(const nlohmann::json& doc, std::FILE* out);

}  // namespace netscope::control
