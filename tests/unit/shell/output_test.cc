// SPDX-License-Identifier: Apache-2.0
//
// The shell's result printer: a result streamed row batch by row batch (StartRows / AddRows /
// FinishRows) prints what the whole result prints, and a long table is written in chunks with
// one header and one footer.
#include "output.h"

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace phenix::shell {
namespace {

using Rows = std::vector<std::vector<QueryValue>>;

// Everything a printer wrote to its stream, after `print` ran.
template <typename Print>
std::string Capture(OutputFormat format, Print&& print) {
    std::FILE* file = std::tmpfile();
    EXPECT_NE(file, nullptr);
    {
        Printer printer(format, file);
        print(printer);
    }
    std::string out;
    std::rewind(file);
    char buffer[4096];
    std::size_t read = 0;
    while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
        out.append(buffer, read);
    }
    std::fclose(file);
    return out;
}

QueryResult MakeResult(std::size_t num_rows) {
    QueryResult result;
    result.has_rows = true;
    result.columns = {"id", "n"};
    for (std::size_t idx = 0; idx < num_rows; ++idx) {
        result.rows.push_back({QueryValue::String("e" + std::to_string(idx)),
                               QueryValue::Int(static_cast<std::int64_t>(idx))});
    }
    return result;
}

// The rows in batches of `batch`, as a RowSink receives them.
std::string Streamed(OutputFormat format, const QueryResult& result, std::size_t batch,
                     bool ok = true) {
    return Capture(format, [&](Printer& printer) {
        printer.StartRows(result.columns);
        for (std::size_t at = 0; at < result.rows.size(); at += batch) {
            const std::size_t end = std::min(result.rows.size(), at + batch);
            printer.AddRows(Rows(result.rows.begin() + static_cast<std::ptrdiff_t>(at),
                                 result.rows.begin() + static_cast<std::ptrdiff_t>(end)));
        }
        printer.FinishRows(ok);
    });
}

std::string Whole(OutputFormat format, const QueryResult& result) {
    return Capture(format, [&](Printer& printer) { printer.PrintQueryResult(result); });
}

TEST(PrinterStreamTest, StreamedRowsPrintWhatTheWholeResultPrints) {
    for (const OutputFormat format :
         {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kCsv}) {
        for (const std::size_t num_rows : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
            const QueryResult result = MakeResult(num_rows);
            const std::string whole = Whole(format, result);
            ASSERT_FALSE(whole.empty());
            EXPECT_EQ(Streamed(format, result, 3), whole)
                << "format " << static_cast<int>(format) << ", " << num_rows << " rows";
        }
    }
}

TEST(PrinterStreamTest, ALongTableIsWrittenInChunksWithOneHeaderAndOneFooter) {
    const std::size_t num_rows = 2 * Printer::kTableChunkRows + 5;
    const QueryResult result = MakeResult(num_rows);
    const std::string out = Streamed(OutputFormat::kTable, result, 100);
    std::size_t headers = 0;
    for (std::size_t at = out.find(" id "); at != std::string::npos;
         at = out.find(" id ", at + 1)) {
        ++headers;
    }
    EXPECT_EQ(headers, 1u) << out.substr(0, 200);
    EXPECT_NE(out.find("\n e0 "), std::string::npos);
    EXPECT_NE(out.find("\n e" + std::to_string(num_rows - 1) + " "), std::string::npos);
    EXPECT_TRUE(out.ends_with("(" + std::to_string(num_rows) + " rows)\n")) << out.substr(0, 200);
    // Every line of the first chunk is aligned to the first chunk's widths: "e999" fits the
    // column the header and e0..e999 make; later, wider ids ("e1000") widen it from there on.
    EXPECT_NE(out.find("\n e999 | 999\n"), std::string::npos);
    EXPECT_NE(out.find("\n e1000 | 1000\n"), std::string::npos);
}

TEST(PrinterStreamTest, AFailedStatementHasNoFooterAndAnUnclosedJsonArray) {
    const QueryResult result = MakeResult(4);
    const std::string table = Streamed(OutputFormat::kTable, result, 2, /*ok=*/false);
    EXPECT_NE(table.find(" e3 "), std::string::npos) << table;  // the rows printed stay
    EXPECT_EQ(table.find("rows)"), std::string::npos) << table;
    const std::string json = Streamed(OutputFormat::kJson, result, 2, /*ok=*/false);
    EXPECT_NE(json.find("\"e3\""), std::string::npos) << json;
    EXPECT_EQ(json.find(']'), std::string::npos) << json;
}

}  // namespace
}  // namespace phenix::shell
