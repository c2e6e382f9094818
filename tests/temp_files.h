// What a failed or finished write may not leave behind: write_text_atomically's temporary
// files are named path.PID.TAG.tmp beside path.
#pragma once

#include <filesystem>
#include <string>

namespace roofbench::testing {

inline bool temporary_left_beside(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const std::string prefix = path.filename().string() + ".";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".tmp")) return true;
  }
  return false;
}

}  // namespace roofbench::testing
