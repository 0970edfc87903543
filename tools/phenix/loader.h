// SPDX-License-Identifier: Apache-2.0
//
// Bulk loading of a JSON-lines file (one entity per line, the shape of phenix/json.h) into a
// collection with Database::Write, in batches. Each batch is atomic: when a line is invalid
// or a batch is rejected, nothing from that batch is written, earlier batches stay written,
// and the error names the line (or the batch's lines) and how many entities were loaded.
//
// Thread-compatible: one load at a time per caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <phenix/db.h>
#include <phenix/result.h>

namespace phenix::shell {

struct LoadOptions {
    // A batch is written when it reaches this many entities ...
    std::size_t batch_entities = 1000;
    // ... or this many bytes of JSON, whichever comes first (stays well under
    // limits::kMaxBatchBytes for large vectors).
    std::size_t batch_bytes = std::size_t{16} * 1024 * 1024;
    // Print a progress line to stderr about once a second.
    bool show_progress = false;
    // Polled between lines; returning true stops the load with Cancelled.
    std::function<bool()> is_cancelled;
};

struct LoadStats {
    std::uint64_t num_entities = 0;  // written
    std::uint64_t num_lines = 0;     // read, blank lines included
    double seconds = 0;
};

// Upserts every entity of the file at `path` into `collection`. Blank lines are skipped.
// Errors: NotFound if the collection does not exist; IOError if the file cannot be read;
// InvalidArgument naming the line for a malformed line; any error of Database::Write for a
// rejected batch; Cancelled if is_cancelled() said so.
Result<LoadStats> LoadJsonLines(Database& db, const CollectionRef& collection,
                                const std::string& path, const LoadOptions& options);

}  // namespace phenix::shell
