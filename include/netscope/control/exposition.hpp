// Prometheus text exposition format 0.0.4, written exactly: HELP/TYPE lines, escaping of
// HELP text and label values, exact integers, stable ordering. No DPDK, no globals.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netscope::control {

enum class MetricType { counter, gauge, untyped, summary };

/// One label: name (validated) and value (any UTF-8, escaped on output).
using Label = std::pair<std::string, std::string>;

/// Builds one /metrics page. Families are written sorted by name; samples of a family in
/// the order they were added. Not thread-safe; build one per scrape.
class Exposition {
 public:
  /// Declares a family. Throws std::invalid_argument for an invalid or duplicate name, a
  /// counter whose name does not end in "_total", or an empty help text.
  void family(const std::string& name, const std::string& help, MetricType type);

  /// Adds a sample to family `name` (declared before). Throws std::invalid_argument for an
  /// undeclared family, an invalid or repeated label name, or a repeated label set.
  void sample(const std::string& name, const std::vector<Label>& labels, std::uint64_t value);
  void sample(const std::string& name, const std::vector<Label>& labels, double value);

  /// Adds one summary to family `name` (type summary): a sample per (quantile, value) with
  /// a "quantile" label added to `labels`, then NAME_sum and NAME_count. Throws as sample().
  void summary(const std::string& name, const std::vector<Label>& labels,
               const std::vector<std::pair<double, double>>& quantiles, double sum, std::uint64_t count);

  /// The page, ending with a newline (empty when no family was declared).
  [[nodiscard]] std::string text() const;

  /// Content-Type of the page.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Family {
    std::string help;
    MetricType type = MetricType::untyped;
    std::vector<std::string> lines;   ///< rendered samples
    std::set<std::string> label_sets;  ///< rendered label blocks, for duplicate checks
  };
  void add(const std::string& name, const std::vector<Label>& labels, const std::string& value);
  std::map<std::string, Family> families_;
};

/// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
[[nodiscard]] bool valid_metric_name(std::string_view s) noexcept;
/// True for a valid label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__".
[[nodiscard]] bool valid_label_name(std::string_view s) noexcept;
/// Escapes a label value: backslash, double quote and line feed.
[[nodiscard]] std::string escape_label_value(std::string_view s);
/// Escapes HELP text: backslash and line feed.
[[nodiscard]] std::string escape_help(std::string_view s);
/// Sample value text: exact integers, shortest round-trip doubles, NaN, +Inf, -Inf.
[[nodiscard]] std::string format_value(double v);

}  // namespace netscope::control
