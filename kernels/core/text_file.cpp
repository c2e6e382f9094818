#include "kernels/core/text_file.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>

namespace roofbench {

namespace fs = std::filesystem;

bool is_input_file(std::string_view path) {
  std::error_code ec;
  const fs::file_status st = fs::status(fs::path(path), ec);
  return !ec && fs::exists(st) && !fs::is_directory(st);
}

void check_writable(const std::string& path) {
  const fs::path dir = fs::absolute(path).parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error(fmt::format("{}: directory {} does not exist", path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0) throw std::runtime_error(fmt::format("{}: directory is not writable", path));
  if (fs::is_directory(path, ec)) throw std::runtime_error(fmt::format("{}: is a directory", path));
}

void write_text_atomically(const std::string& path, std::string_view text) {
  // A name of its own (pid and a random tag, created exclusively), so two roofbench processes
  // writing the same output cannot interleave in one temporary file: the last rename wins whole.
  std::random_device rd;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 16; ++attempt) {
    tmp = fmt::format("{}.{}.{:08x}.tmp", path, ::getpid(), rd());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  const auto fail = [&](int err) {
    if (fd >= 0) ::close(fd);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    const std::string reason = err != 0 ? std::generic_category().message(err) : "write failed";
    throw std::runtime_error(fmt::format("{}: cannot write {}: {}", path, tmp, reason));
  };
  if (fd < 0) fail(errno);
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : 0);
    done += static_cast<std::size_t>(n);
  }
  const int closed = ::close(fd);
  fd = -1;  // closed either way: fail() must not close it again
  if (closed != 0) fail(errno);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error(fmt::format("{}: cannot write (rename from {} failed): {}", path, tmp, ec.message()));
  }
}

std::string printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size() && out.size() < max_bytes) {
    const auto c = static_cast<unsigned char>(s[i]);
    // Length of the UTF-8 sequence c starts (0: not a valid lead byte).
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (std::size_t j = 1; valid && j < len; ++j) valid = (static_cast<unsigned char>(s[i + j]) >> 6) == 0x2;
    if (valid && (len > 1 || (c >= 0x20 && c != 0x7f))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  if (i < s.size()) out += "...";
  return out;
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' || c == '\r' ? ' ' : c);
  return q + "\"";
}

std::string csv_number(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : std::string{}; }

}  // namespace roofbench
