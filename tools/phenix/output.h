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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/query.h>
#include <phenix/search.h>
#include <phenix/types.h>

namespace phenix::shell {

// kCsv: PhenixQL results as CSV; the commands, which have no CSV form, print their JSON.
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

// A path for people: `a -[knows]-> b <-[cites]- c` (an arrow against the direction the edge is
// stored in points back). Nodes outside collection `home` are written COLLECTION:ID.
std::string RenderPath(const GraphPath& path, std::string_view home);

class Printer {
  public:
    Printer(OutputFormat format, std::FILE* out) : format_(format), out_(out) {}

    [[nodiscard]] OutputFormat Format() const { return format_; }

    // Entities (get, scan). `next_start_after` is the scan cursor; empty for none.
    void PrintEntities(std::span<const Entity> entities, std::string_view next_hint = {});
    void PrintEdges(std::span<const EdgeRecord> edges);
    void PrintCollections(std::span<const CollectionInfo> collections);
    void PrintCollection(const CollectionInfo& info);
    void PrintTenants(std::span<const std::string> tenants, std::string_view current);
    // A search's hits (with metadata / vector columns when `options` asked for them) and plan;
    // with `explain` also how the filter and graph constraint were evaluated.
    void PrintSearch(const SearchResponse& response, const SearchOptions& options,
                     bool explain = false);
    // `find`: the matching ids (or only their count) and, with `explain`, the filter's plan.
    void PrintFind(const FindResponse& response, const FindOptions& options, bool explain);
    // `indexes NAME`: the metadata indexes and their statistics.
    void PrintIndexes(std::span<const MetadataIndexInfo> indexes);
    // `traverse`: the entities reached, nearest first.
    void PrintTraversal(const TraversalResponse& response);
    // `paths`: one row per path. Nodes of collection `home` are shown by id alone, others as
    // COLLECTION:ID.
    void PrintPaths(const PathsResponse& response, std::string_view home);
    // `shortest`: the path, or "no path from FROM to TO".
    void PrintShortestPath(const std::optional<GraphPath>& path, std::string_view home,
                           std::string_view from, std::string_view to);
    // `index NAME`: the vector index of collection `name`.
    void PrintVectorIndexInfo(std::string_view name, const VectorIndexInfo& info);
    // The result of a successful command with nothing else to show: "OK" / {"ok":true}.
    void PrintOk();
    // A line of text in table format, or `json` (a JSON document) in JSON format.
    void PrintMessage(std::string_view text, std::string_view json);

    // A PhenixQL result. Rows: an aligned table with a "(N rows)" footer; in JSON one line
    // holding an array of row objects (column -> QueryValue::ToJson()); in CSV a header line and
    // the rows (NULL as an empty field). A message ("INSERT 2") is a line in table format only.
    void PrintQueryResult(const QueryResult& result);

  private:
    void Write(std::string_view text);
    // The commands print JSON in both JSON and CSV formats.
    [[nodiscard]] bool IsJson() const { return format_ != OutputFormat::kTable; }

    OutputFormat format_;
    std::FILE* out_;
};

}  // namespace phenix::shell
