#include "benchmarks/journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "benchmarks/interrupt.h"
#include "kernels/registry.h"

namespace roofbench {
namespace {

constexpr int kJournalVersion = 1;

// The complete lines of a journal; a last line cut short by a kill is dropped.
std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (in.eof()) break;  // no newline after it: the write was cut short
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json header(const std::vector<std::string>& args) { return {{"journal", kJournalVersion}, {"args", args}}; }

bool belongs_to(const std::string& path, const std::vector<std::string>& args) {
  const std::vector<nlohmann::json> lines = read_lines(path);
  return !lines.empty() && lines.front() == header(args);
}

// One write(2) per line in append mode: a line is either whole in the file or, if the process
// is killed inside the call, cut short at the end, where read_lines drops it.
void append_line(const std::string& path, const nlohmann::json& line) {
  const std::string text = line.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot append to the journal: {}", path, std::strerror(errno)));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(fmt::format("{}: cannot append to the journal: {}", path, std::strerror(saved)));
}

}  // namespace

std::string journal_path(const std::string& output) { return output + ".journal"; }

bool is_supervised_worker() { return std::getenv(kJournalEnv) != nullptr; }

std::optional<Journal> Journal::for_this_worker() {
  const char* path = std::getenv(kJournalEnv);
  if (!path) return std::nullopt;
  return Journal(path);
}

Journal::Journal(std::string path) : path_(std::move(path)) {
  for (const nlohmann::json& line : read_lines(path_)) apply(line);
}

void Journal::apply(const nlohmann::json& line) {
  const auto text = [&](const char* key) { return line.value(key, std::string()); };
  if (line.contains("begin")) {
    open_ = Open{text("begin"), text("step"), line.value("limit_s", 0.0)};
  } else if (line.contains("end")) {
    open_.reset();
  } else if (line.contains("checked")) {
    outcomes_[text("checked")] = {Outcome::checked, ""};
  } else if (line.contains("skipped")) {
    outcomes_[text("skipped")] = {Outcome::skipped, text("reason")};
  } else if (line.contains("failed")) {
    outcomes_[text("failed")] = {Outcome::failed, text("reason")};
    open_.reset();
  } else if (line.contains("rep") && line.contains("s") && line["s"].is_number()) {
    reps_[text("rep")].push_back(line["s"].get<double>());
    canaries_[text("rep")].push_back(line.contains("c") && line["c"].is_number() ? line["c"].get<double>() : 0.0);
    others_[text("rep")].push_back(line.contains("o") && line["o"].is_number() ? line["o"].get<double>() : 0.0);
    waited_[text("rep")].push_back(line.contains("w") && line["w"].is_number() ? line["w"].get<double>() : 0.0);
  } else if (line.contains("record") && line.contains("value")) {
    records_[text("record")] = line["value"];
  }
}

void Journal::append(const nlohmann::json& line) {
  append_line(path_, line);
  apply(line);
}

void Journal::begin(std::string_view job, std::string_view step, double limit_s) {
  append({{"begin", job}, {"step", step}, {"limit_s", limit_s}});
}
void Journal::end(std::string_view job) { append({{"end", job}}); }
void Journal::checked(std::string_view job) { append({{"checked", job}}); }
void Journal::skipped(std::string_view job, std::string_view reason) { append({{"skipped", job}, {"reason", reason}}); }
void Journal::failed(std::string_view job, std::string_view reason) { append({{"failed", job}, {"reason", reason}}); }
void Journal::repetition(std::string_view job, double seconds, double canary_s, double others, double waited) {
  append({{"rep", job}, {"s", seconds}, {"c", canary_s}, {"o", others}, {"w", waited}});
}
void Journal::record(std::string_view key, const nlohmann::json& value) { append({{"record", key}, {"value", value}}); }

std::optional<Journal::Outcome> Journal::outcome(const std::string& job) const {
  const auto it = outcomes_.find(job);
  return it == outcomes_.end() ? std::nullopt : std::optional(it->second);
}

std::vector<double> Journal::repetitions(const std::string& job) const {
  const auto it = reps_.find(job);
  return it == reps_.end() ? std::vector<double>{} : it->second;
}

std::vector<double> Journal::canaries(const std::string& job) const {
  const auto it = canaries_.find(job);
  return it == canaries_.end() ? std::vector<double>{} : it->second;
}

std::vector<double> Journal::others(const std::string& job) const {
  const auto it = others_.find(job);
  return it == others_.end() ? std::vector<double>{} : it->second;
}

std::vector<double> Journal::waited(const std::string& job) const {
  const auto it = waited_.find(job);
  return it == waited_.end() ? std::vector<double>{} : it->second;
}

std::optional<nlohmann::json> Journal::recorded(const std::string& key) const {
  const auto it = records_.find(key);
  return it == records_.end() ? std::nullopt : std::optional(it->second);
}

std::size_t Journal::repetitions_total() const {
  std::size_t n = 0;
  for (const auto& [job, reps] : reps_) n += reps.size();
  return n;
}

void Journal::remove() const {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void test_fault_hook(std::string_view job) {
  const auto matches = [&](const char* var) {
    const char* text = std::getenv(var);
    return text && *text && job.find(text) != std::string_view::npos;
  };
  if (matches("ROOFBENCH_TEST_UNAVAILABLE"))
    throw KernelUnavailable(fmt::format("{}: declined by ROOFBENCH_TEST_UNAVAILABLE", job));
  if (matches("ROOFBENCH_TEST_CRASH")) {
    // The default action, as a crash in a library without sanitizers ends: AddressSanitizer's
    // handler would otherwise report the SIGSEGV and exit with status 1 instead of dying of it.
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
  }
  if (matches("ROOFBENCH_TEST_HANG"))
    for (;;) ::pause();
}

void start_or_resume_journal(const std::string& journal, const std::vector<std::string>& args) {
  if (std::filesystem::exists(journal) && belongs_to(journal, args)) {
    const Journal j(journal);
    fmt::print(stderr, "roofbench: resuming from {}: {} timed repetitions kept (delete it to start afresh)\n", journal,
               j.repetitions_total());
    return;
  }
  if (std::filesystem::exists(journal))
    fmt::print(stderr, "roofbench: {} belongs to another command line: starting afresh\n", journal);
  std::ofstream(journal, std::ios::trunc) << header(args).dump() << "\n";
  if (!std::filesystem::exists(journal)) throw std::runtime_error(fmt::format("{}: cannot write the journal", journal));
}

bool journal_is_empty(const std::string& journal) { return read_lines(journal).size() <= 1; }

}  // namespace roofbench
