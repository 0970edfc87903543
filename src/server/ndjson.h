// SPDX-License-Identifier: Apache-2.0
//
// The NDJSON form of POST /v1/query (Accept: application/x-ndjson; docs/server.md "Streaming
// rows"): one JSON value per line, written as the statements run.
//   {"statement":0,"columns":["id","d"]}            header of a row-returning statement
//   ["a",0.12]                                        one line per row, in order
//   {"statement":0,"rows":2}                          end of a row-returning statement
//   {"statement":1,"message":"BEGIN","affected":0}   a statement without rows: this one line
//   {"statement":1,"progress":"COPY docs: ..."}       a progress line of a long statement (COPY,
//                                                     CREATE INDEX, UPDATE, ...), only with
//                                                     ?progress=true; before its result line
//   {"done":{"statements":2}}                         last line of a complete answer
//   {"error":{"code":...,"message":...,"statement":1,"line"?,"column"?}}   ends a failed stream
// A stream without a last "done" or "error" line was cut off.
//
// Pure functions, and NdjsonRowSink, confined to the thread running its statement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/status.h>

#include "server/http_types.h"

namespace phenix::server {

inline constexpr std::string_view kNdjsonContentType = "application/x-ndjson";

/// Whether an Accept header asks for NDJSON (application/x-ndjson, with or without parameters,
/// anywhere in the list).
bool AcceptsNdjson(std::string_view accept);

std::string NdjsonColumnsLine(std::size_t statement, const std::vector<std::string>& columns);
/// Appends one row's line ("[...]\n").
void AppendNdjsonRow(std::string& out, const std::vector<QueryValue>& row);
std::string NdjsonRowsEndLine(std::size_t statement, std::uint64_t num_rows);
std::string NdjsonMessageLine(std::size_t statement, const QueryResult& result);
std::string NdjsonDoneLine(std::size_t num_statements);
/// A progress line (QuerySession::set_progress's text).
std::string NdjsonProgressLine(std::size_t statement, std::string_view progress);
/// The error line; a query error's "line L, column C: ..." gives "line" and "column".
std::string NdjsonErrorLine(const Status& status, std::size_t statement);

/// Writes a statement's header and rows to a ChunkWriter as they come (a batch of rows is one
/// Write, so a batch is sent before the next is produced).
class NdjsonRowSink final : public RowSink {
  public:
    NdjsonRowSink(ChunkWriter& writer, std::size_t statement)
        : writer_(writer), statement_(statement) {}

    Status OnColumns(const std::vector<std::string>& columns) override;
    Status OnRows(std::vector<std::vector<QueryValue>> rows) override;

    [[nodiscard]] bool has_columns() const { return has_columns_; }
    [[nodiscard]] std::uint64_t num_rows() const { return num_rows_; }

  private:
    ChunkWriter& writer_;
    const std::size_t statement_;
    bool has_columns_ = false;
    std::uint64_t num_rows_ = 0;
    std::string scratch_;
};

}  // namespace phenix::server
