// SPDX-License-Identifier: Apache-2.0
//
// COPY coll FROM 'file.jsonl' [(ON_ERROR skip|stop)] and COPY coll TO 'file.jsonl'.
//
// FROM is a bulk load of JSON lines in the entity shape of phenix/json.h. Parsing is the
// expensive, embarrassingly parallel part, so a LinePipeline runs it on every core: whichever
// worker is free reads the next ~1 MiB chunk of whole lines (under a mutex, so chunks queue in
// file order), then parses and pre-validates that chunk's lines on its own. The statement's thread
// consumes the chunks in order, groups entities into WriteBatches of upserts and writes them;
// the engine's builder thread indexes the vectors in the background.
//
// Edges may point at entities that come later in the file, but the engine refuses an edge whose
// target does not exist when its batch commits. So an entity with an edge whose target is not
// loaded yet by this COPY (a hash set of ids) is written without edges and its edge list is
// remembered; after the file is read, those lists are written with WriteBatch::ReplaceEdges,
// which leaves vectors (and so the vector index) and metadata alone. (Writing the known-target
// edges at once would write them twice, with a deletion in between.) Targets still unknown then
// (in the database before the COPY, or another collection) are checked with Database::Get.
//
// Errors name the file's line. COPY is not one transaction (it may load far more than a
// transaction may buffer), so under ON_ERROR stop the file is checked whole before anything is
// written, and a load stopped while writing (^C, a full disk, a crash) is completed by running the
// same COPY again (class CopyFrom; docs/decisions/0010-copy-check-then-write.md). An id repeated
// in the file is a bad line.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include <phenix/json.h>
#include <phenix/limits.h>
#include <phenix/write_batch.h>

#include "common/utf8.h"
#include "document/json.h"
#include "engine/validation.h"
#include "query/exec.h"

namespace phenix::query {
namespace {

using Clock = std::chrono::steady_clock;

// A chunk is this many bytes of whole lines (more if one line is longer).
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
// Chunks read ahead of the consumer, per worker.
constexpr std::size_t kChunksPerWorker = 4;
// The longest line accepted: an entity at the batch byte limit.
constexpr std::size_t kMaxLineBytes = limits::kMaxBatchBytes;
// A batch is written at this many entities or this many bytes of JSON, whichever comes first
// (far below limits::kMaxBatchBytes even for wide vectors).
constexpr std::size_t kBatchEntities = 2000;
constexpr std::size_t kBatchJsonBytes = std::size_t{16} << 20;
// ReplaceEdges batches stop at this many entities or edges, whichever comes first. Larger than
// the entity batches (up to 2,000 entities were ~16k edges): the engine sorts a batch's keys
// before they reach the memtable, and the closer together a batch's edge keys lie, the cheaper
// each insert; popular targets are looked up once per batch; fewer commits and syncs. Not
// larger: a batch holds the key locks of its sources and targets (nearly every stripe) while it
// commits, and 100,000 edges measured no faster than 50,000 on the medium kit.
constexpr std::size_t kEdgeBatchEntities = 10000;
constexpr std::size_t kBatchEdges = 50000;
// Lines whose reasons a skipping COPY reports.
constexpr std::size_t kMaxReportedSkips = 10;
constexpr auto kProgressInterval = std::chrono::seconds(1);
constexpr std::size_t kMaxWorkers = 64;
// Threads writing the edges of entities that pointed at later lines.
constexpr std::size_t kMaxEdgeWriters = 8;

std::string ErrnoText(int error) {
    return std::generic_category().message(error);
}

double SecondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A file descriptor as a ByteSource.
class FdSource final : public ByteSource {
  public:
    explicit FdSource(int fd) : fd_(fd) {}
    Result<std::size_t> Read(char* buffer, std::size_t size) override {
        ssize_t num_read = 0;
        do {
            num_read = ::read(fd_, buffer, size);
        } while (num_read < 0 && errno == EINTR);
        if (num_read < 0) {
            return Status::IOError(ErrnoText(errno));
        }
        return static_cast<std::size_t>(num_read);
    }

  private:
    int fd_;
};

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

bool IsBlank(std::string_view line) {
    return line.find_first_not_of(" \t\r\v\f") == std::string_view::npos;
}

// What the lines of a file are checked against before they reach a batch, so that the engine
// rarely rejects a batch (a rejected batch must be retried line by line to name the line).
struct LineRules {
    std::optional<std::uint32_t> dimension;
    Metric metric = Metric::kL2;
    std::string tenant;
};

// The engine's validation of one line (engine/validation.cc, all but the metadata, which the
// parser normalized under its limits already), so that the check of the whole file before
// writing (ON_ERROR stop) leaves the engine nothing to refuse in the write pass.
Status PreValidate(Entity& entity, const LineRules& rules) {
    return engine::ValidateEntityExceptMetadata(entity, rules.tenant, rules.dimension,
                                                rules.metric);
}

// ---- fast path for the usual line shape ---------------------------------------------------
//
// EntityFromJson builds a JSON DOM, which for a vector line means a node and a strtod per
// component. FastEntity reads {"id": "...", "vector": [...], "metadata": {...}, "edges": [...]}
// directly: the id without escapes or non-ASCII bytes, vector components with from_chars (the
// same double -> float conversion as EntityFromJson), metadata minified by the document module
// (simdjson), edges in the shape EntityToJson writes (FastEdges). Anything else (other keys,
// escapes, edge properties, malformed input) returns nullopt and the line goes through
// EntityFromJson, which accepts the same lines and produces the error messages.

class FastReader {
  public:
    explicit FastReader(std::string_view text) : text_(text) {}

    void SkipSpace() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\r' || text_[pos_] == '\n')) {
            ++pos_;
        }
    }
    bool Consume(char c) {
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    [[nodiscard]] bool AtEnd() {
        SkipSpace();
        return pos_ == text_.size();
    }
    bool ConsumeNull() {
        SkipSpace();
        if (text_.substr(pos_, 4) == "null") {
            pos_ += 4;
            return true;
        }
        return false;
    }
    [[nodiscard]] char Peek() {
        SkipSpace();
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }

    // A string of printable ASCII without escapes.
    std::optional<std::string_view> PlainString() {
        if (!Consume('"')) {
            return std::nullopt;
        }
        const std::size_t start = pos_;
        while (pos_ < text_.size()) {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                return text_.substr(start, pos_++ - start);
            }
            if (c == '\\' || c < 0x20 || c >= 0x80) {
                return std::nullopt;
            }
            ++pos_;
        }
        return std::nullopt;
    }

    // A JSON number (strict grammar), as a double.
    std::optional<double> Number() {
        SkipSpace();
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
                ++pos_;
            }
            return pos_ - from;
        };
        if (pos_ < text_.size() && text_[pos_] == '-') {
            ++pos_;
        }
        const std::size_t int_start = pos_;
        const std::size_t num_int_digits = digits();
        if (num_int_digits == 0 || (num_int_digits > 1 && text_[int_start] == '0')) {
            return std::nullopt;
        }
        bool is_integer = true;
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            is_integer = false;
            if (digits() == 0) {
                return std::nullopt;
            }
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            is_integer = false;
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
                ++pos_;
            }
            if (digits() == 0) {
                return std::nullopt;
            }
        }
        double value = 0;
        const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
        if (ec != std::errc() || end != text_.data() + pos_) {
            return std::nullopt;
        }
        // EntityFromJson reads "-0" as the integer 0: + 0.0 turns -0.0 into 0.0 as well.
        return is_integer ? value + 0.0 : value;
    }

    // The raw text of the object or array starting here (brackets matched outside strings; the
    // content is validated by whoever parses it).
    std::optional<std::string_view> Composite() {
        SkipSpace();
        const std::size_t start = pos_;
        int depth = 0;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') {
                while (pos_ < text_.size() && text_[pos_] != '"') {
                    pos_ += text_[pos_] == '\\' ? std::size_t{2} : std::size_t{1};
                }
                ++pos_;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return text_.substr(start, pos_ - start);
                }
            } else if (depth == 0) {
                return std::nullopt;
            }
        }
        return std::nullopt;
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// The edges array in the shape EntityToJson writes: objects with string "label", "target" and
// "collection" (no escapes), a number "weight" and "properties": null. Anything else (other
// keys, a repeated key, properties, escapes) returns false and the caller falls back to
// EntityFromJson, which reads what it reads and words the errors.
bool FastEdges(FastReader& in, std::vector<Edge>& edges) {
    if (!in.Consume('[')) {
        return false;
    }
    if (in.Consume(']')) {
        return true;
    }
    do {
        if (!in.Consume('{')) {
            return false;
        }
        Edge& edge = edges.emplace_back();
        bool has_label = false;
        bool has_target = false;
        bool has_collection = false;
        bool has_weight = false;
        bool has_properties = false;
        if (!in.Consume('}')) {
            do {
                const auto key = in.PlainString();
                if (!key || !in.Consume(':')) {
                    return false;
                }
                std::string* text = nullptr;
                if (*key == "label" && !has_label) {
                    has_label = true;
                    text = &edge.label;
                } else if (*key == "target" && !has_target) {
                    has_target = true;
                    text = &edge.target_id;
                } else if (*key == "collection" && !has_collection) {
                    has_collection = true;
                    text = &edge.target_collection;
                } else if (*key == "weight" && !has_weight) {
                    has_weight = true;
                    const auto weight = in.Number();
                    if (!weight) {
                        return false;
                    }
                    edge.weight = *weight;
                } else if (*key == "properties" && !has_properties && in.ConsumeNull()) {
                    has_properties = true;
                } else {
                    return false;
                }
                if (text != nullptr) {
                    const auto value = in.PlainString();
                    if (!value) {
                        return false;
                    }
                    text->assign(*value);
                }
            } while (in.Consume(','));
            if (!in.Consume('}')) {
                return false;
            }
        }
        if (!has_label || !has_target) {
            return false;
        }
    } while (in.Consume(','));
    return in.Consume(']');
}

std::optional<Entity> FastEntity(std::string_view line) {
    FastReader in(line);
    if (!in.Consume('{')) {
        return std::nullopt;
    }
    Entity entity;
    bool has_id = false;
    bool has_vector = false;
    bool has_metadata = false;
    bool has_edges = false;
    if (in.Consume('}')) {
        return std::nullopt;  // no id: the slow path says so
    }
    do {
        const auto key = in.PlainString();
        if (!key || !in.Consume(':')) {
            return std::nullopt;
        }
        if (*key == "id" && !has_id) {
            has_id = true;
            const auto id = in.PlainString();
            if (!id) {
                return std::nullopt;
            }
            entity.id = *id;
        } else if (*key == "vector" && !has_vector) {
            has_vector = true;
            if (in.ConsumeNull()) {
                continue;
            }
            if (!in.Consume('[')) {
                return std::nullopt;
            }
            if (!in.Consume(']')) {
                do {
                    const auto value = in.Number();
                    if (!value) {
                        return std::nullopt;
                    }
                    entity.vector.push_back(static_cast<float>(*value));
                } while (in.Consume(','));
                if (!in.Consume(']')) {
                    return std::nullopt;
                }
            }
        } else if (*key == "metadata" && !has_metadata) {
            has_metadata = true;
            if (in.ConsumeNull()) {
                continue;
            }
            if (in.Peek() != '{') {
                return std::nullopt;
            }
            const auto raw = in.Composite();
            if (!raw) {
                return std::nullopt;
            }
            auto normalized =
                document::NormalizeJsonObject(*raw, limits::kMaxMetadataBytes, "metadata");
            if (!normalized.ok()) {
                return std::nullopt;
            }
            entity.metadata = std::move(*normalized);
        } else if (*key == "edges" && !has_edges) {
            has_edges = true;
            if (in.ConsumeNull()) {
                continue;
            }
            if (!FastEdges(in, entity.edges)) {
                return std::nullopt;
            }
        } else {
            return std::nullopt;
        }
    } while (in.Consume(','));
    if (!in.Consume('}') || !in.AtEnd() || !has_id) {
        return std::nullopt;
    }
    return entity;
}

// One non-blank line, parsed.
struct ParsedLine {
    std::size_t line_number = 0;
    std::size_t json_bytes = 0;
    Result<Entity> entity;
};

// Whole lines of the file, read in order, parsed by a worker.
struct Chunk {
    std::string text;
    std::size_t first_line = 0;  // number of the first line of `text` (1-based)
    Status read_status;          // a read error or an over-long line: ends the file
    bool is_last = false;
    bool is_parsed = false;  // guarded by LinePipeline::mu_
    std::vector<ParsedLine> lines;
};

// Reads and parses a JSON-lines file on `num_workers` threads; Next() hands the chunks out in
// file order. Thread-safe: the workers and the consuming thread share it; Next()/Pop() are for one
// consumer. The destructor stops and joins the workers.
//
// Lock order: read_mu_ before mu_.
class LinePipeline {
  public:
    LinePipeline(ByteSource& source, LineRules rules, std::size_t num_workers)
        : source_(source), rules_(rules), max_in_flight_(num_workers * kChunksPerWorker) {
        workers_.reserve(num_workers);
        for (std::size_t idx = 0; idx < num_workers; ++idx) {
            // The query module has no Env executor to borrow threads from; these are joined
            // by the destructor, never detached.
            workers_.emplace_back([this](const std::stop_token& stop) { Work(stop); });
        }
    }

    ~LinePipeline() {
        for (auto& worker : workers_) {
            worker.request_stop();
        }
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        space_cv_.notify_all();
        workers_.clear();  // joins
    }

    LinePipeline(const LinePipeline&) = delete;
    LinePipeline& operator=(const LinePipeline&) = delete;
    LinePipeline(LinePipeline&&) = delete;
    LinePipeline& operator=(LinePipeline&&) = delete;

    // The next chunk in file order, once parsed. Valid until Pop().
    Chunk& Next() {
        std::unique_lock lock(mu_);
        parsed_cv_.wait(lock, [&] { return !queue_.empty() && queue_.front()->is_parsed; });
        return *queue_.front();
    }

    void Pop() {
        {
            std::lock_guard lock(mu_);
            queue_.pop_front();
        }
        space_cv_.notify_one();
    }

  private:
    void Work(const std::stop_token& stop) {
        while (!stop.stop_requested()) {
            Chunk* chunk = nullptr;
            {
                std::unique_lock read_lock(read_mu_);
                if (at_end_) {
                    return;
                }
                {
                    std::unique_lock lock(mu_);
                    space_cv_.wait(lock,
                                   [&] { return stopping_ || queue_.size() < max_in_flight_; });
                    if (stopping_) {
                        return;
                    }
                }
                auto owned = ReadChunkLocked();
                chunk = owned.get();
                std::lock_guard lock(mu_);
                queue_.push_back(std::move(owned));
            }
            if (chunk->read_status.ok()) {
                Parse(*chunk);
            }
            {
                std::lock_guard lock(mu_);
                chunk->is_parsed = true;
            }
            parsed_cv_.notify_all();
        }
    }

    // Reads whole lines (all that is left at the end of the file). REQUIRES(read_mu_).
    std::unique_ptr<Chunk> ReadChunkLocked() {
        auto chunk = std::make_unique<Chunk>();
        chunk->first_line = next_line_;
        std::string& text = chunk->text;
        text = std::move(carry_);
        carry_.clear();
        for (;;) {
            const std::size_t old_size = text.size();
            text.resize(old_size + kChunkBytes);
            Result<std::size_t> num_read = source_.Read(text.data() + old_size, kChunkBytes);
            if (!num_read.ok()) {
                text.resize(old_size);
                chunk->read_status = Status(num_read.status().code(),
                                            "reading after line " + std::to_string(next_line_ - 1) +
                                                ": " + num_read.status().message());
                chunk->is_last = at_end_ = true;
                // The whole lines before the error are still loaded.
                break;
            }
            text.resize(old_size + std::min(*num_read, kChunkBytes));
            if (*num_read == 0) {
                chunk->is_last = at_end_ = true;
                break;
            }
            const std::size_t last_newline = text.rfind('\n');
            if (last_newline != std::string::npos && last_newline >= old_size) {
                carry_.assign(text, last_newline + 1);
                text.resize(last_newline + 1);
                break;
            }
            if (text.size() > kMaxLineBytes) {
                chunk->read_status = Status::InvalidArgument(
                    "line " + std::to_string(next_line_) + " is longer than " +
                    std::to_string(kMaxLineBytes) + " bytes");
                chunk->is_last = at_end_ = true;
                text.clear();
                break;
            }
        }
        next_line_ += static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        return chunk;
    }

    void Parse(Chunk& chunk) const {
        std::string_view rest = chunk.text;
        std::size_t line_number = chunk.first_line;
        while (!rest.empty()) {
            const std::size_t end = rest.find('\n');
            std::string_view line = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            if (!IsBlank(line)) {
                ParsedLine& parsed = chunk.lines.emplace_back();
                parsed.line_number = line_number;
                parsed.json_bytes = line.size();
                if (auto fast = FastEntity(line)) {
                    parsed.entity = std::move(*fast);
                } else {
                    parsed.entity = EntityFromJson(line);
                }
                if (parsed.entity.ok()) {
                    if (Status valid = PreValidate(*parsed.entity, rules_); !valid.ok()) {
                        parsed.entity = std::move(valid);
                    }
                }
            }
            ++line_number;
        }
    }

    // Immutable after construction.
    ByteSource& source_;  // read under read_mu_
    const LineRules rules_;
    const std::size_t max_in_flight_;

    // The file position. GUARDED_BY(read_mu_)
    std::mutex read_mu_;
    std::string carry_;  // the partial line after the last chunk's final newline
    std::size_t next_line_ = 1;
    bool at_end_ = false;

    // The chunks between the readers and the consumer. GUARDED_BY(mu_)
    std::mutex mu_;
    std::condition_variable parsed_cv_;  // a chunk was parsed
    std::condition_variable space_cv_;   // the queue shrank, or stopping_
    std::deque<std::unique_ptr<Chunk>> queue_;
    bool stopping_ = false;

    std::vector<std::jthread> workers_;  // last: joined before the members above go away
};

// The ids one COPY has seen, each with the line it came from: an open-addressing hash set over
// one byte arena. (With a std::unordered_set<std::string>, a node per id, the lookups of every
// edge's target were 5% of a graph load's CPU.) Confined to the statement's thread.
class IdSet {
  public:
    // Adds `id` from line `line_number` (> 0); returns 0, or the line of an earlier `id` (which
    // is kept).
    std::size_t Insert(std::string_view id, std::size_t line_number) {
        if ((num_ids_ + 1) * 2 > slots_.size()) {
            Grow();
        }
        const std::size_t hash = std::hash<std::string_view>{}(id);
        Slot& slot = slots_[FindSlot(id, hash)];
        if (slot.line_number != 0) {
            return slot.line_number;
        }
        slot = {
            .hash = hash, .offset = bytes_.size(), .size = id.size(), .line_number = line_number};
        bytes_.append(id);
        ++num_ids_;
        return 0;
    }

    [[nodiscard]] bool Contains(std::string_view id) const {
        if (slots_.empty()) {
            return false;
        }
        return slots_[FindSlot(id, std::hash<std::string_view>{}(id))].line_number != 0;
    }

  private:
    struct Slot {
        std::size_t hash = 0;
        std::size_t offset = 0;  // of the id in bytes_
        std::size_t size = 0;
        std::size_t line_number = 0;  // 0: the slot is free
    };

    // The slot holding `id`, or the empty slot where it would go (linear probing; the table is
    // at most half full).
    [[nodiscard]] std::size_t FindSlot(std::string_view id, std::size_t hash) const {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t idx = hash & mask;; idx = (idx + 1) & mask) {
            const Slot& slot = slots_[idx];
            if (slot.line_number == 0 ||
                (slot.hash == hash && slot.size == id.size() &&
                 std::string_view(bytes_).substr(slot.offset, slot.size) == id)) {
                return idx;
            }
        }
    }

    void Grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(std::max<std::size_t>(1024, old.size() * 2), Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const Slot& slot : old) {
            if (slot.line_number == 0) {
                continue;
            }
            std::size_t idx = slot.hash & mask;
            while (slots_[idx].line_number != 0) {
                idx = (idx + 1) & mask;
            }
            slots_[idx] = slot;
        }
    }

    std::vector<Slot> slots_;  // a power of two in size
    std::string bytes_;
    std::size_t num_ids_ = 0;
};

std::size_t NumWorkers() {
    const std::size_t cores = std::thread::hardware_concurrency();
    return std::clamp<std::size_t>(cores, 1, kMaxWorkers);
}

// One COPY ... FROM. Confined to the statement's thread.
//
// Under ON_ERROR stop (the default) Run reads the file twice: CheckFile parses every line and
// checks it (JSON, id, vector, edges, an id repeated in the file) and every edge target (a line
// of the file, or an entity in the database) without writing anything, so that a file that
// would stop the load writes nothing (docs/decisions/0010-copy-check-then-write.md). Then the
// write pass. Under ON_ERROR skip there is one pass: a bad line is skipped wherever it is; so is
// there for a file that cannot be read twice (a pipe, a device).
//
// What the write pass leaves when it stops (^C, a full disk, a crash) can be completed by running
// the same COPY again: every line upserts, and an entity whose line is written while the
// collection is not empty is written with every edge whose target exists then (so a re-run, or
// any re-load, never leaves an existing entity without its edges to existing entities), its
// edges to entities that do not exist yet following in the late-edge pass.
class CopyFrom {
  public:
    // `source_name` names the source in errors: "file 'docs.jsonl'", "the request body".
    CopyFrom(ExecContext& ctx, CollectionRef ref, std::string source_name, bool skip_errors)
        : ctx_(ctx),
          ref_(std::move(ref)),
          source_name_(std::move(source_name)),
          skip_errors_(skip_errors),
          start_(Clock::now()),
          last_progress_(start_) {}

    // Loads `source`. `rewind` (empty: the source cannot be read twice) starts it over for the
    // write pass after the check pass of ON_ERROR stop.
    Result<QueryResult> Run(ByteSource& source, const CollectionInfo& info,
                            const std::function<Status()>& rewind) {
        const LineRules rules{
            .dimension = info.spec.dimension, .metric = info.spec.metric, .tenant = ref_.tenant};
        // Exact (CollectionInfo::num_entities). Entities another session writes while this COPY
        // runs are found by ExistsInDatabase for targets in other collections only.
        is_collection_empty_ = info.num_entities == 0;
        // A source that cannot be read twice (a pipe, a device, a request body) is loaded in one
        // pass, as before the check existed.
        if (!skip_errors_ && rewind) {
            PHENIX_RETURN_IF_ERROR(CheckFile(source, rules));
            if (Status rewound = rewind(); !rewound.ok()) {
                return Fail(rewound, 0);
            }
            num_lines_ = 0;
        }
        phase_ = Phase::kWrite;
        {
            LinePipeline pipeline(source, rules, NumWorkers());
            for (;;) {
                Chunk& chunk = pipeline.Next();
                // One span per chunk when traced (ExecutionObserver): its lines' writes.
                StageTimer chunk_stage(ctx_.observer, "copy.chunk");
                for (ParsedLine& line : chunk.lines) {
                    num_lines_ = line.line_number;
                    PHENIX_RETURN_IF_ERROR(Add(line));
                }
                chunk_stage.Succeeded();
                if (!chunk.read_status.ok()) {
                    // Not a line that can be skipped: the rest of the file is unreadable.
                    PHENIX_RETURN_IF_ERROR(Flush());
                    return Fail(chunk.read_status, 0);
                }
                const bool is_last = chunk.is_last;
                pipeline.Pop();
                MaybeProgress(/*is_final=*/false);
                if (is_last) {
                    break;
                }
                if (ctx_.Interrupted()) {
                    PHENIX_RETURN_IF_ERROR(Flush());
                    return Status(StatusCode::kCancelled,
                                  "COPY cancelled after line " + std::to_string(num_lines_) + ": " +
                                      std::to_string(num_entities_) + " entities were loaded" +
                                      WithoutLateEdges() +
                                      "; run the same COPY again to finish the load (COPY "
                                      "upserts)");
                }
            }
        }
        PHENIX_RETURN_IF_ERROR(Flush());
        PHENIX_RETURN_IF_ERROR(WriteDeferredEdges());
        MaybeProgress(/*is_final=*/true);
        return MakeResult();
    }

    // What Run did, for QuerySession::CopyFrom: `outcome` is Run's result.
    CopyReport Report(const Result<QueryResult>& outcome) const {
        CopyReport report;
        report.status = outcome.ok() ? Status::Ok() : outcome.status();
        report.entities = num_entities_;
        report.skipped_lines = num_skipped_lines_;
        report.skipped_edges = num_skipped_edges_;
        report.errors = line_errors_;
        if (failed_line_.has_value()) {
            report.errors.push_back(*failed_line_);
        }
        report.message = outcome.ok() ? outcome->message : outcome.status().message();
        return report;
    }

  private:
    enum class Phase : std::uint8_t { kCheck, kWrite, kLateEdges };

    // The out-edges of an entity that was written without (some of) them.
    struct Deferred {
        std::size_t line_number = 0;
        std::string id;
        std::vector<Edge> edges;
        bool is_live = true;  // false once the entity's own write was rejected
    };

    // An edge target that CheckFile had not seen as an id of the file when it met the edge.
    struct Unresolved {
        std::size_t line_number = 0;
        std::string label;
    };

    [[nodiscard]] bool IsOwnCollection(const Edge& edge) const {
        return (edge.target_collection.empty() || edge.target_collection == ref_.name) &&
               (edge.target_tenant.empty() || edge.target_tenant == ref_.tenant);
    }

    [[nodiscard]] bool IsLoadedTarget(const Edge& edge) const {
        return IsOwnCollection(edge) && loaded_ids_.Contains(edge.target_id);
    }

    // "collection\0id" (the tenant is the COPY's: PreValidate refused any other).
    std::string TargetKey(const Edge& edge) const {
        std::string key = edge.target_collection.empty() ? ref_.name : edge.target_collection;
        key.push_back('\0');
        key += edge.target_id;
        return key;
    }

    static Status RepeatedId(std::string_view id, std::size_t first_line) {
        return Status::InvalidArgument("id '" + std::string(id.substr(0, 80)) +
                                       (id.size() > 80 ? "...'" : "'") + " is also on line " +
                                       std::to_string(first_line));
    }

    // The first pass under ON_ERROR stop: every line and every edge target, nothing written.
    Status CheckFile(ByteSource& source, const LineRules& rules) {
        phase_ = Phase::kCheck;
        IdSet ids;
        std::unordered_map<std::string, Unresolved> unresolved;
        {
            LinePipeline pipeline(source, rules, NumWorkers());
            std::string key;
            for (;;) {
                Chunk& chunk = pipeline.Next();
                for (ParsedLine& line : chunk.lines) {
                    num_lines_ = line.line_number;
                    if (!line.entity.ok()) {
                        return Fail(line.entity.status(), line.line_number);
                    }
                    const Entity& entity = *line.entity;
                    if (const std::size_t first = ids.Insert(entity.id, line.line_number);
                        first != 0) {
                        return Fail(RepeatedId(entity.id, first), line.line_number);
                    }
                    for (const Edge& edge : entity.edges) {
                        if (IsOwnCollection(edge) && ids.Contains(edge.target_id)) {
                            continue;
                        }
                        key = TargetKey(edge);
                        if (!unresolved.contains(key)) {
                            unresolved.emplace(key, Unresolved{line.line_number, edge.label});
                        }
                    }
                }
                if (!chunk.read_status.ok()) {
                    return Fail(chunk.read_status, 0);
                }
                const bool is_last = chunk.is_last;
                pipeline.Pop();
                if (is_last) {
                    break;
                }
                if (ctx_.Interrupted()) {
                    return Status(StatusCode::kCancelled,
                                  "COPY cancelled while checking the file, after line " +
                                      std::to_string(num_lines_) + "; nothing was written");
                }
                MaybeCheckProgress();
            }
        }
        // Each target is a line of the file or an entity in the database; the first line (in
        // file order) with one that is neither fails.
        const std::pair<const std::string, Unresolved>* first_missing = nullptr;
        for (const auto& item : unresolved) {
            const std::string& target_key = item.first;
            if (first_missing != nullptr &&
                std::tie(item.second.line_number, target_key) >
                    std::tie(first_missing->second.line_number, first_missing->first)) {
                continue;  // an earlier line decides
            }
            const std::size_t split = target_key.find('\0');
            const std::string_view collection = std::string_view(target_key).substr(0, split);
            const std::string_view id = std::string_view(target_key).substr(split + 1);
            const bool is_own = collection == ref_.name;
            if (is_own && ids.Contains(id)) {
                continue;
            }
            bool exists = false;
            if (!is_own || !is_collection_empty_) {
                Result<bool> found = ExistsInDatabase(target_key);
                if (!found.ok()) {
                    return Fail(found.status(), item.second.line_number);
                }
                exists = *found;
            }
            if (!exists) {
                first_missing = &item;
            }
        }
        if (first_missing != nullptr) {
            const std::string& target_key = first_missing->first;
            const std::size_t split = target_key.find('\0');
            return Fail(MissingTarget(first_missing->second.label, target_key.substr(0, split),
                                      target_key.substr(split + 1)),
                        first_missing->second.line_number);
        }
        return Status::Ok();
    }

    static Status MissingTarget(std::string_view label, std::string_view collection,
                                std::string_view id) {
        return Status::NotFound("edge '" + std::string(label) + "': target entity '" +
                                std::string(id) + "' does not exist in collection '" +
                                std::string(collection) +
                                "' (not in the database and not in the file)");
    }

    // Whether an edge could be written now: its target was loaded by this COPY or exists in
    // the database.
    Result<bool> IsWritableTarget(const Edge& edge) {
        if (IsLoadedTarget(edge)) {
            return true;
        }
        if (IsOwnCollection(edge) && is_collection_empty_) {
            return false;  // nothing in it but what this COPY loaded
        }
        return ExistsInDatabase(TargetKey(edge));
    }

    Status Add(ParsedLine& line) {
        if (!line.entity.ok()) {
            return BadLine(line.line_number, line.entity.status(), /*flush_first=*/true);
        }
        Entity entity = std::move(line.entity).value();
        // First: a self-edge is to a known target.
        if (const std::size_t first = loaded_ids_.Insert(entity.id, line.line_number); first != 0) {
            return BadLine(line.line_number, RepeatedId(entity.id, first), /*flush_first=*/true);
        }
        bool all_writable = true;
        std::vector<bool>& is_writable = is_writable_;
        is_writable.clear();
        for (const Edge& edge : entity.edges) {
            Result<bool> writable = IsWritableTarget(edge);
            if (!writable.ok()) {
                PHENIX_RETURN_IF_ERROR(Flush());
                return Fail(writable.status(), line.line_number);
            }
            is_writable.push_back(*writable);
            all_writable = all_writable && *writable;
        }
        if (!all_writable) {
            Deferred deferred;
            deferred.line_number = line.line_number;
            deferred.id = entity.id;
            // The late pass writes the whole list with ReplaceEdges. Into an empty collection
            // the entity is new: written with no edges now, so that no edge is written twice
            // (and deleted in between). Otherwise it may exist with edges: written now with those
            // of its new edges that can be, so that a COPY stopped before the late pass (or a
            // re-run of it) leaves it with every edge whose target exists.
            std::vector<Edge> now;
            if (is_collection_empty_) {
                deferred.edges = std::move(entity.edges);
            } else {
                deferred.edges = entity.edges;
                for (std::size_t idx = 0; idx < entity.edges.size(); ++idx) {
                    if (is_writable[idx]) {
                        now.push_back(std::move(entity.edges[idx]));
                    }
                }
            }
            entity.edges = std::move(now);
            deferred_by_id_[entity.id] = deferred_.size();
            deferred_.push_back(std::move(deferred));
        }
        batch_bytes_ += line.json_bytes;
        batch_lines_.push_back(line.line_number);
        batch_.Upsert(ref_, std::move(entity));
        if (batch_.size() >= kBatchEntities || batch_bytes_ >= kBatchJsonBytes) {
            return Flush();
        }
        return Status::Ok();
    }

    // A line that cannot be loaded: skipped and counted, or the end of the COPY (after writing
    // the lines before it when `flush_first`).
    Status BadLine(std::size_t line_number, const Status& reason, bool flush_first) {
        if (skip_errors_) {
            ++num_skipped_lines_;
            NoteSkip(line_number, reason.message());
            return Status::Ok();
        }
        if (flush_first) {
            PHENIX_RETURN_IF_ERROR(Flush());
        }
        return Fail(reason, line_number);
    }

    void NoteSkip(std::size_t line_number, std::string_view reason) {
        if (line_errors_.size() < kMaxReportedSkips) {
            line_errors_.push_back({.line = line_number, .message = std::string(reason)});
        }
        if (skip_reasons_.size() < kMaxReportedSkips) {
            skip_reasons_.push_back("line " + std::to_string(line_number) + ": " +
                                    std::string(reason));
        }
    }

    [[nodiscard]] std::string WithoutLateEdges() const {
        return deferred_by_id_.empty() ? std::string()
                                       : " (" + std::to_string(deferred_by_id_.size()) +
                                             " of them without their edges to later lines)";
    }

    // `reason` with the file, the line and what was loaded. `line_number` 0: no line.
    Status Fail(const Status& reason, std::size_t line_number) {
        if (line_number > 0 && !failed_line_.has_value()) {
            failed_line_ = CopyReport::LineError{.line = line_number, .message = reason.message()};
        }
        std::string message =
            (line_number > 0 ? "line " + std::to_string(line_number) + ": " : std::string()) +
            reason.message() + " (" + source_name_ + "; ";
        switch (phase_) {
            case Phase::kCheck:
                message += "nothing was written)";
                break;
            case Phase::kLateEdges:
                message += "all " + std::to_string(num_entities_) +
                           " entities were loaded, but not all of their edges to entities later "
                           "in the file; once the cause is fixed, the same COPY completes the "
                           "load)";
                break;
            case Phase::kWrite:
                message +=
                    std::to_string(num_entities_) + " entities from earlier lines were loaded";
                message += WithoutLateEdges();
                if (line_number > 0) {
                    message +=
                        "; nothing from line " + std::to_string(line_number) + " on was written";
                }
                message += "; once the cause is fixed, the same COPY completes the load)";
                break;
        }
        return {reason.code(), std::move(message)};
    }

    Status Flush() {
        if (batch_.empty()) {
            return Status::Ok();
        }
        Status written = ctx_.db.Write(batch_);
        if (!written.ok() && !IsLineError(written)) {
            // A full disk, an I/O error: no line's fault, so not a skipped line either (and the
            // lines of the batch one by one would only meet it again).
            return Fail(written, batch_lines_.front());
        }
        if (written.ok()) {
            if (phase_ != Phase::kLateEdges) {
                num_entities_ += batch_.size();
            }
            num_edges_ += EdgesOf(batch_);
        } else {
            // Rare (lines are pre-validated): find the offending line(s) one write at a time.
            PHENIX_RETURN_IF_ERROR(RetryOneByOne());
        }
        batch_.Clear();
        batch_lines_.clear();
        batch_bytes_ = 0;
        if (phase_ != Phase::kLateEdges) {
            MaybeProgress(/*is_final=*/false);
        }
        return Status::Ok();
    }

    // Whether the engine refused a write for what its lines hold (then the lines are retried one
    // by one, and a bad one is skipped under ON_ERROR skip), rather than for the state of the
    // database or the disk (ResourceExhausted, IOError, Aborted, ...: the COPY stops).
    static bool IsLineError(const Status& status) {
        return status.code() == StatusCode::kInvalidArgument ||
               status.code() == StatusCode::kNotFound ||
               status.code() == StatusCode::kAlreadyExists;
    }

    Status RetryOneByOne() {
        const auto& ops = batch_.ops();
        for (std::size_t op_idx = 0; op_idx < ops.size(); ++op_idx) {
            WriteBatch single;
            if (ops[op_idx].type == WriteBatch::OpType::kReplaceEdges) {
                single.ReplaceEdges(ref_, ops[op_idx].entity.id, ops[op_idx].entity.edges);
            } else {
                single.Upsert(ref_, ops[op_idx].entity);
            }
            Status written = ctx_.db.Write(single);
            if (!written.ok() && !IsLineError(written)) {
                return Fail(written, batch_lines_[op_idx]);
            }
            if (written.ok()) {
                if (phase_ != Phase::kLateEdges) {
                    ++num_entities_;
                }
                num_edges_ += ops[op_idx].entity.edges.size();
                continue;
            }
            if (phase_ == Phase::kLateEdges) {
                // The entity is loaded; only its edge list is not.
                if (!skip_errors_) {
                    return Fail(written, batch_lines_[op_idx]);
                }
                num_skipped_edges_ += ops[op_idx].entity.edges.size();
                NoteSkip(batch_lines_[op_idx], "edges not written: " + written.message());
                continue;
            }
            // Not loaded: its deferred edges must not be written either.
            if (auto it = deferred_by_id_.find(ops[op_idx].entity.id);
                it != deferred_by_id_.end() &&
                deferred_[it->second].line_number == batch_lines_[op_idx]) {
                deferred_[it->second].is_live = false;
                deferred_by_id_.erase(it);
            }
            PHENIX_RETURN_IF_ERROR(BadLine(batch_lines_[op_idx], written, /*flush_first=*/false));
        }
        return Status::Ok();
    }

    // Whether the entity "collection\0id" (TargetKey) exists in the database; remembered, so
    // each target is looked up once per COPY (targets this COPY loads are never looked up:
    // IsLoadedTarget comes first).
    Result<bool> ExistsInDatabase(const std::string& key) {
        if (auto it = known_targets_.find(key); it != known_targets_.end()) {
            return it->second;
        }
        const std::size_t split = key.find('\0');
        const CollectionRef target{ref_.tenant, key.substr(0, split)};
        Result<Entity> found = ctx_.db.Get(target, key.substr(split + 1));
        // NotFound (also for a missing collection) and InvalidArgument (a malformed id or
        // collection name) both mean that there is no such target.
        if (!found.ok() && !found.status().IsNotFound() && !found.status().IsInvalidArgument()) {
            return found.status();
        }
        known_targets_.emplace(key, found.ok());
        return found.ok();
    }

    // The second pass: the remembered edge lists, now that every line is loaded.
    Status WriteDeferredEdges() {
        phase_ = Phase::kLateEdges;
        const Clock::time_point edges_start = Clock::now();
        if (ctx_.progress && !deferred_by_id_.empty()) {
            ctx_.progress("COPY " + ref_.name + ": " + std::to_string(num_entities_) +
                          " entities written; now the edges of " +
                          std::to_string(deferred_by_id_.size()) +
                          " entities that point at later lines");
        }
        // Resolve everything first, so that a missing target under ON_ERROR stop fails before
        // any edge list is written.
        struct Pending {
            std::size_t deferred_idx;
            std::vector<Edge> edges;
        };
        std::vector<Pending> pending;
        for (std::size_t idx = 0; idx < deferred_.size(); ++idx) {
            Deferred& deferred = deferred_[idx];
            if (!deferred.is_live) {
                continue;
            }
            std::vector<Edge> keep;
            keep.reserve(deferred.edges.size());
            for (Edge& edge : deferred.edges) {
                bool exists = IsLoadedTarget(edge);
                if (!exists) {
                    PHENIX_ASSIGN_OR_RETURN(exists, ExistsInDatabase(TargetKey(edge)));
                }
                if (exists) {
                    keep.push_back(std::move(edge));
                    continue;
                }
                Status missing = MissingTarget(
                    edge.label, edge.target_collection.empty() ? ref_.name : edge.target_collection,
                    edge.target_id);
                if (!skip_errors_) {
                    return Fail(missing, deferred.line_number);
                }
                ++num_skipped_edges_;
                NoteSkip(deferred.line_number, missing.message());
            }
            deferred.edges.clear();
            deferred.edges.shrink_to_fit();
            if (!keep.empty()) {  // the entity was written without edges
                pending.push_back({idx, std::move(keep)});
            }
        }
        // Every entity is written and each appears in one batch at most, so the batches are
        // independent: write them on several threads (Database::Write is thread-safe and
        // concurrent writes proceed in parallel).
        std::vector<EdgeBatch> batches;
        std::size_t batch_edges = 0;
        for (Pending& item : pending) {
            if (batches.empty() || batches.back().batch.size() >= kEdgeBatchEntities ||
                batch_edges >= kBatchEdges) {
                batches.emplace_back();
                batch_edges = 0;
            }
            batch_edges += item.edges.size();
            batches.back().lines.push_back(deferred_[item.deferred_idx].line_number);
            batches.back().batch.ReplaceEdges(ref_, deferred_[item.deferred_idx].id,
                                              std::move(item.edges));
        }
        pending.clear();
        WriteInParallel(batches);
        for (const EdgeBatch& item : batches) {
            if (item.status.ok()) {
                num_late_edges_ += EdgesOf(item.batch);
            }
        }
        late_edge_seconds_ = SecondsSince(edges_start);
        num_edges_ += num_late_edges_;
        // Rejected batches (rare), in file order, one operation at a time to name the lines.
        for (EdgeBatch& rejected : batches) {
            if (rejected.status.ok()) {
                continue;
            }
            batch_ = std::move(rejected.batch);
            batch_lines_ = std::move(rejected.lines);
            PHENIX_RETURN_IF_ERROR(RetryOneByOne());
            batch_.Clear();
            batch_lines_.clear();
        }
        return Status::Ok();
    }

    struct EdgeBatch {
        WriteBatch batch;
        std::vector<std::size_t> lines;  // of each operation
        Status status;
    };

    // Writes `batches`, setting each one's status. The calling thread writes too, and is the only
    // one that reports progress.
    void WriteInParallel(std::vector<EdgeBatch>& batches) {
        if (batches.empty()) {
            return;
        }
        std::atomic<std::size_t> next_batch{0};
        std::atomic<std::size_t> num_written{0};
        const std::size_t total = [&] {
            std::size_t sum = 0;
            for (const EdgeBatch& item : batches) {
                sum += item.batch.size();
            }
            return sum;
        }();
        auto write_some = [&](bool report) {
            for (;;) {
                const std::size_t idx = next_batch.fetch_add(1);
                if (idx >= batches.size()) {
                    return;
                }
                batches[idx].status = ctx_.db.Write(batches[idx].batch);
                num_written.fetch_add(batches[idx].batch.size());
                if (report) {
                    MaybeEdgeProgress(num_written.load(), total);
                }
            }
        };
        const std::size_t num_helpers =
            std::min(NumWorkers(), std::min(kMaxEdgeWriters, batches.size())) - 1;
        std::vector<std::jthread> helpers;  // joined before the counters go away
        helpers.reserve(num_helpers);
        for (std::size_t idx = 0; idx < num_helpers; ++idx) {
            helpers.emplace_back([&] { write_some(/*report=*/false); });
        }
        write_some(/*report=*/true);
    }

    // Whether a progress line is due (about once a second; `force`: now), and if so marks it sent.
    bool ProgressDue(bool force = false) {
        if (!ctx_.progress) {
            return false;
        }
        const auto now = Clock::now();
        if (!force && now - last_progress_ < kProgressInterval) {
            return false;
        }
        last_progress_ = now;
        return true;
    }

    void MaybeCheckProgress() {
        if (!ProgressDue()) {
            return;
        }
        ctx_.progress("COPY " + ref_.name + ": checking the file before writing, " +
                      std::to_string(num_lines_) + " lines");
    }

    void MaybeProgress(bool is_final) {
        if (!ProgressDue(is_final)) {
            return;
        }
        const double seconds = SecondsSince(start_);
        const auto rate = static_cast<std::uint64_t>(
            seconds > 0 ? static_cast<double>(num_entities_) / seconds : 0.0);
        std::string line = "COPY " + ref_.name + ": " + std::to_string(num_lines_) + " lines, " +
                           std::to_string(num_entities_) + " entities";
        if (is_final) {
            char elapsed[32];
            std::snprintf(elapsed, sizeof elapsed, "%.1f", seconds);
            line += " in " + std::string(elapsed) + " s (" + std::to_string(rate) + "/s)";
            if (num_skipped_lines_ > 0) {
                line += ", " + std::to_string(num_skipped_lines_) + " lines skipped";
            }
            line += "; " + std::to_string(num_edges_) + " edges";
            if (num_late_edges_ > 0) {
                std::snprintf(elapsed, sizeof elapsed, "%.2f", late_edge_seconds_);
                line += " (" + std::to_string(num_late_edges_) +
                        " to later lines, written at the end in " + elapsed + " s)";
            }
        } else {
            line += ", " + std::to_string(rate) + "/s";
        }
        ctx_.progress(line);
    }

    void MaybeEdgeProgress(std::size_t done, std::size_t total) {
        if (!ProgressDue()) {
            return;
        }
        ctx_.progress("COPY " + ref_.name + ": edges to later lines, " + std::to_string(done) +
                      "/" + std::to_string(total) + " entities");
    }

    static std::uint64_t EdgesOf(const WriteBatch& batch) {
        std::uint64_t num_edges = 0;
        for (const WriteBatch::Op& op : batch.ops()) {
            num_edges += op.entity.edges.size();
        }
        return num_edges;
    }

    QueryResult MakeResult() const {
        QueryResult result;
        result.affected = num_entities_;
        result.message = "COPY " + std::to_string(num_entities_);
        if (num_skipped_lines_ > 0 || num_skipped_edges_ > 0) {
            std::vector<std::string> parts;
            if (num_skipped_lines_ > 0) {
                parts.push_back(std::to_string(num_skipped_lines_) +
                                (num_skipped_lines_ == 1 ? " line" : " lines") + " skipped");
            }
            if (num_skipped_edges_ > 0) {
                parts.push_back(std::to_string(num_skipped_edges_) +
                                (num_skipped_edges_ == 1 ? " edge" : " edges") + " skipped");
            }
            result.message += " (";
            for (std::size_t idx = 0; idx < parts.size(); ++idx) {
                result.message += (idx > 0 ? ", " : "") + parts[idx];
            }
            result.message += ": ";
            for (std::size_t idx = 0; idx < skip_reasons_.size(); ++idx) {
                result.message += (idx > 0 ? "; " : "") + skip_reasons_[idx];
            }
            if (num_skipped_lines_ + num_skipped_edges_ > skip_reasons_.size()) {
                result.message += "; ...";
            }
            result.message += ")";
        }
        return result;
    }

    // Immutable after construction.
    ExecContext& ctx_;
    const CollectionRef ref_;
    const std::string source_name_;
    const bool skip_errors_;
    const Clock::time_point start_;

    Clock::time_point last_progress_;
    WriteBatch batch_;
    std::vector<std::size_t> batch_lines_;  // the line of each operation of batch_
    std::size_t batch_bytes_ = 0;
    IdSet loaded_ids_;
    std::vector<Deferred> deferred_;
    std::unordered_map<std::string, std::size_t> deferred_by_id_;  // live entries only
    std::unordered_map<std::string, bool> known_targets_;  // TargetKey -> exists (not loaded)
    Phase phase_ = Phase::kCheck;
    std::vector<bool> is_writable_;     // Add's scratch: per edge of the line
    bool is_collection_empty_ = false;  // when the COPY started
    std::size_t num_lines_ = 0;         // the last non-blank line seen
    std::uint64_t num_entities_ = 0;
    std::uint64_t num_skipped_lines_ = 0;
    std::uint64_t num_skipped_edges_ = 0;
    std::uint64_t num_edges_ = 0;       // written, with their entities or at the end
    std::uint64_t num_late_edges_ = 0;  // written at the end (see WriteDeferredEdges)
    double late_edge_seconds_ = 0;
    std::vector<std::string> skip_reasons_;
    std::vector<CopyReport::LineError> line_errors_;    // the first skipped lines
    std::optional<CopyReport::LineError> failed_line_;  // the line that stopped the COPY
};

// `no_follow`: refuse a symbolic link at the temporary file's path (under copy_directory, where a
// link planted there must not lead the write out of the directory).
Result<QueryResult> CopyTo(ExecContext& ctx, const CollectionRef& ref, const std::string& path,
                           bool no_follow) {
    const std::string tmp_path = path + ".tmp";
    const int fd =
        ::open(tmp_path.c_str(),
               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (no_follow ? O_NOFOLLOW : 0), 0666);
    std::FILE* file = fd < 0 ? nullptr : ::fdopen(fd, "wb");
    if (file == nullptr) {
        const int error = errno;
        if (fd >= 0) {
            ::close(fd);
        }
        return Status::IOError("cannot open '" + tmp_path + "' for writing: " + ErrnoText(error));
    }
    auto fail = [&](const Status& status) -> Status {
        if (file != nullptr) {
            std::fclose(file);
            file = nullptr;
        }
        std::remove(tmp_path.c_str());
        return status;
    };
    // One read-only transaction: the file is one snapshot of the collection, whatever commits
    // while it is written.
    Result<std::unique_ptr<Transaction>> snapshot =
        ctx.db.BeginTransaction(TransactionOptions{.read_only = true});
    if (!snapshot.ok()) {
        return fail(snapshot.status());
    }
    const Clock::time_point start = Clock::now();
    Clock::time_point last_progress = start;
    std::uint64_t num_entities = 0;
    ScanOptions options{.start_after = {}, .limit = limits::kMaxScanLimit, .include_edges = true};
    std::string line;
    for (;;) {
        Result<ScanPage> page = (*snapshot)->Scan(ref, options);
        if (!page.ok()) {
            return fail(page.status());
        }
        for (const Entity& entity : page->entities) {
            line = EntityToJson(entity);
            line.push_back('\n');
            if (std::fwrite(line.data(), 1, line.size(), file) != line.size()) {
                return fail(
                    Status::IOError("cannot write '" + tmp_path + "': " + ErrnoText(errno)));
            }
            ++num_entities;
        }
        if (ctx.Interrupted()) {
            return fail(Status(StatusCode::kCancelled,
                               "COPY TO cancelled after " + std::to_string(num_entities) +
                                   " entities; '" + path + "' was not written"));
        }
        if (ctx.progress && Clock::now() - last_progress >= kProgressInterval) {
            last_progress = Clock::now();
            ctx.progress("COPY " + ref.name + " TO '" + path +
                         "': " + std::to_string(num_entities) + " entities");
        }
        if (page->next_start_after.empty()) {
            break;
        }
        options.start_after = std::move(page->next_start_after);
    }
    if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0) {
        return fail(Status::IOError("cannot write '" + tmp_path + "': " + ErrnoText(errno)));
    }
    const int closed = std::fclose(file);
    file = nullptr;
    if (closed != 0) {
        return fail(Status::IOError("cannot write '" + tmp_path + "': " + ErrnoText(errno)));
    }
    if (std::rename(tmp_path.c_str(), path.c_str()) != 0) {
        return fail(Status::IOError("cannot rename '" + tmp_path + "' to '" + path +
                                    "': " + ErrnoText(errno)));
    }
    if (ctx.progress) {
        char elapsed[32];
        std::snprintf(elapsed, sizeof elapsed, "%.1f", SecondsSince(start));
        ctx.progress("COPY " + ref.name + " TO '" + path + "': " + std::to_string(num_entities) +
                     " entities in " + elapsed + " s");
    }
    QueryResult result;
    result.message = "COPY " + std::to_string(num_entities);
    result.affected = num_entities;
    return result;
}

// Whether `path` is `dir` or below it (both absolute and normal, `dir` without a trailing
// separator).
bool IsUnder(const std::filesystem::path& path, const std::filesystem::path& dir) {
    auto dir_it = dir.begin();
    auto path_it = path.begin();
    for (; dir_it != dir.end(); ++dir_it, ++path_it) {
        if (path_it == path.end() || *path_it != *dir_it) {
            return false;
        }
    }
    return true;
}

// The file COPY opens: `path` as given when `copy_directory` is empty; otherwise `path` resolved
// under it (relative paths) and refused with PermissionDenied when it, or a symbolic link on the
// way, leads outside it. For an export the file need not exist: its directory is resolved.
Result<std::string> ResolveCopyPath(std::string_view copy_directory, const std::string& path,
                                    bool is_export) {
    if (copy_directory.empty()) {
        return path;
    }
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path dir = fs::canonical(fs::path(copy_directory), error);
    if (error || !fs::is_directory(dir, error)) {
        return Status::FailedPrecondition(
            "copy_directory '" + std::string(copy_directory) + "' is not a directory" +
            (error ? ": " + error.message() : std::string()) + "; COPY cannot read or write files");
    }
    const Status outside(
        StatusCode::kPermissionDenied,
        "COPY file '" + path + "' is outside copy_directory '" + std::string(copy_directory) +
            "' (the directory COPY may read and write; the shell's --copy-directory)");
    // Lexically first (.. and absolute paths), so that nothing outside is even looked at.
    const fs::path given(path);
    const fs::path lexical = (given.is_absolute() ? given : dir / given).lexically_normal();
    if (!lexical.has_filename() || !IsUnder(lexical, dir) || lexical == dir) {
        return outside;
    }
    // Then with symbolic links resolved: the file itself (FROM) or its directory (TO; the file
    // is replaced by a rename, which does not follow a link at its name).
    const fs::path real = is_export
                              ? fs::canonical(lexical.parent_path(), error) / lexical.filename()
                              : fs::canonical(lexical, error);
    if (error) {
        // A file to load that does not exist is the user's to fix: NotFound (404 over HTTP), not
        // a storage failure.
        std::string message = "cannot open '" + path + "'" + (is_export ? " for writing" : "") +
                              ": " + error.message();
        return !is_export && error == std::errc::no_such_file_or_directory
                   ? Status::NotFound(std::move(message))
                   : Status::IOError(std::move(message));
    }
    if (!IsUnder(real, dir) || real == dir) {
        return outside;
    }
    return real.string();
}

}  // namespace

Result<QueryResult> ExecuteCopy(ExecContext& ctx, const CopyStmt& stmt,
                                std::string_view copy_directory) {
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    const CollectionRef ref = ctx.Ref(stmt.collection);
    if (stmt.file_path.empty()) {
        return ErrorAt(ctx.statement_pos, "COPY needs a file path");
    }
    const bool is_restricted = !copy_directory.empty();
    if (stmt.is_export) {
        if (!stmt.on_error.empty()) {
            return ErrorAt(ctx.statement_pos, "ON_ERROR applies to COPY ... FROM only");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string path,
                                ResolveCopyPath(copy_directory, stmt.file_path, true));
        return CopyTo(ctx, ref, path, is_restricted);
    }
    if (!stmt.on_error.empty() && stmt.on_error != "skip" && stmt.on_error != "stop") {
        return ErrorAt(ctx.statement_pos,
                       "ON_ERROR must be skip or stop, not '" + stmt.on_error + "'");
    }
    if (ctx.db.IsReadOnly()) {
        // Refused before reading a line: with ON_ERROR skip, each write's refusal would
        // otherwise be reported as a skipped line.
        return Status::FailedPrecondition(
            "the database is open read-only (Options::read_only; the shell's --read-only): COPY "
            "... FROM is not allowed (COPY ... TO works); reopen it without read-only to load "
            "data");
    }
    PHENIX_ASSIGN_OR_RETURN(std::string path,
                            ResolveCopyPath(copy_directory, stmt.file_path, false));
    // Under copy_directory the path is resolved: a link swapped in since is refused (ELOOP).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (is_restricted ? O_NOFOLLOW : 0));
    if (fd < 0) {
        const int open_errno = errno;
        std::string message = "cannot open '" + stmt.file_path + "': " + ErrnoText(open_errno);
        return open_errno == ENOENT ? Status::NotFound(std::move(message))
                                    : Status::IOError(std::move(message));
    }
    FdCloser closer(fd);
    CopyFrom copy(ctx, ref, "file '" + stmt.file_path + "'", stmt.on_error == "skip");
    FdSource source(fd);
    // A file that cannot be read twice (a pipe, a device) is loaded in one pass (a directory
    // fails reading it, with an IOError, in the check).
    struct stat file_stat {};
    const bool can_reread =
        ::fstat(fd, &file_stat) != 0 || S_ISREG(file_stat.st_mode) || S_ISDIR(file_stat.st_mode);
    std::function<Status()> rewind;
    if (can_reread) {
        rewind = [fd] {
            if (::lseek(fd, 0, SEEK_SET) != 0) {
                return Status::IOError("cannot read the file again after checking it: " +
                                       ErrnoText(errno));
            }
            return Status::Ok();
        };
    }
    return copy.Run(source, info, rewind);
}

CopyReport ExecuteCopyFrom(ExecContext& ctx, std::string_view collection, ByteSource& source,
                           bool skip_errors, std::string_view source_name) {
    CopyReport report;
    Result<CollectionInfo> info = ctx.db.GetCollection(ctx.Ref(collection));
    if (!info.ok()) {
        report.status = info.status();
        report.message = info.status().message();
        return report;
    }
    if (ctx.db.IsReadOnly()) {
        report.status = Status::FailedPrecondition(
            "the database is open read-only: nothing can be imported; reopen it without "
            "read-only to load data");
        report.message = report.status.message();
        return report;
    }
    CopyFrom copy(ctx, ctx.Ref(collection), std::string(source_name), skip_errors);
    const Result<QueryResult> outcome = copy.Run(source, *info, {});
    return copy.Report(outcome);
}

}  // namespace phenix::query
