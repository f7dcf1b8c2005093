#include "netscope/control/exposition.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace netscope::control {

namespace {

bool alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view type_name(MetricType t) noexcept {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::summary: return "summary";
    case MetricType::untyped: break;
  }
  return "untyped";
}

}  // namespace

bool valid_metric_name(std::string_view s) noexcept {
  if (s.empty() || !(alpha(s[0]) || s[0] == ':')) return false;
  for (char c : s) {
    if (!(alpha(c) || digit(c) || c == ':')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view s) noexcept {
  if (s.empty() || !alpha(s[0]) || s.starts_with("__")) return false;
  for (char c : s) {
    if (!(alpha(c) || digit(c))) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void Exposition::family(const std::string& name, const std::string& help, MetricType type) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  if (type == MetricType::counter && !name.ends_with("_total")) {
    throw std::invalid_argument("counter name must end in _total: " + name);
  }
  if (help.empty()) throw std::invalid_argument("metric without help: " + name);
  Family f;
  f.help = help;
  f.type = type;
  if (!families_.emplace(name, std::move(f)).second) {
    throw std::invalid_argument("duplicate metric family: " + name);
  }
}

void Exposition::add(const std::string& name, const std::vector<Label>& labels, const std::string& value) {
  const auto it = families_.find(name);
  if (it == families_.end()) throw std::invalid_argument("undeclared metric family: " + name);
  std::string block;
  std::set<std::string_view> seen;
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k)) throw std::invalid_argument("invalid label name: " + k);
    if (!seen.insert(k).second) throw std::invalid_argument("repeated label: " + k);
    block += block.empty() ? "{" : ",";
    block += k;
    block += "=\"";
    block += escape_label_value(v);
    block += '"';
  }
  if (!block.empty()) block += '}';
  Family& f = it->second;
  if (!f.label_sets.insert(block).second) {
    throw std::invalid_argument("repeated label set in " + name + ": " + block);
  }
  f.lines.push_back(name + block + ' ' + value);
}

void Exposition::sample(const std::string& name, const std::vector<Label>& labels, std::uint64_t value) {
  add(name, labels, std::to_string(value));
}

void Exposition::sample(const std::string& name, const std::vector<Label>& labels, double value) {
  add(name, labels, format_value(value));
}

void Exposition::summary(const std::string& name, const std::vector<Label>& labels,
                         const std::vector<std::pair<double, double>>& quantiles, double sum, std::uint64_t count) {
  for (const auto& [q, v] : quantiles) {
    std::vector<Label> l = labels;
    l.emplace_back("quantile", format_value(q));
    add(name, l, format_value(v));
  }
  // _sum and _count lines belong to the same family; their label set is checked once.
  add(name, labels, format_value(sum));
  Family& f = families_.at(name);
  f.lines.back().insert(name.size(), "_sum");
  std::string count_line = f.lines.back();
  count_line.replace(name.size(), 4, "_count");
  count_line.replace(count_line.rfind(' ') + 1, std::string::npos, std::to_string(count));
  f.lines.push_back(std::move(count_line));
}

std::string Exposition::text() const {
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + name + ' ' + std::string(type_name(f.type)) + '\n';
    for (const std::string& l : f.lines) {
      out += l;
      out += '\n';
    }
  }
  return out;
}

}  // namespace netscope::control
