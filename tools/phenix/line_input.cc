// SPDX-License-Identifier: Apache-2.0
#include "line_input.h"

#include <histedit.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <csignal>
#include <cstring>
#include <system_error>

namespace phenix::shell {

namespace {

// Set by the SIGINT handler, read and cleared by TakeInterrupt(). A signal handler can only
// communicate through such a flag.
volatile std::sig_atomic_t interrupted = 0;

extern "C" void OnInterrupt(int /*signal*/) {
    interrupted = 1;
}

constexpr int kHistorySize = 1000;

}  // namespace

bool TakeInterrupt() {
    const bool was = interrupted != 0;
    interrupted = 0;
    return was;
}

void InstallInterruptHandler() {
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: a blocking read should return EINTR so that ^C abandons it.
    action.sa_flags = 0;
    sigaction(SIGINT, &action, nullptr);
}

// ---- LineReader ----

Status LineReader::Fill() {
    begin_ = 0;
    end_ = 0;
    while (true) {
        const ssize_t num_read = ::read(fd_, buffer_.data(), buffer_.size());
        if (num_read > 0) {
            end_ = static_cast<std::size_t>(num_read);
            return Status::Ok();
        }
        if (num_read == 0) {
            eof_ = true;
            return Status::Ok();
        }
        if (errno != EINTR) {
            return Status::IOError(std::string("read failed: ") +
                                   std::generic_category().message(errno));
        }
    }
}

Result<std::optional<LineReader::Line>> LineReader::Next() {
    Line line;
    bool has_data = false;
    while (true) {
        if (begin_ == end_) {
            if (eof_) {
                break;
            }
            PHENIX_RETURN_IF_ERROR(Fill());
            continue;
        }
        has_data = true;
        const char* start = buffer_.data() + begin_;
        const std::size_t available = end_ - begin_;
        const void* newline = std::memchr(start, '\n', available);
        const std::size_t taken =
            newline != nullptr ? static_cast<std::size_t>(static_cast<const char*>(newline) - start)
                               : available;
        if (!line.too_long) {
            if (line.text.size() + taken > max_line_bytes_) {
                line.too_long = true;
                std::string().swap(line.text);
            } else {
                line.text.append(start, taken);
            }
        }
        const std::size_t consumed = taken + (newline != nullptr ? 1 : 0);
        begin_ += consumed;
        bytes_read_ += consumed;
        if (newline != nullptr) {
            break;
        }
    }
    if (!has_data) {
        return std::optional<Line>();
    }
    ++line_number_;
    if (!line.text.empty() && line.text.back() == '\r') {
        line.text.pop_back();
    }
    return std::optional<Line>(std::move(line));
}

// ---- Terminal ----

struct Terminal::Impl {
    EditLine* editor = nullptr;
    History* history = nullptr;
    std::string history_path;
    std::string prompt;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    ~Impl() {
        if (editor != nullptr) {
            el_end(editor);
        }
        if (history != nullptr) {
            history_end(history);
        }
    }
};

namespace {

char* PromptCallback(EditLine* editor) {
    void* data = nullptr;
    el_get(editor, EL_CLIENTDATA, &data);
    static char empty_prompt[] = "";
    if (data == nullptr) {
        return empty_prompt;
    }
    return static_cast<std::string*>(data)->data();
}

}  // namespace

Terminal::Terminal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Terminal::~Terminal() = default;

std::unique_ptr<Terminal> Terminal::Open(std::string history_path) {
    // libedit needs the user's character set to edit multibyte (UTF-8) input. Only the shell's
    // thread reads the locale.
    std::setlocale(LC_CTYPE, "");  // NOLINT(concurrency-mt-unsafe): see above
    auto impl = std::make_unique<Impl>();
    impl->history_path = std::move(history_path);
    impl->editor = el_init("phenix", stdin, stdout, stderr);
    impl->history = history_init();
    if (impl->editor == nullptr || impl->history == nullptr) {
        return nullptr;
    }
    HistEvent event;
    history(impl->history, &event, H_SETSIZE, kHistorySize);
    history(impl->history, &event, H_SETUNIQUE, 1);
    if (!impl->history_path.empty()) {
        // A missing or unreadable history file just means an empty history.
        history(impl->history, &event, H_LOAD, impl->history_path.c_str());
    }
    el_set(impl->editor, EL_CLIENTDATA, &impl->prompt);
    el_set(impl->editor, EL_PROMPT, &PromptCallback);
    el_set(impl->editor, EL_EDITOR, "emacs");
    el_set(impl->editor, EL_HIST, history, impl->history);
    // Let libedit restore the terminal around signals (^C, ^Z, window resize).
    el_set(impl->editor, EL_SIGNAL, 1);
    el_set(impl->editor, EL_BIND, "^R", "em-inc-search-prev", nullptr);
    // The user's ~/.editrc, if any, may rebind keys.
    el_source(impl->editor, nullptr);
    return std::unique_ptr<Terminal>(new Terminal(std::move(impl)));
}

Terminal::Input Terminal::ReadLine(const std::string& prompt) {
    impl_->prompt = prompt;
    TakeInterrupt();
    int count = 0;
    errno = 0;
    const char* line = el_gets(impl_->editor, &count);
    const bool was_interrupted = TakeInterrupt();
    if (line == nullptr || count <= 0) {
        if (was_interrupted || (count < 0 && errno == EINTR)) {
            // Discard whatever was typed so that the next prompt starts clean.
            el_reset(impl_->editor);
            return {.event = Event::kInterrupted};
        }
        return {.event = Event::kEndOfInput};
    }
    std::string text(line, static_cast<std::size_t>(count));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    if (was_interrupted) {
        return {.event = Event::kInterrupted};
    }
    return {.event = Event::kLine, .line = std::move(text)};
}

void Terminal::AddHistory(const std::string& line) {
    HistEvent event;
    history(impl_->history, &event, H_ENTER, line.c_str());
    if (!impl_->history_path.empty()) {
        // Failing to save history (read-only home, full disk) must not disturb the session.
        history(impl_->history, &event, H_SAVE, impl_->history_path.c_str());
    }
}

}  // namespace phenix::shell
