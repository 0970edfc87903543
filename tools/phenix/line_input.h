// SPDX-License-Identifier: Apache-2.0
//
// Where the shell's input lines come from: a file or pipe (LineReader, bounded line length) or
// the terminal (Terminal, libedit line editing with a persistent history).
//
// Thread-compatible: each reader is used by the shell's one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <phenix/result.h>

namespace phenix::shell {

// Lines longer than this are reported as too long instead of being buffered; the longest
// valid entity (see phenix/limits.h) is far shorter.
inline constexpr std::size_t kMaxLineBytes = std::size_t{64} * 1024 * 1024;

// Reads '\n'-terminated lines (a trailing '\r' is dropped) from a file descriptor it does not
// own. Reads with read(2), so lines arriving on a pipe are seen as soon as they are complete.
class LineReader {
  public:
    struct Line {
        std::string text;  // empty when too_long
        bool too_long = false;
    };

    explicit LineReader(int fd, std::size_t max_line_bytes = kMaxLineBytes)
        : fd_(fd), max_line_bytes_(max_line_bytes), buffer_(kBufferBytes) {}

    // The next line, nullopt at the end of the input, IOError if reading fails.
    Result<std::optional<Line>> Next();

    // 1-based number of the line Next() returned last.
    [[nodiscard]] std::size_t LineNumber() const { return line_number_; }
    // Bytes consumed so far.
    [[nodiscard]] std::size_t BytesRead() const { return bytes_read_; }

  private:
    static constexpr std::size_t kBufferBytes = std::size_t{64} * 1024;

    Status Fill();

    int fd_;
    std::size_t max_line_bytes_;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
    std::size_t end_ = 0;
    bool eof_ = false;
    std::size_t line_number_ = 0;
    std::size_t bytes_read_ = 0;
};

// Interactive input with line editing (emacs keys, arrows, ^R search) and a history that is
// loaded from and saved to a file. Failing to read or write the history file is not an error.
class Terminal {
  public:
    enum class Event : std::uint8_t { kLine, kInterrupted, kEndOfInput };
    struct Input {
        Event event = Event::kEndOfInput;
        std::string line;
    };

    // `history_path` may be empty for no persistent history.
    static std::unique_ptr<Terminal> Open(std::string history_path);
    ~Terminal();
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    Terminal(Terminal&&) = delete;
    Terminal& operator=(Terminal&&) = delete;

    // Shows `prompt` and reads one line. kInterrupted when ^C abandoned the line.
    Input ReadLine(const std::string& prompt);
    // Adds a line to the history (and the history file).
    void AddHistory(const std::string& line);

  private:
    struct Impl;
    explicit Terminal(std::unique_ptr<Impl> impl);

    std::unique_ptr<Impl> impl_;
};

// Whether SIGINT (^C) arrived since the last call; resets the flag. Only meaningful after
// InstallInterruptHandler().
bool TakeInterrupt();
// Makes ^C set a flag (polled by TakeInterrupt and long commands) instead of ending the process.
void InstallInterruptHandler();

}  // namespace phenix::shell
