// Flow export (docs/flow-export.md): one JSON line or CSV row per flow record. Control side.
#pragma once

#include <cstdio>
#include <string>

#include "netscope/engine/worker.hpp"

namespace netscope::runtime {

class FlowExporter {
 public:
  /// Opens `path` for writing; throws std::runtime_error naming the file.
  FlowExporter(const std::string& path, const std::string& format);
  ~FlowExporter();
  FlowExporter(const FlowExporter&) = delete;
  FlowExporter& operator=(const FlowExporter&) = delete;

  void write(const engine::FlowRecord& r);
  /// Flushes and closes; false on any write error.
  bool close();

 private:
  std::FILE* f_ = nullptr;
  bool csv_ = false;
  bool ok_ = true;
};

}  // namespace netscope::runtime
