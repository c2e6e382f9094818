// The text files roofbench writes (run, predict, model and score CSVs, profiles): checked
// before any work starts, and written whole or not at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roofbench {

// True when path exists and is not a directory: a regular file, or a pipe such as the
// shell's <(...) or /dev/stdin, which is read like one.
bool is_input_file(std::string_view path);

// Throws std::runtime_error when path's directory is missing or read-only, or path is a
// directory: called before a run, so a typo costs nothing.
void check_writable(const std::string& path);

// Writes text to a temporary file of its own beside path (path.PID.TAG.tmp) and renames it
// over path, so a reader (or a crash, a full disk, or a second roofbench writing the same
// output) never leaves half a file where a good one was. Throws std::runtime_error naming path, the
// temporary file and the reason; the temporary file is removed on failure.
void write_text_atomically(const std::string& path, std::string_view text);

// Text from a user's file or command line, safe to put in a one-line message: control
// characters and bytes that are not UTF-8 become \xNN (so a binary file cannot break the line
// or the terminal), and past max_bytes the rest is cut and replaced by "...".
std::string printable(std::string_view s, std::size_t max_bytes = 40);

// One CSV cell: quoted (with "" escapes) when it holds a comma, a quote or a line break;
// line breaks become spaces so every row stays one line.
std::string csv_field(std::string_view s);
// A number cell: 6 significant digits, empty when absent.
std::string csv_number(const std::optional<double>& v);

}  // namespace roofbench
