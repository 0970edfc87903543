// SPDX-License-Identifier: Apache-2.0
#include "loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/stat.h>

#include <phenix/json.h>
#include <phenix/write_batch.h>

#include "line_input.h"

namespace phenix::shell {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kProgressInterval = std::chrono::seconds(1);

double SecondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Closes a file descriptor on scope exit.
class FdCloser {
  public:
    explicit FdCloser(int fd) : fd_(fd) {}
    ~FdCloser() { ::close(fd_); }
    FdCloser(const FdCloser&) = delete;
    FdCloser& operator=(const FdCloser&) = delete;
    FdCloser(FdCloser&&) = delete;
    FdCloser& operator=(FdCloser&&) = delete;

  private:
    int fd_;
};

// Accumulates one batch and remembers which lines it came from.
class Loader {
  public:
    Loader(Database& db, const CollectionRef& collection, const std::string& path,
           const LoadOptions& options)
        : db_(db),
          collection_(collection),
          path_(path),
          options_(options),
          start_(Clock::now()),
          last_progress_(start_) {}

    ~Loader() { ClearProgress(); }
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;
    Loader(Loader&&) = delete;
    Loader& operator=(Loader&&) = delete;

    Result<LoadStats> Run(int fd) {
        struct stat info {};
        if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
            file_bytes_ = static_cast<std::size_t>(info.st_size);
        }
        LineReader reader(fd);
        while (true) {
            if (options_.is_cancelled && options_.is_cancelled()) {
                return Fail(Status(StatusCode::kCancelled, "interrupted"),
                            "at line " + std::to_string(reader.LineNumber() + 1),
                            reader.LineNumber() + 1);
            }
            auto line = reader.Next();
            if (!line.ok()) {
                const std::size_t read_lines = reader.LineNumber();
                return Fail(line.status(),
                            read_lines == 0 ? "" : "after line " + std::to_string(read_lines),
                            read_lines + 1);
            }
            if (!line->has_value()) {
                break;
            }
            ++stats_.num_lines;
            const std::size_t line_number = reader.LineNumber();
            const LineReader::Line& text = **line;
            if (text.too_long) {
                return Fail(Status::InvalidArgument("the line is longer than " +
                                                    std::to_string(kMaxLineBytes) + " bytes"),
                            "line " + std::to_string(line_number), line_number);
            }
            if (text.text.find_first_not_of(" \t\r\v\f") == std::string::npos) {
                continue;
            }
            auto entity = EntityFromJson(text.text);
            if (!entity.ok()) {
                return Fail(entity.status(), "line " + std::to_string(line_number), line_number);
            }
            if (batch_.empty()) {
                first_batch_line_ = line_number;
            }
            last_batch_line_ = line_number;
            batch_bytes_ += text.text.size();
            batch_lines_.push_back(line_number);
            batch_.Upsert(collection_, std::move(entity).value());
            if (batch_.size() >= options_.batch_entities || batch_bytes_ >= options_.batch_bytes) {
                PHENIX_RETURN_IF_ERROR(Flush());
            }
            MaybeShowProgress(reader.BytesRead());
        }
        PHENIX_RETURN_IF_ERROR(Flush());
        stats_.seconds = SecondsSince(start_);
        return stats_;
    }

  private:
    Status Flush() {
        if (batch_.empty()) {
            return Status::Ok();
        }
        Status written = db_.Write(batch_);
        if (!written.ok()) {
            const std::string where = first_batch_line_ == last_batch_line_
                                          ? "line " + std::to_string(first_batch_line_)
                                          : "lines " + std::to_string(first_batch_line_) + "-" +
                                                std::to_string(last_batch_line_);
            return Fail(written, where + FailedLineHint(written), first_batch_line_);
        }
        stats_.num_entities += batch_.size();
        batch_.Clear();
        batch_lines_.clear();
        batch_bytes_ = 0;
        return Status::Ok();
    }

    // " (line N)" when the error of a rejected batch names its failing operation. Write()
    // reports that only in the message ("batch operation 17 (...): ..."), so this is a
    // best-effort hint; without it the error still names the batch's lines.
    std::string FailedLineHint(const Status& status) const {
        constexpr std::string_view kPrefix = "batch operation ";
        const std::string& message = status.message();
        if (!message.starts_with(kPrefix)) {
            return {};
        }
        std::size_t op_idx = 0;
        const char* begin = message.data() + kPrefix.size();
        auto [end, ec] = std::from_chars(begin, message.data() + message.size(), op_idx);
        if (ec != std::errc() || end == begin || op_idx >= batch_lines_.size()) {
            return {};
        }
        return " (batch operation " + std::to_string(op_idx) + " is line " +
               std::to_string(batch_lines_[op_idx]) + ")";
    }

    // `status` with the file, the place and what was and was not written. `line_number` is the
    // line being processed when the error happened.
    Status Fail(const Status& status, const std::string& where, std::size_t line_number) const {
        const std::size_t first_unwritten = batch_.empty() ? line_number : first_batch_line_;
        std::string message = path_ + (where.empty() ? "" : " ") + where + ": " + status.message() +
                              " (" + std::to_string(stats_.num_entities) +
                              " entities from earlier lines were loaded; nothing from line " +
                              std::to_string(first_unwritten) + " on was written)";
        return Status(status.code(), std::move(message));
    }

    void MaybeShowProgress(std::size_t bytes_read) {
        if (!options_.show_progress) {
            return;
        }
        const auto now = Clock::now();
        if (now - last_progress_ < kProgressInterval) {
            return;
        }
        last_progress_ = now;
        const double seconds = SecondsSince(start_);
        std::string percent;
        if (file_bytes_ > 0) {
            percent =
                std::to_string(std::min<std::size_t>(100, bytes_read * 100 / file_bytes_)) + "%, ";
        }
        std::fprintf(stderr, "\rloading %s: %s%llu entities (%.0f/s)\033[K", path_.c_str(),
                     percent.c_str(), static_cast<unsigned long long>(stats_.num_entities),
                     seconds > 0 ? static_cast<double>(stats_.num_entities) / seconds : 0.0);
        std::fflush(stderr);
        shown_progress_ = true;
    }

    void ClearProgress() {
        if (shown_progress_) {
            std::fputs("\r\033[K", stderr);
            std::fflush(stderr);
        }
    }

    Database& db_;
    const CollectionRef& collection_;
    const std::string& path_;
    const LoadOptions& options_;
    const Clock::time_point start_;
    Clock::time_point last_progress_;
    bool shown_progress_ = false;
    std::size_t file_bytes_ = 0;  // for the progress percentage; 0 if unknown
    WriteBatch batch_;
    std::size_t batch_bytes_ = 0;
    std::size_t first_batch_line_ = 0;
    std::size_t last_batch_line_ = 0;
    std::vector<std::size_t> batch_lines_;  // line of each operation in batch_
    LoadStats stats_;
};

}  // namespace

Result<LoadStats> LoadJsonLines(Database& db, const CollectionRef& collection,
                                const std::string& path, const LoadOptions& options) {
    // Fail on a missing collection before reading anything.
    if (auto info = db.GetCollection(collection); !info.ok()) {
        return info.status();
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Status::IOError("cannot open " + path + ": " +
                               std::generic_category().message(errno));
    }
    FdCloser closer(fd);
    Loader loader(db, collection, path, options);
    return loader.Run(fd);
}

}  // namespace phenix::shell
