// SPDX-License-Identifier: Apache-2.0
//
// How the shell prints results: aligned tables for people, or one JSON document per line (or CSV,
// for PhenixQL results) for programs. Results go to the printer's stream (stdout); errors and
// notices are printed by the caller to stderr.
//
// Thread-compatible: one printer per shell.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/phenixql.h>

namespace phenix::shell {

// kCsv: PhenixQL results as CSV; meta-command messages, which have no CSV form, print their JSON.
enum class OutputFormat : std::uint8_t { kTable, kJson, kCsv };

// A grid of cells printed as an aligned table:
//
//    id | vector     | metadata
//   ----+------------+----------
//    d1 | [0.1, 0.2] | {}
//   (1 row)
class Table {
  public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

    void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

    // The table, with a "(N rows)" footer when `footer` is set.
    [[nodiscard]] std::string Render(bool footer = true) const;

    // The rows added since the last call (which it forgets), aligned to `*widths` (widened,
    // never narrowed, to fit them and the header), after the header when `with_header`: a
    // long result printed chunk by chunk. No footer.
    std::string RenderChunk(std::vector<std::size_t>* widths, bool with_header);

  private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// Makes text safe to show in a terminal: control characters become escapes (\n, \t, \x01).
std::string Printable(std::string_view text);

// A vector for a table cell: all components when short, else the first few and the dimension.
std::string AbbreviateVector(std::span<const float> vector);

// A JSON string literal (quoted and escaped); invalid UTF-8 is replaced.
std::string JsonString(std::string_view text);

// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string CsvField(std::string_view text);

class Printer {
  public:
    Printer(OutputFormat format, std::FILE* out) : format_(format), out_(out) {}

    [[nodiscard]] OutputFormat Format() const { return format_; }

    // A line of text in table format, or `json` (a JSON document) in JSON format.
    void PrintMessage(std::string_view text, std::string_view json);

    // A PhenixQL result. Rows: an aligned table with a "(N rows)" footer; in JSON one line
    // holding an array of row objects (column -> QueryValue::ToJson()); in CSV a header line and
    // the rows (NULL as an empty field). A message ("INSERT 2") is a line in table format only.
    void PrintQueryResult(const QueryResult& result);

    // The same output for a result whose rows arrive while its statement runs
    // (QuerySession::Execute with a RowSink): StartRows with the columns, AddRows as rows come,
    // then FinishRows once the statement ended. JSON and CSV rows are written as they arrive; a
    // table is written in chunks of kTableChunkRows rows, aligned to the widths of the rows
    // before them (a later, wider value widens its column from there on), with one header and
    // the "(N rows)" footer at the end. `ok` false (the statement failed after some rows): no
    // footer, and a JSON array left unclosed, so that a reader cannot take it for the whole
    // result.
    static constexpr std::size_t kTableChunkRows = 1000;
    void StartRows(const std::vector<std::string>& columns);
    void AddRows(const std::vector<std::vector<QueryValue>>& rows);
    void FinishRows(bool ok);

  private:
    void Write(std::string_view text);
    // Messages print their JSON in both JSON and CSV formats.
    [[nodiscard]] bool IsJson() const { return format_ != OutputFormat::kTable; }

    OutputFormat format_;
    std::FILE* out_;
    // The result being streamed (StartRows .. FinishRows).
    std::vector<std::string> columns_;
    Table chunk_{{}};
    std::vector<std::size_t> widths_;
    std::size_t chunk_rows_ = 0;
    std::size_t num_rows_ = 0;
    bool header_written_ = false;
};

}  // namespace phenix::shell
